"""Keep llama.cpp off its AMX kernels, which crash (SIGSEGV in `ggml_backend_amx_mul_mat`)
on CPUs that report AMX, such as the Xeon machines this project is built and tested on.

llama.cpp puts the weights of a model into "extra" CPU buffer types when the CPU offers them:
the AMX buffer on AMX CPUs, repacked layouts on AVX2/AVX-512 ones. The AMX path faults as soon as
a prompt is long enough to be processed in batches (any real draft prompt), taking the whole
process down: observed with llama-cpp-python 0.3.36 built natively on an Intel Xeon with
amx_tile/amx_int8/amx_bf16. llama.cpp's `llama_model_params.use_extra_bufts` turns those
buffers off, but llama-cpp-python's `Llama()` does not expose it, so `extra_buffers_disabled()`
sets it for the duration of a `Llama()` construction.

`MOMENTS_LLM_EXTRA_BUFFERS` decides: `auto` (default) disables them only on AMX CPUs, so other
machines keep the faster repacked layouts; `off` always disables them; `on` never does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV = "MOMENTS_LLM_EXTRA_BUFFERS"
_PATCH_LOCK = threading.Lock()


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises AMX tiles (Linux; other systems report False)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return "amx_tile" in line.split()
    return False


def disable_extra_buffers(mode: str | None = None, cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether to load models without llama.cpp's extra CPU buffer types (see module doc)."""
    mode = (mode if mode is not None else os.environ.get(ENV, "auto")).strip().lower()
    if mode in ("off", "0", "false", "no"):
        return True
    if mode in ("on", "1", "true", "yes"):
        return False
    if mode != "auto":
        raise ValueError(f"{ENV} must be auto, on or off, not {mode!r}")
    return cpu_has_amx(cpuinfo)


def patch_model_defaults() -> Callable[[], None]:
    """Make llama-cpp-python's model defaults load without extra buffer types; returns the
    function that restores them."""
    import llama_cpp.llama_cpp as lib

    original = lib.llama_model_default_params

    def defaults() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    lib.llama_model_default_params = defaults

    def restore() -> None:
        lib.llama_model_default_params = original

    return restore


@contextmanager
def extra_buffers_disabled(disable: bool | None = None) -> Iterator[None]:
    """Within the block, `Llama()` loads weights without extra buffer types when `disable`
    (default: `disable_extra_buffers()`). Serialised, because it swaps a module attribute."""
    if disable is None:
        disable = disable_extra_buffers()
    if not disable:
        yield
        return
    with _PATCH_LOCK:
        restore = patch_model_defaults()
        try:
            yield
        finally:
            restore()
