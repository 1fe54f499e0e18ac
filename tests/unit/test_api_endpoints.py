"""The rest of the surface: posts with ?wait, job events, plugin visibility, streaming drafts,
crisis statements, knowledge, tone, moments, health, readiness and metrics."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.testing import Harness, build_harness
from copilot.llm.fake import FakeChatModel

POST = {
    "text": "Hi all! I'm new here. I just got my Lumen Hub and I'm not sure how to pair it "
    "with the app. Any tips?",
    "title": "Pairing my first Hub",
    "member": {"handle": "robin", "name": "Robin", "joined_at": "2026-03-01", "post_count": 1},
    "forum": "discourse",
    "forum_post_id": "9911",
    "topic_id": "501",
    "post_number": 1,
}

FACTS = {
    "title": "Lumen Cloud sync outage",
    "what_happened": "Lumen Cloud sync is failing for remote access and scene backups",
    "started_at": "14:05 UTC on 3 March",
    "affected": "members using remote access or scene backup",
    "known": ["local control on the Hub still works"],
    "unknown": ["when sync will be restored"],
    "actions_taken": ["engineers are rolling back the change"],
    "next_update_at": "15:00 UTC",
}


class FakeRetriever:
    def search(self, query: str, **kwargs: object) -> list[object]:
        return []


@pytest.fixture
def model() -> FakeChatModel:
    return FakeChatModel(
        default="Thanks for reaching out, Robin. Welcome to Lumen Makers! Pairing is quick: "
        "open the app and follow the Add Hub steps."
    )


@pytest.fixture
def harness(tmp_path: Path, model: FakeChatModel) -> Iterator[Harness]:
    h = build_harness(tmp_path, model=model, index=FakeRetriever())
    yield h
    h.store.close()


# Posts and jobs ------------------------------------------------------------------------------


def test_submit_returns_job_and_is_idempotent(client: TestClient, harness: Harness) -> None:
    first = client.post("/v1/posts", json=POST, headers=harness.auth("plugin"))
    assert first.status_code == 202
    body = first.json()
    assert body["duplicate"] is False and body["job"]["status"] == "queued"
    again = client.post("/v1/posts", json=POST, headers=harness.auth("plugin")).json()
    assert again["duplicate"] is True and again["job_id"] == body["job_id"]
    assert len(harness.store.list_jobs()) == 1


def test_wait_returns_the_draft_when_the_worker_finishes(
    client: TestClient, harness: Harness
) -> None:
    def later() -> None:
        time.sleep(0.3)
        harness.work()

    worker = threading.Thread(target=later)
    worker.start()
    response = client.post("/v1/posts?wait=10", json=POST, headers=harness.auth("plugin"))
    worker.join()
    assert response.status_code == 200
    body = response.json()
    assert body["job"]["status"] == "done"
    assert body["draft"]["text"].startswith("Thanks for raising this, Robin")
    assert body["draft"]["post"]["forum_post_id"] == "9911"


def test_wait_gives_up_and_returns_the_queued_job(client: TestClient, harness: Harness) -> None:
    body = client.post("/v1/posts?wait=0.3", json=POST, headers=harness.auth("plugin")).json()
    assert body["job"]["status"] == "queued" and body["draft"] is None


def test_job_events_stream_until_done(client: TestClient, harness: Harness) -> None:
    job_id = client.post("/v1/posts", json=POST, headers=harness.auth("plugin")).json()["job_id"]
    harness.work()
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=harness.auth("plugin")) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event:")]
    assert events == ["status", "done"]
    data = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    assert data[-1]["draft_id"] is not None


def test_plugins_see_only_their_own_posts(client: TestClient, harness: Harness) -> None:
    job_id = client.post("/v1/posts", json=POST, headers=harness.auth("plugin")).json()["job_id"]
    harness.work()
    other_plugin = harness.store.create_api_key("plugin", "other-forum")[1]
    other = {"Authorization": f"Bearer {other_plugin}"}
    mine = client.get("/v1/drafts", headers=harness.auth("plugin")).json()["items"]
    assert len(mine) == 1
    draft_id = mine[0]["id"]
    assert client.get("/v1/drafts", headers=other).json()["items"] == []
    assert client.get(f"/v1/drafts/{draft_id}", headers=other).status_code == 404
    assert client.get(f"/v1/jobs/{job_id}", headers=other).status_code == 404
    resubmitted = client.post("/v1/posts", json=POST, headers=other).json()
    assert resubmitted["duplicate"] is True
    assert resubmitted["job"] is None and resubmitted["draft"] is None
    assert client.get(f"/v1/drafts/{draft_id}", headers=harness.auth("plugin")).status_code == 200
    assert len(client.get("/v1/drafts", headers=harness.auth("reviewer")).json()["items"]) == 1


def test_queue_filters_and_counts(client: TestClient, harness: Harness) -> None:
    client.post("/v1/posts", json=POST, headers=harness.auth("plugin"))
    harness.work()
    auth = harness.auth("reviewer")
    assert len(client.get("/v1/drafts?moment=question", headers=auth).json()["items"]) == 1
    assert client.get("/v1/drafts?moment=crisis", headers=auth).json()["items"] == []
    assert client.get("/v1/drafts?status=approved", headers=auth).json()["items"] == []
    bad = client.get("/v1/drafts?moment=gossip", headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "moment"
    blanks = client.get("/v1/drafts?status=&moment=&urgency=&community=", headers=auth)
    assert blanks.status_code == 200 and len(blanks.json()["items"]) == 1  # httpx sends None so
    counts = client.get("/v1/drafts/counts?community=", headers=auth).json()
    assert counts["total"] == 1 and counts["by_moment"] == {"question": 1}


def test_missing_draft_is_404(client: TestClient, harness: Harness) -> None:
    response = client.get("/v1/drafts/4242", headers=harness.auth("reviewer"))
    assert response.status_code == 404
    assert "4242" in response.json()["error"]["message"]


# Interactive drafting ------------------------------------------------------------------------


def test_draft_stream_sends_tokens_then_the_draft(
    client: TestClient, harness: Harness, model: FakeChatModel
) -> None:
    with client.stream(
        "POST", "/v1/drafts/stream", json={"post": POST}, headers=harness.auth("reviewer")
    ) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    events = [line[7:] for line in text.splitlines() if line.startswith("event: ")]
    assert events.count("token") >= 3 and events[-1] == "draft"
    payloads = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    assert payloads[-1]["text"] and payloads[-1]["prompt"]["sha"]
    assert model.history, "the model was called"


def test_draft_stream_reports_errors_as_an_event(client: TestClient, harness: Harness) -> None:
    with client.stream(
        "POST",
        "/v1/drafts/stream",
        json={"post": {**POST, "text": "   "}},
        headers=harness.auth("reviewer"),
    ) as r:
        text = "".join(r.iter_text())
    assert "event: error" in text and '"code": "bad_input"' in text


# Crisis --------------------------------------------------------------------------------------


def test_incident_statements_approve_reject_and_update(
    client: TestClient, harness: Harness
) -> None:
    auth = harness.auth("reviewer")
    created = client.post(
        "/v1/incidents",
        json={"incident_id": "inc-sync", "facts": FACTS, "channels": ["forum", "banner"]},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["id"] == "inc-sync" and incident["stage"] == "initial"
    assert {s["channel"] for s in incident["statements"]} == {"forum", "banner"}
    assert all("14:05 UTC" in s["text"] for s in incident["statements"] if s["channel"] == "forum")

    again = client.post(
        "/v1/incidents", json={"incident_id": "inc-sync", "facts": FACTS}, headers=auth
    )
    assert again.status_code == 409

    approved = client.post("/v1/incidents/inc-sync/statements/forum/approve", headers=auth)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    twice = client.post("/v1/incidents/inc-sync/statements/forum/approve", headers=auth)
    assert twice.status_code == 409
    rejected = client.post(
        "/v1/incidents/inc-sync/statements/banner/reject", json={"reason": "too long"}, headers=auth
    )
    assert rejected.status_code == 200 and rejected.json()["reason"] == "too long"

    no_time = client.post(
        "/v1/incidents/inc-sync/updates", json={"stage": "resolved", "facts": {}}, headers=auth
    )
    assert no_time.status_code == 400 and "resolved_at" in no_time.json()["error"]["message"]
    resolved = client.post(
        "/v1/incidents/inc-sync/updates",
        json={
            "stage": "resolved",
            "facts": {"resolved_at": "16:40 UTC", "known": ["sync is back"]},
        },
        headers=auth,
    )
    assert resolved.status_code == 201, resolved.text
    body = resolved.json()
    assert body["stage"] == "resolved"
    assert body["facts"]["known"] == ["local control on the Hub still works", "sync is back"]
    assert client.get("/v1/incidents/nope", headers=auth).status_code == 404


def test_incident_facts_are_validated_by_field(client: TestClient, harness: Harness) -> None:
    facts = {k: v for k, v in FACTS.items() if k != "next_update_at"}
    response = client.post("/v1/incidents", json={"facts": facts}, headers=harness.auth("reviewer"))
    assert response.status_code == 400
    assert "next_update_at" in response.json()["error"]["message"]


# Tone and moments ----------------------------------------------------------------------------


def test_tone_card_flags_over_promising(client: TestClient, harness: Harness) -> None:
    response = client.post(
        "/v1/tone",
        json={
            "text": "Don't worry, we will refund you and this will never happen again.",
            "post": "My hub died, I want my money back",
            "moment": "complaint",
        },
        headers=harness.auth("plugin"),
    )
    assert response.status_code == 200, response.text
    card = response.json()
    assert card["flagged"] is True
    assert "over_promising" in {f["code"] for f in card["flags"]}
    assert card["scores"]


def test_moment_of_a_newcomer_question(client: TestClient, harness: Harness) -> None:
    response = client.post("/v1/moments", json=POST, headers=harness.auth("plugin"))
    assert response.status_code == 200, response.text
    assert response.json()["type"] in ("first_question", "welcome")


def test_empty_post_is_400_from_the_classifier(client: TestClient, harness: Harness) -> None:
    response = client.post("/v1/moments", json={"text": "  "}, headers=harness.auth("plugin"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_input"


# Health, readiness, metrics ------------------------------------------------------------------


def test_ready_reports_each_dependency(client: TestClient) -> None:
    body = client.get("/v1/ready").json()
    names = [c["name"] for c in body["checks"]]
    assert names == ["database", "index", "model"]
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["database"]["ok"] is True
    assert checks["model"]["ok"] is True and "fake" in checks["model"]["detail"]
    assert checks["index"]["ok"] is False  # the fake retriever has no stats()
    assert body["ready"] is False


def test_metrics_count_jobs_drafts_and_requests(client: TestClient, harness: Harness) -> None:
    client.post("/v1/posts", json=POST, headers=harness.auth("plugin"))
    harness.work()
    client.get("/v1/drafts/99", headers=harness.auth("reviewer"))
    metrics = client.get("/v1/metrics", headers=harness.auth("reviewer")).json()
    assert metrics["jobs"].get("done") == 1
    assert metrics["drafts"]["pending"] == 1
    posts = metrics["requests"]["POST /v1/posts"]
    assert posts["count"] == 1 and posts["statuses"] == {"202": 1}
    assert metrics["requests"]["GET /v1/drafts/{draft_id}"]["statuses"] == {"404": 1}


def test_openapi_documents_errors_and_tags(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    approve = spec["paths"]["/v1/drafts/{draft_id}/approve"]["post"]
    assert approve["tags"] == ["drafts"] and approve["summary"]
    assert {"401", "403", "404", "409", "422"} <= set(approve["responses"])
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])
