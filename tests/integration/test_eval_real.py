"""`moments eval run smoke` with the real bundled model and a real embedded index.

The small model is not expected to pass every assertion; the test checks that the run is
written (JSON + HTML), every case was drafted and scored, and the gate works: the exit code is
1 exactly when some assertion failed. A rerun is served from the cache with the same verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from copilot.commands import evals as eval_commands
from copilot.llm.local import LlamaCppChatModel
from copilot.retrieval import KnowledgeIndex, open_index
from copilot.settings import REPO_ROOT, Settings, load_settings
from copilot.tone import DIMENSIONS
from evals import runner as eval_runner

cli = CliRunner()


@pytest.fixture(scope="module")
def knowledge_index(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("eval-index"))
    index = open_index(settings)
    report = index.index_paths([REPO_ROOT / "knowledge"])
    assert report.chunks_total > 50, report
    return index


@pytest.fixture
def app(
    settings_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_chat_model: LlamaCppChatModel,
    knowledge_index: KnowledgeIndex,
) -> typer.Typer:
    """The eval CLI on the shared real model and index (one model in memory, not two)."""

    def resolve_model(name: str | None, settings: Settings) -> tuple[Any, str, Settings]:
        return (lambda case: local_chat_model), local_chat_model.name, settings

    monkeypatch.setattr(eval_runner, "resolve_model", resolve_model)
    monkeypatch.setattr(eval_runner, "open_retriever", lambda settings, echo=None: knowledge_index)
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """test root"""

    eval_commands.register(root)
    return root


def test_smoke_suite_with_the_bundled_model_gates_on_assertions(
    app: typer.Typer, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    result = cli.invoke(app, ["eval", "run", "smoke", "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    runs = sorted(out.glob("*.json"))
    assert len(runs) == 1 and runs[0].with_suffix(".html").is_file()
    run = json.loads(runs[0].read_text(encoding="utf-8"))
    assert run["model"] == "qwen2.5-coder-1.5b"
    assert len(run["cases"]) == 8
    assert {c["moment"] for c in run["cases"]} == {
        "welcome",
        "first_question",
        "complaint",
        "conflict",
        "crisis",
        "contribution",
        "milestone",
        "question",
    }
    for case in run["cases"]:
        assert case["draft"] is not None, case["failures"]
        assert set(case["scores"]) == set(DIMENSIONS)
        assert case["text"].strip()
        assert case["draft"]["model"]["provider"] == "local"
        assert any(c["kind"] == "guideline" for c in case["draft"]["citations"])
    any_failed = any(not c["passed"] for c in run["cases"])
    assert result.exit_code == (1 if any_failed else 0)
    # every failure is reported with its reason in the summary
    for case in run["cases"]:
        if not case["passed"]:
            assert f"FAIL {case['id']}" in result.output
    html = runs[0].with_suffix(".html").read_text(encoding="utf-8")
    assert "<svg" in html and run["cases"][0]["id"] in html
    print(result.output)  # the table, for the CI log

    # the rerun is instant: every case from the cache, same verdict
    again = cli.invoke(app, ["eval", "run", "smoke", "--out", str(tmp_path / "again")])
    assert again.exit_code == result.exit_code
    rerun = json.loads(next((tmp_path / "again").glob("*.json")).read_text(encoding="utf-8"))
    assert all(c["cached"] for c in rerun["cases"])
    assert [c["passed"] for c in rerun["cases"]] == [c["passed"] for c in run["cases"]]
