"""The Discourse webhook: signature first, then Discourse's own payload shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.discourse import html_to_text, post_from_payload, sign, verify_signature
from api.testing import TEST_SECRET, Harness, build_harness, discourse_headers, sample_payload

URL = "/v1/webhooks/discourse"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = build_harness(tmp_path, max_body_bytes=4096)
    yield h
    h.store.close()


def deliver(
    client: TestClient,
    payload: object,
    *,
    event: str = "post_created",
    secret: str | None = TEST_SECRET,
    event_id: str | None = None,
    raw: bytes | None = None,
) -> object:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = discourse_headers(body, secret, event=event, event_id=event_id)
    return client.post(URL, content=body, headers=headers)


def counts(harness: Harness) -> tuple[int, int]:
    jobs = harness.store.list_jobs(limit=1000)
    return len({j.post_id for j in jobs}), len(jobs)


# Signatures ------------------------------------------------------------------------------------


def test_signature_helpers_agree_and_reject_tampering() -> None:
    body = b'{"post": {"id": 1}}'
    header = sign("s", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature("s", body, header)
    assert verify_signature("s", body, header.upper().replace("SHA256=", "sha256="))
    assert not verify_signature("s", body + b" ", header)
    assert not verify_signature("other", body, header)
    assert not verify_signature("s", body, None)
    assert not verify_signature("s", body, "sha1=" + header[7:])
    assert not verify_signature("s", body, "sha256=")


def test_good_signature_queues_one_job(client: TestClient, harness: Harness) -> None:
    response = deliver(client, sample_payload("post_created"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "queued" and body["duplicate"] is False
    job = harness.store.get_job(body["job_id"])
    post = harness.store.get_post(job.post_id)
    assert post.forum == "discourse" and post.forum_post_id == "1842" and post.topic_id == "377"
    assert post.post_number == 1 and post.title == "Hub offline after LumenOS 3.3 update"
    assert post.text.startswith("My Lumen Hub dropped off Wi-Fi after the **LumenOS 3.3**")
    assert post.member is not None and post.member.handle == "samr"
    assert post.member.name == "Sam Rivera"


@pytest.mark.parametrize(
    ("secret", "why"),
    [(None, "missing"), ("wrong-secret", "HMAC"), ("", "missing")],
)
def test_bad_or_missing_signature_is_401_and_stores_nothing(
    client: TestClient,
    harness: Harness,
    secret: str | None,
    why: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = json.dumps(sample_payload("post_created")).encode()
    headers = discourse_headers(body, secret or None)
    if secret == "":
        headers["X-Discourse-Event-Signature"] = ""
    with caplog.at_level("WARNING", logger="moments.api.discourse"):
        response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "bad_signature" and why in error["message"]
    assert "MOMENTS_DISCOURSE_WEBHOOK_SECRET" in error["hint"]
    assert counts(harness) == (0, 0)
    assert any("discourse webhook refused" in r.message for r in caplog.records)


def test_signature_of_a_different_body_is_refused(client: TestClient, harness: Harness) -> None:
    payload = sample_payload("post_created")
    good = json.dumps(payload).encode()
    headers = discourse_headers(good, TEST_SECRET)
    payload["post"]["raw"] = "tampered"
    response = client.post(URL, content=json.dumps(payload).encode(), headers=headers)
    assert response.status_code == 401
    assert counts(harness) == (0, 0)


def test_signature_is_checked_before_parsing(client: TestClient) -> None:
    response = deliver(client, None, raw=b"{not json", secret="wrong")
    assert response.status_code == 401  # not 400: nothing unsigned is parsed


def test_unconfigured_secret_refuses_everything(tmp_path: Path) -> None:
    h = build_harness(tmp_path, discourse_webhook_secret=None)
    with TestClient(h.app) as c:
        response = deliver(c, sample_payload("post_created"))
    assert response.status_code == 500
    assert "MOMENTS_DISCOURSE_WEBHOOK_SECRET" in response.json()["error"]["hint"]
    assert h.store.list_jobs() == []
    h.store.close()


# Redelivery and event kinds --------------------------------------------------------------------


def test_redelivery_with_new_event_id_is_one_post_one_job(
    client: TestClient, harness: Harness
) -> None:
    payload = sample_payload("post_created")
    first = deliver(client, payload, event_id="101").json()
    second = deliver(client, payload, event_id="102").json()
    third = deliver(client, payload, event_id="103").json()
    assert first["outcome"] == "queued"
    assert second["outcome"] == third["outcome"] == "duplicate"
    assert second["duplicate"] is True
    assert first["post_id"] == second["post_id"] == third["post_id"]
    assert first["job_id"] == second["job_id"]
    assert counts(harness) == (1, 1)


def test_edited_version_is_a_new_revision(client: TestClient, harness: Harness) -> None:
    payload = sample_payload("post_created")
    deliver(client, payload)
    payload["post"]["version"] = 2
    payload["post"]["raw"] += "\n\nEdit: it came back after a factory reset."
    response = deliver(client, payload).json()
    assert response["duplicate"] is False


def test_ping_answers_pong(client: TestClient) -> None:
    response = deliver(client, sample_payload("ping"), event="ping")
    assert response.status_code == 200
    assert response.json()["ok"] is True and response.json()["outcome"] == "pong"


def test_unknown_event_is_acknowledged_and_ignored(client: TestClient, harness: Harness) -> None:
    response = deliver(client, sample_payload("user_created"), event="user_created")
    assert response.status_code == 202
    body = response.json()
    assert body["outcome"] == "ignored" and "user_created" in body["reason"]
    assert counts(harness) == (0, 0)


def test_topic_created_is_recorded_without_a_job(client: TestClient, harness: Harness) -> None:
    response = deliver(client, sample_payload("topic_created"), event="topic_created")
    assert response.status_code == 200
    assert response.json()["outcome"] == "stored"
    assert counts(harness) == (0, 0)
    audit = harness.store.list_audit(entity="topic", entity_id="377")
    assert audit and audit[0].detail["title"] == "Hub offline after LumenOS 3.3 update"


def test_staff_post_is_stored_not_drafted(client: TestClient, harness: Harness) -> None:
    response = deliver(client, sample_payload("post_created_staff"))
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "stored" and "staff" in body["reason"]
    assert harness.store.get_post(body["post_id"]).text.startswith("Thanks Sam")
    assert harness.store.list_jobs() == []


def test_post_by_the_api_user_is_not_drafted(client: TestClient, harness: Harness) -> None:
    payload = sample_payload("post_created")
    payload["post"].update(username="moments-bot", id=5555)
    body = deliver(client, payload).json()
    assert body["outcome"] == "stored" and "API user" in body["reason"]
    assert harness.store.list_jobs() == []


def test_cooked_html_is_stripped_when_raw_is_absent(client: TestClient, harness: Harness) -> None:
    body = deliver(client, sample_payload("post_created_reply_cooked_only")).json()
    post = harness.store.get_post(body["post_id"])
    assert "<p>" not in post.text and "&amp;" not in post.text
    assert "Same here & it's really frustrating." in post.text
    assert "none of my scenes run" in post.text and ":angry:" in post.text
    assert post.post_number == 3


def test_html_to_text_keeps_paragraphs() -> None:
    assert html_to_text("<p>One</p><p>Two <b>bold</b></p><script>x()</script>") == "One\n\nTwo bold"


def test_mapping_marks_member_roles() -> None:
    mapped = post_from_payload(sample_payload("post_created"), community_id="lumen")
    assert mapped.draft and mapped.revision == 1
    assert mapped.post.community_id == "lumen" and mapped.post.category == "support"
    assert "trust_level_1" in mapped.post.member.roles


# Malformed and oversized -----------------------------------------------------------------------


def test_malformed_json_is_400_naming_the_problem(client: TestClient, harness: Harness) -> None:
    response = deliver(client, None, raw=b'{"post": {"id": 1,}')
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "not valid JSON" in message and "line 1" in message
    assert counts(harness) == (0, 0)


def test_payload_without_post_object_is_400(client: TestClient) -> None:
    response = deliver(client, {"topic": {"id": 3}}, event="post_created")
    assert response.status_code == 400
    assert '"post"' in response.json()["error"]["message"]


def test_oversized_body_is_413_with_the_limit(client: TestClient, harness: Harness) -> None:
    payload = sample_payload("post_created")
    payload["post"]["raw"] = "x" * 10_000
    response = deliver(client, payload)
    assert response.status_code == 413
    assert "4096 bytes" in response.json()["error"]["message"]
    assert counts(harness) == (0, 0)


def test_oversized_body_without_content_length_is_413(client: TestClient) -> None:
    body = json.dumps({"post": {"raw": "y" * 10_000}}).encode()
    headers = discourse_headers(body, TEST_SECRET)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = client.post(URL, content=chunks(), headers=headers)
    assert response.status_code == 413
    assert "4096 bytes" in response.json()["error"]["message"]
