"""`moments keys create|list|revoke` and `moments worker --once` through the real CLI app."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.settings import reset_settings
from copilot.store import open_store
from copilot.types import Post

runner = CliRunner()


def test_keys_create_list_revoke(settings_env: Path) -> None:
    created = runner.invoke(app, ["keys", "create", "--role", "reviewer", "--name", "maya"])
    assert created.exit_code == 0, created.output
    plaintext = created.output.strip().splitlines()[-1]
    assert plaintext.startswith("mk_") and "not shown again" in created.output
    store = open_store()
    record = store.verify_api_key(plaintext)
    assert record is not None and record.role == "reviewer" and record.name == "maya"

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and "maya" in listed.output and plaintext not in listed.output

    revoked = runner.invoke(app, ["keys", "revoke", str(record.id)])
    assert revoked.exit_code == 0 and "Revoked key" in revoked.output
    assert store.verify_api_key(plaintext) is None
    store.close()


def test_bad_role_and_unknown_key_are_one_line_errors(settings_env: Path) -> None:
    bad = runner.invoke(app, ["keys", "create", "--role", "root"])
    assert bad.exit_code == 2 and "Unknown role 'root'" in bad.output
    assert "Traceback" not in bad.output
    missing = runner.invoke(app, ["keys", "revoke", "42"])
    assert missing.exit_code == 2 and "API key 42 does not exist" in missing.output


def test_worker_once_with_the_test_only_fake_drafter(
    settings_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOMENTS_ENV", "test")
    monkeypatch.setenv("MOMENTS_WORKER_FAKE_DRAFTER", "1")
    reset_settings()
    store = open_store()
    store.submit_post(Post(text="Is the 3.3 firmware out?"), source="cli")
    result = runner.invoke(app, ["worker", "--once", "--poll", "0.05"])
    assert result.exit_code == 0, result.output
    assert "1 claimed, 1 drafted" in result.output
    assert store.queue_counts().total == 1
    store.close()


def test_worker_refuses_the_fake_drafter_outside_tests(
    settings_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOMENTS_WORKER_FAKE_DRAFTER", "1")
    reset_settings()
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 2 and "only with MOMENTS_ENV=test" in result.output
