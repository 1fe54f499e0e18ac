"""The UI's pure parts: the API client's error mapping, text helpers, eval-run reading."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from ui.client import MomentsClient, UIError
from ui.components import escape_md, highlight, tenure
from ui.evalruns import load_runs, parse_run, regressions


def client_for(handler: object) -> MomentsClient:
    return MomentsClient(
        "http://api.test",
        "mk_key",
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
    )


def test_client_sends_the_key_as_bearer_and_returns_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [{"id": 1}], "limit": 50, "offset": 0})

    rows = client_for(handler).list_drafts(status="pending", moment=None, community="")
    assert rows == [{"id": 1}]
    assert seen[0].headers["Authorization"] == "Bearer mk_key"
    assert dict(seen[0].url.params) == {"status": "pending", "limit": "50", "offset": "0"}


def test_api_error_body_becomes_a_readable_ui_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            409,
            json={
                "error": {
                    "code": "conflict",
                    "message": "Draft 3 is approved; it cannot be approved again.",
                    "hint": "reload the draft",
                }
            },
        )

    with pytest.raises(UIError) as caught:
        client_for(handler).approve(3)
    assert caught.value.status == 409 and caught.value.code == "conflict"
    assert str(caught.value) == (
        "Draft 3 is approved; it cannot be approved again.\n\nNext: reload the draft"
    )


def test_validation_fields_are_listed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422,
            json={
                "error": {
                    "code": "validation_error",
                    "message": "The request body is not valid.",
                    "fields": [{"field": "reason", "message": "at least 1 character"}],
                }
            },
        )

    with pytest.raises(UIError) as caught:
        client_for(handler).reject(3, "x")
    assert "- reason: at least 1 character" in str(caught.value)


def test_unreachable_api_says_how_to_start_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(UIError) as caught:
        client_for(handler).health()
    assert caught.value.code == "unreachable"
    assert "Cannot reach the Moments API at http://api.test" in str(caught.value)
    assert "`moments serve` or `moments up`" in str(caught.value)


def test_a_non_json_answer_is_named() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>not the API</html>")

    with pytest.raises(UIError, match="not JSON"):
        client_for(handler).health()


def test_knowledge_source_with_slashes_keeps_its_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"source": "x", "deleted": 2})

    client_for(handler).delete_source("knowledge/guidelines/a b.md")
    assert seen == ["/v1/knowledge/sources/knowledge/guidelines/a%20b.md"]


def test_tenure_reads_like_a_person_would_say_it() -> None:
    today = date(2026, 11, 26)
    assert tenure("2024-05-01", today) == "member for 2 years, 6 months"
    assert tenure("2026-11-20", today) == "member for 6 days"
    assert tenure("2026-11-26", today) == "joined today"
    assert tenure(None, today) == "join date unknown"
    assert tenure("not a date", today) == "join date unknown"


def test_highlight_marks_spans_and_escapes_the_rest() -> None:
    text = "We will fix it by Friday. *Promise*"
    marked = highlight(text, ["by Friday"])
    assert ":red-background[**by Friday**]" in marked
    assert "\\*Promise\\*" in marked
    assert highlight(text, ["not there"]) == escape_md(text)


def write_run(folder: Path, name: str, payload: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def test_runs_are_read_in_time_order_and_bad_files_are_named(tmp_path: Path) -> None:
    write_run(
        tmp_path, "b", {"id": "b", "created_at": "2026-11-25T10:00:00Z", "scores": {"warmth": 0.6}}
    )
    write_run(
        tmp_path, "a", {"id": "a", "created_at": "2026-11-24T10:00:00Z", "scores": {"warmth": 0.8}}
    )
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    write_run(tmp_path, "empty", {"id": "nothing"})
    runs, problems = load_runs([tmp_path])
    assert [r.id for r in runs] == ["a", "b"]
    assert any(p.startswith("broken.json") for p in problems)
    assert any(p.startswith("empty.json") and "no scores" in p for p in problems)


def test_case_scores_are_averaged_when_a_run_has_no_summary(tmp_path: Path) -> None:
    path = write_run(
        tmp_path,
        "r",
        {
            "results": [
                {"case_id": "c1", "scores": {"warmth": {"score": 0.4}, "empathy": 1.0}},
                {"case_id": "c2", "scores": {"warmth": 0.8}},
            ]
        },
    )
    run = parse_run(path)
    assert run.scores == {"empathy": 1.0, "warmth": pytest.approx(0.6)}
    assert set(run.cases) == {"c1", "c2"}


def test_regressions_are_drops_beyond_the_threshold_or_new_failures(tmp_path: Path) -> None:
    base = parse_run(
        write_run(
            tmp_path,
            "base",
            {
                "cases": [
                    {"id": "same", "overall": 0.8},
                    {"id": "drop", "overall": 0.9},
                    {"id": "fail", "overall": 0.7, "passed": True},
                    {"id": "gone", "overall": 0.7},
                ]
            },
        )
    )
    cand = parse_run(
        write_run(
            tmp_path,
            "cand",
            {
                "cases": [
                    {"id": "same", "overall": 0.78},
                    {"id": "drop", "overall": 0.5},
                    {"id": "fail", "overall": 0.7, "passed": False},
                ]
            },
        )
    )
    found = {r.case: r.reason for r in regressions(base, cand)}
    assert found == {"drop": "score fell by 0.40", "fail": "passed before, fails now"}
