"""`moments crisis`: JSON and human output, readable errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from copilot.commands import crisis as crisis_command
from copilot.llm.fake import FakeChatModel

REPO = Path(__file__).resolve().parents[2]
INCIDENT = REPO / "knowledge" / "incidents" / "cloud-sync-outage.yaml"
GOOD = "OPENING: We're sorry, we know this is disruptive.\nCLOSING: Thank you for your patience."


@pytest.fixture
def app(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    model = FakeChatModel(default=GOOD)
    monkeypatch.setattr(crisis_command, "_build_model", lambda: model)
    application = typer.Typer()
    crisis_command.register(application)

    @application.command("noop")  # a second command keeps `crisis` a named subcommand
    def _noop() -> None:
        """Nothing."""

    return application


def test_json_output_has_every_channel(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["crisis", "--facts", str(INCIDENT), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["stage"] == "initial"
    assert set(payload["statements"]) == {"forum", "banner", "email", "social"}
    for statement in payload["statements"].values():
        assert statement["violations"] == []
        assert "Lumen Cloud sync outage" in statement["text"]
    assert len(payload["statements"]["social"]["text"]) <= 280


def test_resolved_stage_and_human_output(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["crisis", "--facts", str(INCIDENT), "--stage", "resolved"])
    assert result.exit_code == 0, result.output
    assert "Resolved" in result.stdout
    assert "all statements pass the fact-lock" in result.stdout


def test_human_output_shows_violations(
    settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = tmp_path / "long.yaml"
    text = INCIDENT.read_text(encoding="utf-8")
    facts.write_text(
        text.replace(
            "what_happened: Scenes", "what_happened: " + "Scenes are not loading. " * 150 + "Scenes"
        ),
        encoding="utf-8",
    )
    model = FakeChatModel(default=GOOD)
    monkeypatch.setattr(crisis_command, "_build_model", lambda: model)
    application = typer.Typer()
    crisis_command.register(application)
    application.command("noop")(lambda: None)
    result = CliRunner().invoke(application, ["crisis", "--facts", str(facts)])
    assert result.exit_code == 0, result.output
    assert "too_long" in result.stdout
    assert "need review" in result.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("title: Outage\nwhat_happened: [unclosed\n", "line 3"),
        ("title: Outage\n", "what_happened, started_at, affected, next_update_at"),
        ("- just\n- a list\n", "must be a YAML mapping"),
    ],
)
def test_bad_facts_files_give_one_readable_error(
    app: typer.Typer, tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["crisis", "--facts", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ")
    assert expected in result.output


def test_unreadable_file_and_bad_stage(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["crisis", "--facts", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "cannot read facts file" in result.output
    result = CliRunner().invoke(app, ["crisis", "--facts", str(INCIDENT), "--stage", "later"])
    assert result.exit_code == 2 and "unknown stage 'later'" in result.output
