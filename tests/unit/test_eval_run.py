"""`moments eval run`: assertions, cache, prompt pinning, exit codes, the scripted default suite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from copilot.commands import evals as eval_commands
from copilot.errors import InputError, LLMUnavailableError
from copilot.llm.fake import FakeChatModel
from copilot.settings import REPO_ROOT, Settings, load_settings
from evals import runner as eval_runner
from evals.report import render_run_html
from evals.runner import (
    ScriptedChatModel,
    check_assertions,
    current_prompt_sha,
    scripted_model_for,
    templated_reply,
    write_run,
)
from evals.suite import Assertions, load_suite, parse_suite

cli = CliRunner()

SUITE = """\
name: mini
cases:
  - id: good
    moment: complaint
    post: {text: "The 3.3 update broke my schedules and I'm really frustrated."}
    member: {name: Elif Yilmaz}
    reference: >-
      Hi Elif, I'm really sorry the 3.3 update broke your schedules; that's frustrating. Could you
      tell us which LumenOS version your Hub shows under Settings > Hub? I've passed this on.
    assertions: {min: {empathy: 0.4}, must_include: [Elif, Settings], no_flags: [blame]}
  - id: welcome
    moment: welcome
    post: {text: "Hello! New here, just set up my first Hub in the kitchen."}
    member: {name: Walter Brandt}
    assertions: {min: {warmth: 0.3}}
"""

RunOffline = Callable[..., dict[str, Any]]  # the `run_offline` fixture (tests/unit/conftest.py)

BAD_REPLY = "You should have read the release notes. We'll refund you, guaranteed."


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(SUITE, encoding="utf-8")
    return path


def test_assertions_each_kind() -> None:
    a = Assertions(
        min={"empathy": 0.5},
        max={"hostility": 0.2},
        must_include=["Sam"],
        must_not_include=["Full Refund"],
        max_chars=40,
        min_chars=5,
        no_flags=["blame"],
    )
    ok = check_assertions(a, "Hi SAM, sorry.", {"empathy": 0.6, "hostility": 0.0}, [])
    assert ok == []
    bad = check_assertions(
        a,
        "Hello there, a full refund is yours, guaranteed today!!",
        {"empathy": 0.1, "hostility": 0.5},
        ["blame"],
    )
    assert bad == [
        "empathy 0.10 < min 0.50",
        "hostility 0.50 > max 0.20",
        'missing "Sam"',
        'contains "Full Refund"',
        "55 chars > max_chars 40",
        "flagged blame",
    ]
    assert check_assertions(Assertions(min_chars=10), "hi", {}, []) == ["2 chars < min_chars 10"]


def test_scripted_model_replays_reference_or_template(suite_file: Path) -> None:
    suite = load_suite(suite_file)
    model = scripted_model_for(suite.cases[0])
    assert isinstance(model, ScriptedChatModel)
    assert model.reply.startswith("Hi Elif")
    assert "Walter" in templated_reply(suite.cases[1])
    assert "Walter" in scripted_model_for(suite.cases[1]).reply


def test_run_passes_fails_and_reports(
    suite_file: Path, settings: Settings, run_offline: RunOffline
) -> None:
    suite = load_suite(suite_file)
    good = run_offline(suite, "scripted")
    assert good["failed"] == 0 and good["passed"] == 2
    case = good["cases"][0]
    assert set(case) >= {
        "id",
        "moment",
        "passed",
        "failures",
        "scores",
        "flags",
        "text",
        "draft",
        "cached",
        "seconds",
    }
    assert case["draft"]["moment"] == case["classified_as"]
    assert set(good) >= {
        "run_id",
        "suite",
        "suite_sha",
        "model",
        "prompt_sha",
        "scorer_version",
        "started_at",
        "seconds",
        "cases",
        "summary",
    }
    assert good["prompt_sha"] == current_prompt_sha(settings)
    bad_model = FakeChatModel(default=BAD_REPLY)
    bad = run_offline(suite, bad_model)
    assert bad["failed"] == 2
    reasons = " ".join(bad["cases"][0]["failures"])
    assert "flagged blame" in reasons and "empathy" in reasons


def test_rerun_is_served_from_the_cache(
    suite_file: Path, settings: Settings, run_offline: RunOffline
) -> None:
    suite = load_suite(suite_file)
    model = FakeChatModel(default="Hi there, thanks for posting! Welcome, glad you're here.")
    first = run_offline(suite, model)
    calls = len(model.history)
    assert calls >= 2 and not any(c["cached"] for c in first["cases"])
    second = run_offline(suite, model)
    assert len(model.history) == calls  # nothing drafted again
    assert all(c["cached"] for c in second["cases"])
    assert [c["scores"] for c in second["cases"]] == [c["scores"] for c in first["cases"]]
    assert len(list((settings.resolved_data_dir / "eval-cache").glob("*.json"))) == 2
    # --no-cache drafts again
    run_offline(suite, model, use_cache=False)
    assert len(model.history) == 2 * calls


def test_changed_post_misses_the_cache(suite_file: Path, run_offline: RunOffline) -> None:
    model = FakeChatModel(default="Hi there, thanks for posting! Welcome, glad you're here.")
    run_offline(load_suite(suite_file), model)
    calls = len(model.history)
    changed = parse_suite(SUITE.replace("in the kitchen", "in the garage"), suite_file)
    again = run_offline(changed, model)
    assert [c["cached"] for c in again["cases"]] == [True, False]
    assert len(model.history) > calls


def test_prompt_version_mismatch_refuses(
    suite_file: Path, settings: Settings, run_offline: RunOffline
) -> None:
    sha = current_prompt_sha(settings)
    model = FakeChatModel()  # would raise if called
    with pytest.raises(InputError, match="--prompt-version " + sha[:12]):
        run_offline(load_suite(suite_file), model, prompt_version="0000000")
    assert model.history == []
    ok = run_offline(load_suite(suite_file), "scripted", prompt_version=sha[:8])
    assert ok["prompt_sha"] == sha


def test_a_failing_draft_fails_its_case_only(suite_file: Path, run_offline: RunOffline) -> None:
    model = FakeChatModel(
        [LLMUnavailableError("server down")], default="Hi Walter, welcome! Glad you're here."
    )
    run = run_offline(load_suite(suite_file), model)
    first, second = run["cases"]
    assert not first["passed"] and "draft failed: server down" in first["failures"][0]
    assert second["scores"]


def test_parallel_jobs_keep_case_order(run_offline: RunOffline) -> None:
    suite = load_suite("smoke")
    run = run_offline(suite, "scripted", jobs=4)
    assert [c["id"] for c in run["cases"]] == [c.id for c in suite.cases]
    assert run["failed"] == 0


def test_whole_default_suite_passes_with_its_references(
    settings: Settings, run_offline: RunOffline
) -> None:
    """The suite is self-consistent: every reference reply passes its own assertions,
    drafted through the real pipeline with a FakeEmbedder-backed index of the knowledge base."""
    from copilot.embeddings import FakeEmbedder
    from copilot.retrieval import open_index

    index = open_index(settings, embedder=FakeEmbedder())
    index.index_paths([REPO_ROOT / "knowledge" / "guidelines"])
    run = run_offline(load_suite("default"), "scripted", retriever=index)
    failures = {c["id"]: c["failures"] for c in run["cases"] if not c["passed"]}
    assert failures == {}
    assert len(run["cases"]) >= 64
    assert any(c["draft"]["citations"] for c in run["cases"])


def test_html_report_escapes_member_text_and_draws_svg(
    tmp_path: Path, run_offline: RunOffline
) -> None:
    text = SUITE.replace("just set up my first Hub", "<script>alert('x')</script> set up my Hub")
    text = text.replace("member: {name: Walter Brandt}", 'member: {name: "<b>Walt</b>"}')
    path = tmp_path / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    run = run_offline(load_suite(path), "scripted")
    html = render_run_html(run)
    assert "<script>" not in html and "&lt;script&gt;alert" in html
    assert "<b>Walt</b>" not in html and "&lt;b&gt;Walt" in html
    assert html.count("<svg") >= 2 and "<details" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    json_path, html_path = write_run(run, tmp_path / "out")
    assert json.loads(json_path.read_text())["run_id"] == run["run_id"]
    assert html_path.read_text(encoding="utf-8") == html


# CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def app(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(eval_runner, "open_retriever", lambda settings, echo=None: None)
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """test root"""

    eval_commands.register(root)
    return root


def test_cli_pass_exits_0_and_writes_json_and_html(
    app: typer.Typer, suite_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    result = cli.invoke(
        app, ["eval", "run", str(suite_file), "--model", "scripted", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output
    files = sorted(p.suffix for p in out.iterdir())
    assert files == [".html", ".json"]
    rerun = cli.invoke(
        app, ["eval", "run", str(suite_file), "--model", "scripted", "--out", str(out)]
    )
    assert "(2 cached)" in rerun.output


def test_cli_failed_assertion_exits_1(app: typer.Typer, suite_file: Path, tmp_path: Path) -> None:
    result = cli.invoke(
        app, ["eval", "run", str(suite_file), "--model", "fake", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output
    assert "FAIL good" in result.output


def test_cli_bad_input_exits_2(app: typer.Typer, tmp_path: Path, suite_file: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SUITE.replace("moment: welcome", "moment: hello"), encoding="utf-8")
    result = cli.invoke(app, ["eval", "run", str(bad), "--model", "scripted"])
    assert result.exit_code == 2
    assert "bad.yaml:12: cases[1].moment" in result.output
    pinned = cli.invoke(
        app, ["eval", "run", str(suite_file), "--model", "scripted", "--prompt-version", "ffff0000"]
    )
    assert pinned.exit_code == 2 and "prompts' version" in pinned.output
    unknown = cli.invoke(
        app, ["eval", "run", str(suite_file), "--model", "scripted", "--cases", "good,nope"]
    )
    assert unknown.exit_code == 2 and "nope" in unknown.output


def test_cli_cases_option_runs_a_subset(app: typer.Typer, suite_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = cli.invoke(
        app,
        [
            "eval",
            "run",
            str(suite_file),
            "--model",
            "scripted",
            "--cases",
            "welcome",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    run = json.loads(next(out.glob("*.json")).read_text())
    assert [c["id"] for c in run["cases"]] == ["welcome"]


def test_model_option_overrides_the_configured_model(tmp_path: Path) -> None:
    from evals.runner import resolve_model

    settings = load_settings(
        data_dir=tmp_path / "d", llm_provider="openai", llm_base_url="http://127.0.0.1:9/v1"
    )
    model_for, name, resolved = resolve_model("my-server-model", settings)
    assert name == "my-server-model" and resolved.llm_model == "my-server-model"
    assert resolved.llm_base_url == "http://127.0.0.1:9/v1"
    case = load_suite("smoke").cases[0]
    assert model_for(case).provider == "openai"
    with pytest.raises(InputError, match="no such GGUF"):
        resolve_model(str(tmp_path / "missing.gguf"), settings)
    _, scripted_name, _ = resolve_model("scripted", settings)
    assert scripted_name == "scripted"


def test_open_retriever_indexes_the_knowledge_base_when_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copilot.retrieval as retrieval
    from copilot.embeddings import FakeEmbedder
    from evals.runner import open_retriever

    monkeypatch.setattr(retrieval, "build_embedder", lambda settings: FakeEmbedder())
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "guide.md").write_text("# Refunds\n\nRefunds go through a store ticket within 30 days.\n")
    settings = load_settings(data_dir=tmp_path / "d", knowledge_dir=kb)
    said: list[str] = []
    index = open_retriever(settings, echo=said.append)
    assert said and "Indexing" in said[0]
    assert index.search("refund ticket", k=1)
    said.clear()
    open_retriever(settings, echo=said.append)
    assert said == []  # already indexed
