"""`moments index`, `moments search`, `moments sources` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot import retrieval
from copilot.cli import app
from copilot.embeddings import FakeEmbedder
from copilot.settings import reset_settings

runner = CliRunner()


@pytest.fixture
def kb(settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "kb"
    root.mkdir()
    (root / "playbook-complaints.md").write_text(
        "# Playbook: complaints\nMoment: complaint\n\n## Do\n\nOwn the broken hub problem.\n",
        encoding="utf-8",
    )
    (root / "past.jsonl").write_text(
        json.dumps({"id": "int-001", "moment": "complaint", "post": "hub broken", "reply": "sorry"})
        + "\n{oops\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MOMENTS_KNOWLEDGE_DIR", str(root))
    monkeypatch.setattr(retrieval, "build_embedder", lambda settings: FakeEmbedder())
    reset_settings()
    return root


def test_index_default_folder_then_search_json(kb: Path) -> None:
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 0, result.output
    assert "past.jsonl:2" in result.output and "invalid JSON" in result.output

    result = runner.invoke(app, ["search", "broken hub", "--json", "--k", "2"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 2
    for hit in hits:
        assert {"text", "source", "title", "heading", "kind", "moment", "score"} <= set(hit)
        assert 0.0 <= hit["score"] <= 1.0
    assert {hit["kind"] for hit in hits} == {"guideline", "interaction"}

    result = runner.invoke(app, ["search", "broken hub", "--kind", "interaction", "--json"])
    assert [hit["source"] for hit in json.loads(result.output)] == ["past.jsonl"]

    result = runner.invoke(app, ["search", "broken hub", "--moment", "complaint"])
    assert result.exit_code == 0 and "playbook-complaints.md" in result.output


def test_index_json_report_and_second_run(kb: Path) -> None:
    first = json.loads(runner.invoke(app, ["index", str(kb), "--json"]).output)
    assert first["chunks_added"] == 2 and first["problems"][0]["line"] == 2
    second = json.loads(runner.invoke(app, ["index", str(kb), "--json"]).output)
    assert second["chunks_added"] == 0 and second["chunks_unchanged"] == 2


def test_nothing_indexable_exits_2(kb: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"\xff\xfe bad")
    result = runner.invoke(app, ["index", str(bad), str(tmp_path / "missing.md")])
    assert result.exit_code == 2
    assert "not UTF-8" in result.output and "file not found" in result.output


def test_sources_list_and_remove(kb: Path) -> None:
    runner.invoke(app, ["index"])
    listed = json.loads(runner.invoke(app, ["sources", "--json"]).output)
    assert {s["source"] for s in listed} == {"playbook-complaints.md", "past.jsonl"}
    result = runner.invoke(app, ["sources", "remove", "past.jsonl"])
    assert result.exit_code == 0 and "Removed 1" in result.output
    result = runner.invoke(app, ["sources", "remove", "past.jsonl"])
    assert result.exit_code == 2
    assert "playbook-complaints.md" in runner.invoke(app, ["sources"]).output


def test_search_with_empty_index_says_what_to_do(kb: Path) -> None:
    result = runner.invoke(app, ["search", "anything"])
    assert result.exit_code == 0 and "moments index" in result.output


def test_unreachable_server_is_one_line_not_a_traceback(
    kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOMENTS_CHROMA_URL", "http://127.0.0.1:9")
    reset_settings()
    result = runner.invoke(app, ["search", "hub"])
    assert result.exit_code == 2
    assert "Error: cannot reach the Chroma server" in result.output
    assert "Traceback" not in result.output
