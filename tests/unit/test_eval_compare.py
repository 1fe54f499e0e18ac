"""`moments eval compare`: paired bootstrap deltas, significance, regressions, CLI and HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from copilot.commands import evals as eval_commands
from copilot.tone import DIMENSIONS
from evals.compare import bootstrap_ci, compare_runs
from evals.report import render_compare_html

cli = CliRunner()


def make_run(run_id: str, shift: float = 0.0, n: int = 30, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        base = {d: float(rng.uniform(0.3, 0.7)) for d in DIMENSIONS}
        cases.append({"id": f"c{i}", "passed": True, "failures": [], "scores": base})
    run = {"run_id": run_id, "model": "m", "prompt_sha": "abc", "cases": cases}
    if shift:
        noise = np.random.default_rng(seed + 99)
        for case in run["cases"]:
            case["scores"] = {
                d: v + shift + float(noise.normal(0, 0.02)) for d, v in case["scores"].items()
            }
    return run


def test_identical_runs_show_no_significant_change() -> None:
    a = make_run("a")
    result = compare_runs(a, make_run("b"))
    for d in result["dimensions"].values():
        assert d["delta"] == 0.0 and not d["significant"] and d["direction"] == "no change"
    assert result["regressed"] == [] and result["improved"] == []
    assert result["paired_cases"] == 30


def test_a_known_shift_is_detected_with_the_right_direction() -> None:
    result = compare_runs(make_run("a"), make_run("b", shift=0.05))
    empathy = result["dimensions"]["empathy"]
    assert empathy["significant"] and empathy["ci_low"] > 0 and empathy["direction"] == "better"
    assert abs(empathy["delta"] - 0.05) < 0.02
    hostility = result["dimensions"]["hostility"]  # higher is worse
    assert hostility["significant"] and hostility["direction"] == "worse"


def test_noise_alone_is_not_significant() -> None:
    a = make_run("a")
    b = make_run("b")
    rng = np.random.default_rng(5)
    for case in b["cases"]:
        case["scores"] = {d: v + float(rng.normal(0, 0.05)) for d, v in case["scores"].items()}
    significant = [d for d, v in compare_runs(a, b)["dimensions"].items() if v["significant"]]
    assert len(significant) <= 2  # ~5% false positives over 13 dimensions


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    deltas = np.array([0.1, 0.2, 0.0, 0.15, 0.05])
    assert bootstrap_ci(deltas) == bootstrap_ci(deltas)
    low, high = bootstrap_ci(deltas)
    assert low <= deltas.mean() <= high


def test_regressions_and_improvements_are_listed() -> None:
    a = make_run("a", n=4)
    b = json.loads(json.dumps(a))
    b["run_id"] = "b"
    b["cases"][0]["passed"] = False
    b["cases"][0]["failures"] = ["flagged blame"]
    b["cases"][1]["scores"]["empathy"] -= 0.2
    b["cases"][2]["scores"]["over_promising"] -= 0.3  # lower is better here
    a["cases"][3]["passed"] = False
    regressed = {r["id"]: r["why"] for r in compare_runs(a, b)["regressed"]}
    improved = {r["id"]: r["why"] for r in compare_runs(a, b)["improved"]}
    assert set(regressed) == {"c0", "c1"}
    assert regressed["c0"][:2] == ["passed → failed", "flagged blame"]
    assert regressed["c1"][0].startswith("empathy")
    assert set(improved) == {"c2", "c3"}
    assert improved["c2"][0].startswith("over_promising")
    assert improved["c3"][0] == "failed → passed"


def test_unpaired_cases_are_named() -> None:
    a = make_run("a", n=3)
    b = make_run("b", n=4)
    result = compare_runs(a, b)
    assert result["only_in_b"] == ["c3"] and result["paired_cases"] == 3


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """test root"""

    eval_commands.register(root)
    return root


def test_cli_compare_json_table_and_html(app: typer.Typer, tmp_path: Path) -> None:
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps(make_run("a")))
    pb.write_text(json.dumps(make_run("b", shift=-0.05)))
    result = cli.invoke(app, ["eval", "compare", str(pa), str(pb), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["dimensions"]["empathy"]["direction"] == "worse"
    html_path = tmp_path / "cmp.html"
    table = cli.invoke(app, ["eval", "compare", str(pa), str(pb), "--html", str(html_path)])
    assert table.exit_code == 0 and "worse" in table.output and "Regressed" in table.output
    assert "95% CI" in html_path.read_text()
    missing = cli.invoke(app, ["eval", "compare", str(pa), str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such run file" in missing.output


def test_compare_html_escapes_ids() -> None:
    a = make_run("<script>x</script>", n=2)
    b = json.loads(json.dumps(a))
    b["cases"][0]["passed"] = False
    b["cases"][0]["id"] = a["cases"][0]["id"]
    b["cases"][0]["failures"] = ["<img src=x>"]
    html = render_compare_html(compare_runs(a, b))
    assert "<script>" not in html and "<img" not in html
