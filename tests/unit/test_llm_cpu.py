"""The AMX safeguard of copilot.llm.cpu: detection, the setting, and the real effect on
llama-cpp-python's model parameters (no model is loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.llm.cpu import (
    ENV,
    cpu_has_amx,
    disable_extra_buffers,
    extra_buffers_disabled,
)

AMX_FLAGS = "flags\t\t: fpu vme avx2 avx512f amx_bf16 amx_tile amx_int8\n"
NO_AMX_FLAGS = "flags\t\t: fpu vme avx2 avx512f\n"


def _cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text("processor\t: 0\nmodel name\t: Some CPU\n" + flags, encoding="utf-8")
    return path


def test_amx_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    assert cpu_has_amx(_cpuinfo(tmp_path, AMX_FLAGS))
    assert not cpu_has_amx(_cpuinfo(tmp_path, NO_AMX_FLAGS))
    assert not cpu_has_amx(tmp_path / "missing")  # not Linux: assume no AMX


def test_auto_disables_extra_buffers_only_on_amx_cpus(tmp_path: Path) -> None:
    assert disable_extra_buffers("auto", _cpuinfo(tmp_path, AMX_FLAGS))
    assert not disable_extra_buffers("auto", _cpuinfo(tmp_path, NO_AMX_FLAGS))
    assert disable_extra_buffers("off", _cpuinfo(tmp_path, NO_AMX_FLAGS))
    assert not disable_extra_buffers("on", _cpuinfo(tmp_path, AMX_FLAGS))


def test_a_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "sometimes")
    with pytest.raises(ValueError, match=ENV):
        disable_extra_buffers()


def test_the_context_sets_use_extra_bufts_for_llama_and_restores_it() -> None:
    import llama_cpp.llama_cpp as lib

    assert lib.llama_model_default_params().use_extra_bufts
    with extra_buffers_disabled(True):
        assert not lib.llama_model_default_params().use_extra_bufts
    assert lib.llama_model_default_params().use_extra_bufts
    with extra_buffers_disabled(False):
        assert lib.llama_model_default_params().use_extra_bufts
