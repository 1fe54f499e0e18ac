"""The real bundled GGUF: assembled from the installed chunk packages, verified by sha256."""

from __future__ import annotations

from pathlib import Path

from copilot import models
from copilot.settings import load_settings

NAME = "qwen2.5-coder-1.5b"
SPEC = models.BUNDLED[NAME]


def test_shared_model_is_assembled_and_marked(bundled_model_path: Path) -> None:
    assert bundled_model_path.name == f"{NAME}.gguf"
    assert bundled_model_path.stat().st_size == 1_117_320_768
    assert _magic(bundled_model_path) == b"GGUF"
    assert models.marker_matches(bundled_model_path, SPEC)


def test_fresh_assembly_from_real_packages_verifies(tmp_path: Path) -> None:
    """End to end from site-packages into an empty data dir (~1 GB copy + hash)."""
    settings = load_settings(data_dir=tmp_path / "data", llm_provider="local")
    path = models.ensure_bundled_model(settings, progress=False, name=NAME)
    assert path == tmp_path / "data" / "models" / f"{NAME}.gguf"
    assert path.stat().st_size == SPEC.size
    assert models.marker_matches(path, SPEC)
    # The full rehash (what `moments models --verify` runs) agrees with the marker.
    assert models.verify_model(settings, NAME, progress=False) is True
    assert not list(path.parent.glob("*.part"))
    path.unlink()  # give the GB back now rather than at session end


def _magic(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4)
