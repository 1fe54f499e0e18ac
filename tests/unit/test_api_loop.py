"""The whole loop over HTTP: Discourse webhook → worker → queue → approve → publish to a
loopback Discourse → publication recorded, and never posted twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.testing import (
    TEST_SECRET,
    Harness,
    LoopbackDiscourse,
    build_harness,
    discourse_headers,
    sample_payload,
)
from copilot.publishing import DiscoursePublisher

FORUM_KEY = "discourse-api-key-for-tests"


@pytest.fixture
def forum() -> Iterator[LoopbackDiscourse]:
    server = LoopbackDiscourse()
    yield server
    server.close()


@pytest.fixture
def harness(tmp_path: Path, forum: LoopbackDiscourse) -> Iterator[Harness]:
    publisher = DiscoursePublisher(
        forum.url, FORUM_KEY, "moments-bot", timeout=5.0, sleep=lambda _s: None
    )
    h = build_harness(
        tmp_path,
        publisher=publisher,
        discourse_url=forum.url,
        discourse_api_key=FORUM_KEY,
    )
    yield h
    publisher.close()
    h.store.close()


def webhook(client: TestClient, name: str = "post_created") -> dict[str, object]:
    body = json.dumps(sample_payload(name)).encode()
    response = client.post(
        "/v1/webhooks/discourse", content=body, headers=discourse_headers(body, TEST_SECRET)
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_full_loop_publishes_exactly_once(
    client: TestClient, harness: Harness, forum: LoopbackDiscourse
) -> None:
    received = webhook(client)
    job_id = received["job_id"]
    assert (
        client.get(f"/v1/jobs/{job_id}", headers=harness.auth("reviewer")).json()["status"]
        == "queued"
    )

    harness.work()

    job = client.get(f"/v1/jobs/{job_id}", headers=harness.auth("reviewer")).json()
    assert job["status"] == "done" and job["draft_id"]
    queue = client.get("/v1/drafts", headers=harness.auth("reviewer")).json()["items"]
    assert [row["id"] for row in queue] == [job["draft_id"]]
    draft_id = queue[0]["id"]
    assert queue[0]["member_handle"] == "samr"

    detail = client.get(f"/v1/drafts/{draft_id}", headers=harness.auth("reviewer")).json()
    assert detail["post"]["forum_post_id"] == "1842"
    assert detail["draft"]["prompt"]["name"] == "fake"
    assert detail["text"].startswith("Thanks for raising this, Sam Rivera.")

    edited = "Hi Sam, sorry the 3.3 update knocked your Hub offline. Here is how to roll back."
    approved = client.post(
        f"/v1/drafts/{draft_id}/approve",
        json={"text": edited, "expected_version": detail["version"]},
        headers=harness.auth("reviewer"),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["reviewer"] == "reviewer-key"

    published = client.post(f"/v1/drafts/{draft_id}/publish", headers=harness.auth("reviewer"))
    assert published.status_code == 200, published.text
    publication = published.json()
    assert publication["status"] == "published"
    assert publication["external_post_id"] == "9001"

    posted = forum.posted()
    assert len(posted) == 1
    sent = posted[0]
    assert sent.headers["Api-Key"] == FORUM_KEY
    assert sent.headers["Api-Username"] == "moments-bot"
    assert sent.json["topic_id"] == 377
    assert sent.json["reply_to_post_number"] == 1
    assert sent.json["raw"].startswith(edited)
    assert set(sent.json) == {"topic_id", "raw", "reply_to_post_number"}

    listed = client.get(
        "/v1/publications", params={"draft_id": draft_id}, headers=harness.auth("reviewer")
    ).json()
    assert [p["status"] for p in listed] == ["published"]

    again = client.post(f"/v1/drafts/{draft_id}/publish", headers=harness.auth("reviewer"))
    assert again.status_code in (200, 409)
    assert len(forum.posted()) == 1  # never posted twice

    final = client.get(f"/v1/drafts/{draft_id}", headers=harness.auth("reviewer")).json()
    assert final["status"] == "published"
    actions = [a["action"] for a in final["audit"]]
    assert actions, "the draft's audit trail is shown"

    metrics = client.get("/v1/metrics", headers=harness.auth("reviewer")).json()
    assert metrics["publications"] == {"published": 1}
    assert metrics["drafts"] == {"published": 1}
    assert metrics["jobs"] == {"done": 1, "queued": 1}  # the draft job, and the learning job


def test_double_approve_is_409_with_a_clear_message(client: TestClient, harness: Harness) -> None:
    webhook(client)
    harness.work()
    draft_id = client.get("/v1/drafts", headers=harness.auth("reviewer")).json()["items"][0]["id"]
    first = client.post(f"/v1/drafts/{draft_id}/approve", json={}, headers=harness.auth("reviewer"))
    assert first.status_code == 200
    second = client.post(f"/v1/drafts/{draft_id}/approve", json={}, headers=harness.auth("admin"))
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "conflict" and "approved" in error["message"]


def test_stale_expected_version_is_409(client: TestClient, harness: Harness) -> None:
    webhook(client)
    harness.work()
    draft_id = client.get("/v1/drafts", headers=harness.auth("reviewer")).json()["items"][0]["id"]
    edit = client.post(
        f"/v1/drafts/{draft_id}/edit",
        json={"text": "A warmer version.", "expected_version": 1},
        headers=harness.auth("reviewer"),
    )
    assert edit.status_code == 200 and edit.json()["version"] == 2
    stale = client.post(
        f"/v1/drafts/{draft_id}/approve",
        json={"expected_version": 1},
        headers=harness.auth("admin"),
    )
    assert stale.status_code == 409
    assert "version" in stale.json()["error"]["message"]


def test_reject_needs_a_reason_and_then_records_it(client: TestClient, harness: Harness) -> None:
    webhook(client)
    harness.work()
    draft_id = client.get("/v1/drafts", headers=harness.auth("reviewer")).json()["items"][0]["id"]
    missing = client.post(
        f"/v1/drafts/{draft_id}/reject", json={}, headers=harness.auth("reviewer")
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "reason"
    rejected = client.post(
        f"/v1/drafts/{draft_id}/reject",
        json={"reason": "Promises a fix date"},
        headers=harness.auth("reviewer"),
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["reviews"][-1]["reason"] == "Promises a fix date"
    publish = client.post(f"/v1/drafts/{draft_id}/publish", headers=harness.auth("reviewer"))
    assert publish.status_code == 409


def test_regenerate_queues_a_job_whose_draft_supersedes(
    client: TestClient, harness: Harness
) -> None:
    webhook(client)
    harness.work()
    draft_id = client.get("/v1/drafts", headers=harness.auth("reviewer")).json()["items"][0]["id"]
    response = client.post(
        f"/v1/drafts/{draft_id}/regenerate",
        json={"instruction": "mention the rollback guide"},
        headers=harness.auth("reviewer"),
    )
    assert response.status_code == 202
    harness.work()
    queue = client.get("/v1/drafts", headers=harness.auth("reviewer")).json()["items"]
    assert len(queue) == 1 and queue[0]["id"] != draft_id
    assert "mention the rollback guide" in queue[0]["text"]


def test_failed_publication_is_retried_by_publish(
    client: TestClient, harness: Harness, forum: LoopbackDiscourse
) -> None:
    webhook(client)
    harness.work()
    draft_id = client.get("/v1/drafts", headers=harness.auth("reviewer")).json()["items"][0]["id"]
    client.post(f"/v1/drafts/{draft_id}/approve", json={}, headers=harness.auth("reviewer"))
    forum.fail_next = 10
    failed = client.post(f"/v1/drafts/{draft_id}/publish", headers=harness.auth("reviewer"))
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "publish_failed"
    forum.fail_next = 0
    retried = client.post(f"/v1/drafts/{draft_id}/publish", headers=harness.auth("reviewer"))
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "published"
    assert len(forum.posts) == 1
