"""`moments eval score FILE [--json]`: keys, averages, bad rows, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from copilot.commands import evals as eval_commands
from copilot.tone import DIMENSIONS
from evals.score import score_file

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """test root"""

    eval_commands.register(root)
    return root


GOOD = {
    "id": "r1",
    "text": "Priya, I'm really sorry you lost your evening to this. Could you open a ticket?",
    "post": "My Hub died after the update and I lost my evening.",
    "member_name": "Priya",
    "moment": "complaint",
}


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_output_has_the_documented_keys(app: typer.Typer, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "r.jsonl", [json.dumps(GOOD)])
    result = runner.invoke(app, ["eval", "score", str(f), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(rows) == 1
    row = rows[0]
    assert {"id", "scores", "flags", "evidence"} <= set(row)
    assert row["id"] == "r1"
    assert tuple(row["scores"]) == DIMENSIONS
    assert set(row["evidence"]) == set(DIMENSIONS)
    assert row["flags"] == []


def test_flags_are_reported_in_json(app: typer.Typer, tmp_path: Path) -> None:
    bad = {"id": "r2", "text": "You should have read the docs. We'll refund you in full."}
    f = write_jsonl(tmp_path / "r.jsonl", [json.dumps(bad)])
    result = runner.invoke(app, ["eval", "score", str(f), "--json"])
    row = json.loads(result.stdout.splitlines()[0])
    assert {"blame", "over_promising"} <= {fl["code"] for fl in row["flags"]}


def test_csv_input_and_human_table_with_averages(app: typer.Typer, tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text(
        "id,text,post,member_name,moment\n"
        'w1,"Welcome, Sam! The getting started guide is in Docs. What are you building?",'
        "Hi I'm new here,Sam,welcome\n"
        'w2,"Thanks for joining.",,,\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["eval", "score", str(f)])
    assert result.exit_code == 0, result.output
    assert "w1" in result.stdout and "w2" in result.stdout
    assert "average (2)" in result.stdout
    assert "Averages:" in result.stdout and "guideline_compliance" in result.stdout


def test_bad_rows_are_named_and_the_rest_still_scored(app: typer.Typer, tmp_path: Path) -> None:
    f = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            json.dumps(GOOD),
            json.dumps({"id": "no-text", "post": "x"}),
            "{not json",
            json.dumps({"id": "m", "text": "Hello there", "moment": "rant"}),
            json.dumps({"id": "ok2", "text": "Thanks for the report!"}),
        ],
    )
    result = runner.invoke(app, ["eval", "score", str(f), "--json"])
    assert result.exit_code == 1
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines() if line.strip()]
    assert ids == ["r1", "ok2"]
    err = result.stderr
    assert f"{f}:2: row has no text" in err
    assert f"{f}:3: malformed JSON" in err
    assert f"{f}:4: unknown moment 'rant'" in err
    assert "Traceback" not in result.output


def test_csv_row_without_text_names_its_line(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text('id,text\na,"Thanks, Sam!"\nb,\nc,"Sorry about that."\n', encoding="utf-8")
    report = score_file(f)
    assert [r.id for r in report.rows] == ["a", "c"]
    assert [(e.line, e.message) for e in report.errors] == [(3, "row has no text")]


@pytest.mark.parametrize(
    "setup, needle",
    [
        (lambda p: p, "file not found"),
        (lambda p: (p.write_bytes(b"\xff\xfe\x00bad"), p)[1], "not UTF-8"),
        (lambda p: (p.write_text("id,reply\n1,hi\n"), p)[1], "no 'text' column"),
    ],
)
def test_unreadable_file_exits_2(app: typer.Typer, tmp_path: Path, setup, needle: str) -> None:  # type: ignore[no-untyped-def]
    path = setup(tmp_path / "replies.csv")
    result = runner.invoke(app, ["eval", "score", str(path)])
    assert result.exit_code == 2
    assert needle in result.stderr
    assert str(path) in result.stderr


def test_missing_id_falls_back_to_line_and_member_object_is_used(tmp_path: Path) -> None:
    f = write_jsonl(
        tmp_path / "r.jsonl",
        [
            json.dumps(
                {
                    "text": "Since you joined in 2019 your 500 posts helped everyone, Ana.",
                    "member": {"name": "Ana", "joined_at": "2024-05-01", "post_count": 12},
                }
            )
        ],
    )
    report = score_file(f)
    assert report.rows[0].id == "line-1"
    assert "invented_fact" in {fl.code for fl in report.rows[0].card.flags}
