"""`moments models` on fake chunk packages (no real 1 GB work)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from copilot import models
from copilot.commands import models as models_command
from copilot.models import BundledModel

NAME = "qwen2.5-coder-1.5b"


@pytest.fixture
def app(settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    table: dict[tuple[str, int], Path] = {}
    whole = b""
    for i in (1, 2):
        path = tmp_path / f"p{i}.bin"
        path.write_bytes(bytes([i]) * 100)
        table[(f"fakepkg_part{i}", i)] = path
        whole += path.read_bytes()
    spec = BundledModel(
        name=NAME,
        title="fake",
        distribution="fakepkg-part",
        version="0.0.1",
        parts=2,
        sha256=hashlib.sha256(whole).hexdigest(),
        size=len(whole),
    )
    monkeypatch.setitem(models.BUNDLED, NAME, spec)
    monkeypatch.setattr(models, "find_part_file", lambda module, index: table.get((module, index)))
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """moments"""

    models_command.register(root)
    return root


def test_status_prepare_verify(app: typer.Typer, settings_env: Path) -> None:
    runner = CliRunner()
    before = runner.invoke(app, ["models", "--json"])
    assert before.exit_code == 0, before.output
    row = {m["name"]: m for m in json.loads(before.output)["models"]}[NAME]
    assert (row["parts_installed"], row["parts_total"], row["assembled"]) == (2, 2, False)

    prepared = runner.invoke(app, ["models", "prepare", "--quiet"])
    assert prepared.exit_code == 0, prepared.output
    assert "sha256 verified" in prepared.output
    assert (settings_env / "models" / f"{NAME}.gguf").stat().st_size == 200

    verified = runner.invoke(app, ["models", "--verify"])
    assert verified.exit_code == 0, verified.output
    assert "qwen2.5-coder-1.5b" in verified.output

    (settings_env / "models" / f"{NAME}.gguf").write_bytes(b"\x00" * 200)
    broken = runner.invoke(app, ["models", "--verify"])
    assert broken.exit_code == 1
    assert "does not match its sha256" in broken.output


def test_prepare_small_model_not_installed_is_one_clear_line(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["models", "prepare", "--model", "qwen2.5-coder-0.5b"])
    assert result.exit_code == 2
    assert "pip install 'moments-copilot[small-model]'" in result.output
    assert "Traceback" not in result.output
