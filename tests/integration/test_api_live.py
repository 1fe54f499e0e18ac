"""The whole loop against a real uvicorn server on a loopback port, on SQLite and on
PostgreSQL (a fresh schema per test): signed Discourse webhooks (with redeliveries) → worker →
queue → approve (two reviewers racing) → publish to a loopback Discourse, exactly once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.testing import (
    TEST_SECRET,
    LoopbackDiscourse,
    discourse_headers,
    live_server,
    sample_payload,
)
from copilot.settings import load_settings
from copilot.store import Store, open_store
from copilot.store_records import DraftRecord
from copilot.worker import fake_draft, run_worker

FORUM_KEY = "live-discourse-key"


@pytest.fixture
def forum() -> Iterator[LoopbackDiscourse]:
    server = LoopbackDiscourse()
    yield server
    server.close()


@pytest.fixture
def env(tmp_path: Path, database_url: str, forum: LoopbackDiscourse) -> dict[str, str]:
    return {
        "MOMENTS_ENV": "test",
        "MOMENTS_DATA_DIR": str(tmp_path / "data"),
        "MOMENTS_DATABASE_URL": database_url,
        "MOMENTS_DISCOURSE_WEBHOOK_SECRET": TEST_SECRET,
        "MOMENTS_DISCOURSE_URL": forum.url,
        "MOMENTS_DISCOURSE_API_KEY": FORUM_KEY,
        "MOMENTS_DISCOURSE_API_USERNAME": "moments-bot",
    }


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    yield opened
    opened.close()


def _ignore(record: DraftRecord) -> None:
    return None


def test_live_loop(
    env: dict[str, str], store: Store, forum: LoopbackDiscourse, tmp_path: Path
) -> None:
    reviewer = store.create_api_key("reviewer", "Maya Okafor")[1]
    second = store.create_api_key("reviewer", "Dev Patel")[1]
    plugin = store.create_api_key("plugin", "discourse-plugin")[1]
    with (
        live_server(env, log_path=tmp_path / "api.log") as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        body = json.dumps(sample_payload("post_created")).encode()
        first = http.post(
            "/v1/webhooks/discourse",
            content=body,
            headers=discourse_headers(body, TEST_SECRET, event_id="7001"),
        )
        redelivered = http.post(
            "/v1/webhooks/discourse",
            content=body,
            headers=discourse_headers(body, TEST_SECRET, event_id="7002"),
        )
        unsigned = http.post(
            "/v1/webhooks/discourse", content=body, headers=discourse_headers(body, None)
        )
        assert first.status_code == 200 and first.json()["outcome"] == "queued"
        assert redelivered.json()["outcome"] == "duplicate"
        assert unsigned.status_code == 401
        assert len(store.list_jobs()) == 1

        settings = load_settings(**{k[8:].lower(): v for k, v in env.items()})
        stats = run_worker(
            settings, once=True, store=store, drafter=fake_draft, learner=_ignore, poll=0.01
        )
        assert stats.drafted == 1

        who = {"Authorization": f"Bearer {reviewer}"}
        queue = http.get("/v1/drafts", headers=who).json()["items"]
        assert len(queue) == 1
        draft_id = queue[0]["id"]
        assert http.get("/v1/drafts", headers={"X-API-Key": plugin}).json()["items"] == []

        results: list[int] = []

        def approve(key: str) -> None:
            response = http.post(
                f"/v1/drafts/{draft_id}/approve",
                json={"expected_version": 1},
                headers={"Authorization": f"Bearer {key}"},
            )
            results.append(response.status_code)

        racers = [threading.Thread(target=approve, args=(k,)) for k in (reviewer, second)]
        for t in racers:
            t.start()
        for t in racers:
            t.join()
        assert sorted(results) == [200, 409]

        published = http.post(f"/v1/drafts/{draft_id}/publish", headers=who)
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        again = http.post(f"/v1/drafts/{draft_id}/publish", headers=who)
        assert again.status_code in (200, 409)

        posted = forum.posted()
        assert len(posted) == 1
        assert posted[0].headers["Api-Key"] == FORUM_KEY
        assert posted[0].headers["Api-Username"] == "moments-bot"
        assert posted[0].json["topic_id"] == 377
        assert posted[0].json["reply_to_post_number"] == 1

        record = store.get_draft(draft_id)
        assert record.status == "published"
        assert record.publication is not None and record.publication.external_post_id == "9001"

        metrics = http.get("/v1/metrics", headers=who).json()
        assert metrics["requests"]["POST /v1/webhooks/discourse"]["statuses"] == {
            "200": 2,
            "401": 1,
        }
