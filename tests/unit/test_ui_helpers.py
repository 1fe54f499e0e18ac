"""The UI's pure parts: the API client's error mapping and paths, and text helpers."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from ui.client import MomentsClient, UIError
from ui.components import escape_md, highlight, tenure


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


def test_sign_in_returns_who_the_key_is_and_refuses_a_plugin_key() -> None:
    role = "reviewer"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/me"
        return httpx.Response(200, json={"key_id": 7, "name": "maya", "role": role})

    assert client_for(handler).sign_in() == {"key_id": 7, "name": "maya", "role": "reviewer"}
    role = "plugin"
    with pytest.raises(UIError) as caught:
        client_for(handler).sign_in()
    assert caught.value.status == 403 and "plugin key" in caught.value.message


def test_member_handles_and_run_ids_are_one_path_segment() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={})

    api = client_for(handler)
    api.member("sam/../r", community="default")
    api.eval_run("run 1")
    api.source("guidelines/a b.md")
    assert seen == [
        "/v1/members/sam%2F..%2Fr?community=default&limit=50",
        "/v1/evals/runs/run%201",
        "/v1/knowledge/sources/guidelines/a%20b.md",
    ]
