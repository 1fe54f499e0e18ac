"""The limits in isolation: token buckets, outbound timeouts, per-path body limits, metrics."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from api.errors import RateLimitedError, TimeoutError_, field_path, status_for
from api.limits import BodySizeLimit, RateLimiter, RequestMetrics, call_with_timeout, route_template
from copilot.errors import ConflictError, LLMUnavailableError, NotFoundError, PublishError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)  # one a second, bursts of 60
    assert all(limiter.acquire("k") is None for _ in range(60))
    wait = limiter.acquire("k")
    assert wait is not None and 0.9 < wait <= 1.0
    clock.now += 1.0
    assert limiter.acquire("k") is None
    assert limiter.acquire("other") is None  # buckets are per key


def test_idle_buckets_are_forgotten_when_many() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    limiter.MAX_BUCKETS = 3
    for key in ("a", "b", "c"):
        limiter.acquire(key)
    clock.now += 61
    limiter.acquire("d")
    assert set(limiter._buckets) == {"d"}


def test_check_raises_with_retry_after() -> None:
    limiter = RateLimiter(1, clock=Clock())
    limiter.check("k", label="key 'x'")
    with pytest.raises(RateLimitedError) as raised:
        limiter.check("k", label="key 'x'")
    assert raised.value.retry_after > 0 and "1 a minute" in raised.value.message


def test_call_with_timeout_answers_504_and_passes_results() -> None:
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "late"

    with pytest.raises(TimeoutError_) as raised:
        asyncio.run(call_with_timeout(slow, timeout=0.05, what="The forum"))
    release.set()
    assert status_for(raised.value) == (504, "timeout")
    assert "The forum did not answer" in raised.value.message
    assert asyncio.run(call_with_timeout(lambda x: x * 2, 21, timeout=5, what="x")) == 42


def test_uploads_get_a_larger_body_limit() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    limit = BodySizeLimit(app, max_bytes=1000)
    assert limit.limit_for("/v1/posts") == 1000
    assert limit.limit_for("/v1/knowledge") == 25_000


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (LLMUnavailableError("x"), 503),
        (PublishError("x"), 502),
    ],
)
def test_error_statuses(error: Exception, status: int) -> None:
    assert status_for(error)[0] == status  # type: ignore[arg-type]


def test_field_paths() -> None:
    assert field_path(("body", "member", "joined_at")) == "member.joined_at"
    assert field_path(("body", "thread", 0, "text")) == "thread[0].text"
    assert field_path(("query", "limit")) == "limit"
    assert field_path(("body",)) == "body"


def test_route_template_falls_back_to_path_params() -> None:
    scope = {"path": "/v1/drafts/12/approve", "path_params": {"draft_id": "12"}, "route": object()}
    assert route_template(scope) == "/v1/drafts/{draft_id}/approve"
    assert route_template({"path": "/nope"}) == "unmatched"


def test_metrics_summarise_per_route() -> None:
    metrics = RequestMetrics()
    for seconds in (0.010, 0.020, 0.030):
        metrics.record("GET /v1/drafts", 200, seconds)
    metrics.record("GET /v1/drafts", 503, 0.5)
    summary = metrics.snapshot()["GET /v1/drafts"]
    assert summary["count"] == 4 and summary["errors"] == 1
    assert summary["statuses"] == {"200": 3, "503": 1}
    assert summary["max_ms"] == 500.0 and summary["p50_ms"] == 30.0
