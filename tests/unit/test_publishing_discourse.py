"""DiscoursePublisher against a small fake Discourse on loopback (http.server in a thread)
that records what it receives and can fail N times or time out once after accepting."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_store_contract import drafted

from copilot import review
from copilot.publishing import DiscoursePublisher, PublishAttemptError, build_publisher, marker
from copilot.settings import load_settings
from copilot.store import PostRecord, Store, open_store


class FakeDiscourse:
    """Just enough of Discourse: POST /posts.json, GET /t/ID.json, GET /posts/ID.json."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.fail: list[int] = []  # status codes to answer the next POSTs with
        self.hang_after_accept = 0.0  # seconds to stall after storing the next POST
        self.page_size = 20  # posts in the first page of GET /t/ID.json
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(("POST", self.path, dict(self.headers), body))
                    status = server.fail.pop(0) if server.fail else 200
                    if status != 200:
                        extra = {"Retry-After": "0"} if status == 429 else None
                        return self._send(status, {"errors": ["nope"]}, extra)
                    post_id = 9000 + len(server.posts)
                    server.posts.append(
                        {"id": post_id, "username": self.headers["Api-Username"], **body}
                    )
                    hang, server.hang_after_accept = server.hang_after_accept, 0.0
                if hang:
                    time.sleep(hang)
                self._send(
                    200,
                    {
                        "id": post_id,
                        "topic_id": body["topic_id"],
                        "topic_slug": "hub-offline",
                        "post_number": len(server.posts) + 1,
                    },
                )

            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(("GET", self.path, dict(self.headers), None))
                    topic = re.match(r"/t/(\d+)\.json", self.path)
                    page = re.match(r"/t/(\d+)/posts\.json\?(.*)", self.path)
                    if page:
                        wanted = {
                            int(v) for v in re.findall(r"post_ids%5B%5D=(\d+)", page.group(2))
                        }
                        found = [
                            {"id": p["id"], "username": p["username"], "raw": p["raw"]}
                            for p in server.posts
                            if p["id"] in wanted
                        ]
                        return self._send(200, {"post_stream": {"posts": found}})
                    single = re.match(r"/posts/(\d+)\.json", self.path)
                    if topic:
                        # like Discourse: cooked HTML without comments, and no raw
                        stream = [
                            {
                                "id": p["id"],
                                "username": p["username"],
                                "cooked": "<p>" + re.sub(r"<!--.*?-->", "", p["raw"]) + "</p>",
                            }
                            for p in server.posts
                            if str(p["topic_id"]) == topic.group(1)
                        ]
                        # like Discourse: the first page of posts, and every post id
                        body = {
                            "posts": stream[: server.page_size],
                            "stream": [p["id"] for p in stream],
                        }
                        return self._send(200, {"post_stream": body})
                    if single:
                        for p in server.posts:
                            if p["id"] == int(single.group(1)):
                                return self._send(200, {"id": p["id"], "raw": p["raw"]})
                    return self._send(404, {"errors": ["not found"]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeDiscourse:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def forum() -> Iterator[FakeDiscourse]:
    with FakeDiscourse() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'moments.db'}")
    yield opened
    opened.close()


def post_record(topic: str | None = "42", number: int | None = 3) -> PostRecord:
    return PostRecord(
        id=7,
        community_id="default",
        source="discourse",
        forum="discourse",
        forum_post_id="77",
        topic_id=topic,
        post_number=number,
        text="My hub is offline",
        received_at=datetime.now(UTC),
    )


def publisher_for(forum: FakeDiscourse, **kwargs: Any) -> DiscoursePublisher:
    kwargs.setdefault("timeout", 2.0)
    return DiscoursePublisher(forum.url, "secret-key", "maya", sleep=lambda s: None, **kwargs)


def test_posts_reply_with_headers_marker_and_reply_number(forum: FakeDiscourse) -> None:
    ref = publisher_for(forum).publish(post_record(), "Sorry, Sam!", idempotency_key="draft-5")
    method, path, headers, body = forum.requests[0]
    assert (method, path) == ("POST", "/posts.json")
    assert headers["Api-Key"] == "secret-key" and headers["Api-Username"] == "maya"
    assert body == {
        "topic_id": 42,
        "raw": "Sorry, Sam!\n\n<!-- moments:draft-5 -->",
        "reply_to_post_number": 3,
    }
    assert ref.external_post_id == "9000" and ref.url == f"{forum.url}/t/hub-offline/42/2"


def test_retries_5xx_and_429_then_posts_once(forum: FakeDiscourse) -> None:
    forum.fail = [503, 429, 502]
    ref = publisher_for(forum).publish(post_record(), "Hi", idempotency_key="draft-1")
    assert ref.external_post_id == "9000" and len(forum.posts) == 1
    posts = [r for r in forum.requests if r[0] == "POST"]
    assert len(posts) == 4
    # after a 5xx (which may have gone through) the topic is searched before posting again
    assert any(r[1].startswith("/t/42.json") for r in forum.requests)


def test_timeout_after_accepting_is_not_posted_twice(forum: FakeDiscourse) -> None:
    forum.hang_after_accept = 1.5
    ref = publisher_for(forum, timeout=0.5).publish(post_record(), "Hi", idempotency_key="draft-2")
    assert ref.found_existing and ref.external_post_id == "9000"
    assert len(forum.posts) == 1
    assert [r[1] for r in forum.requests if r[0] == "GET"][-1] == "/posts/9000.json"


def test_refusal_is_not_retried(forum: FakeDiscourse) -> None:
    forum.fail = [422]
    with pytest.raises(PublishAttemptError, match="refused the reply \\(422\\)") as caught:
        publisher_for(forum).publish(post_record(), "Hi", idempotency_key="draft-3")
    assert not caught.value.retryable and len(forum.requests) == 1


def test_unreachable_forum_fails_after_retries_without_ambiguity() -> None:
    publisher = DiscoursePublisher("http://127.0.0.1:9", "k", sleep=lambda s: None, max_attempts=2)
    with pytest.raises(PublishAttemptError, match="Could not reach the forum") as caught:
        publisher.publish(post_record(), "Hi", idempotency_key="draft-4")
    assert caught.value.retryable and not caught.value.ambiguous


def test_a_post_without_topic_cannot_be_published(forum: FakeDiscourse) -> None:
    with pytest.raises(PublishAttemptError, match="no Discourse topic id"):
        publisher_for(forum).publish(post_record(topic=None), "Hi", idempotency_key="draft-6")
    assert forum.requests == []


def test_find_published_matches_only_our_marker(forum: FakeDiscourse) -> None:
    publisher = publisher_for(forum)
    publisher.publish(post_record(), "First", idempotency_key="draft-10")
    assert publisher.find_published(post_record(), idempotency_key="draft-11") is None
    found = publisher.find_published(post_record(), idempotency_key="draft-10")
    assert found is not None and found.external_post_id == "9000"
    assert marker("draft-10") == "<!-- moments:draft-10 -->"


def test_review_publish_through_a_forum_that_is_down_then_up(store: Store) -> None:
    draft_id = drafted(store)
    review.approve(store, draft_id, "maya")
    down = DiscoursePublisher("http://127.0.0.1:9", "k", sleep=lambda s: None, max_attempts=1)
    failed = review.publish(store, draft_id, down)
    assert failed.status == "failed" and "Could not reach" in (failed.last_error or "")
    assert store.get_draft(draft_id).status == "approved"
    with FakeDiscourse() as forum:
        results = review.retry_publications(store, publisher_for(forum))
        assert [r.status for r in results] == ["published"]
        assert len(forum.posts) == 1 and forum.posts[0]["topic_id"] == 501
        assert forum.posts[0]["raw"].endswith(f"<!-- moments:draft-{draft_id} -->")
    record = store.get_draft(draft_id)
    assert record.status == "published" and record.publication is not None
    assert record.publication.external_post_id == "9000" and record.publication.attempts == 2


def test_build_publisher_from_settings(tmp_path: Path) -> None:
    assert build_publisher(load_settings(data_dir=tmp_path)).name == "none"
    configured = load_settings(
        data_dir=tmp_path, discourse_url="http://127.0.0.1:1", discourse_api_key="k"
    )
    assert isinstance(build_publisher(configured), DiscoursePublisher)


def test_find_published_looks_past_the_first_page_of_a_long_topic(forum: FakeDiscourse) -> None:
    publisher = publisher_for(forum)
    for n in range(3):
        publisher.publish(post_record(), f"Reply {n}", idempotency_key=f"draft-{20 + n}")
    forum.page_size = 1
    found = publisher.find_published(post_record(), idempotency_key="draft-22")
    assert found is not None and found.external_post_id == "9002"
    assert any(r[1].startswith("/t/42/posts.json?post_ids") for r in forum.requests)
