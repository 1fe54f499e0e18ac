"""Crisis statements with the real bundled model: zero violations, limits held, facts verbatim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.crisis import draft_statements, load_facts_file
from copilot.factlock import check_fact_lock
from copilot.llm.local import LlamaCppChatModel

REPO = Path(__file__).resolve().parents[2]
INCIDENTS = REPO / "knowledge" / "incidents"


def test_all_channels_with_the_bundled_model(local_chat_model: LlamaCppChatModel) -> None:
    facts = load_facts_file(INCIDENTS / "cloud-sync-outage.yaml", stage="initial")
    result = draft_statements(facts, model=local_chat_model, stage="initial")
    assert set(result.statements) == {"forum", "banner", "email", "social"}
    for channel, statement in result.statements.items():
        assert statement.violations == [], (channel, statement.text, statement.violations)
        # re-checking the final text independently gives the same answer
        assert check_fact_lock(statement.text, facts, statement.channel, stage="initial") == []
        assert facts.title in statement.text
        assert facts.next_update_at and facts.next_update_at in statement.text
        assert statement.model is not None and statement.model.provider == "local"
        assert 1 <= statement.attempts <= 2
    assert len(result.statements["social"].text) <= 280
    assert len(result.statements["banner"].text) <= 160
    forum = result.statements["forum"].text
    for value in (facts.what_happened, facts.started_at, facts.affected, *facts.actions_taken):
        assert value in forum


def test_cli_resolved_postmortem_with_the_bundled_model(
    bundled_model_path: Path,
    test_cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`moments crisis --stage resolved --json` end to end: default settings, shared model cache."""
    from copilot.cli import app
    from copilot.settings import reset_settings

    for key in ("MOMENTS_LLM_PROVIDER", "MOMENTS_LLM_MODEL", "MOMENTS_LLM_MODEL_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MOMENTS_DATA_DIR", str(test_cache_dir))
    reset_settings()
    try:
        facts_file = INCIDENTS / "firmware-3-3-hub-reboots.yaml"
        result = CliRunner().invoke(
            app,
            ["crisis", "--facts", str(facts_file), "--stage", "resolved", "--json"],
        )
    finally:
        reset_settings()
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    statements = payload["statements"]
    assert payload["stage"] == "resolved"
    for channel, statement in statements.items():
        assert statement["violations"] == [], (channel, statement)
    assert len(statements["social"]["text"]) <= 280
    assert "A memory leak in the device-pairing table" in statements["forum"]["text"]
