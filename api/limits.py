"""Limits that keep one process healthy: body size, per-key rate, outbound timeouts, metrics.

- `BodySizeLimit` (pure ASGI middleware) counts bytes as the body is read, so a missing or
  lying `Content-Length` does not get past it; over the limit → 413 naming the limit.
- `RateLimiter`: one token bucket per API key, refilled at `rate_limit_per_minute`; an empty
  bucket → 429 with `Retry-After`. In process: several API processes each allow the full rate.
- `call_with_timeout()`: run blocking work (model, publisher) in a thread with a deadline → 504.
- `RequestMetrics`: counts and latency per route template, read by `GET /v1/metrics`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BODY_LIMIT_HINT, RateLimitedError, TimeoutError_, error_body

T = TypeVar("T")

UPLOAD_PATHS = ("/v1/knowledge",)
UPLOAD_FACTOR = 25  # multipart uploads of documents get 25 × the JSON limit


def _too_large_message(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


class _TooLarge(HTTPException):
    """Raised from `receive()`; an HTTPException so FastAPI's body parsing lets it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_too_large_message(limit))


def _too_large_body(limit: int) -> bytes:
    return json.dumps(
        error_body("payload_too_large", _too_large_message(limit), hint=BODY_LIMIT_HINT)
    ).encode()


class BodySizeLimit:
    """Reject request bodies over `max_bytes` with a JSON 413, counting bytes while reading."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes * UPLOAD_FACTOR

    def limit_for(self, path: str) -> int:
        if path.startswith(UPLOAD_PATHS):
            return self.upload_max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _send_413(send, limit)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send, limit)
        except BaseExceptionGroup as group:  # raised from inside a task group
            if group.subgroup(_TooLarge) is None or started:
                raise
            await _send_413(send, limit)


async def _send_413(send: Send, limit: int) -> None:
    body = _too_large_body(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per key: `per_minute` requests a minute, bursts up to `per_minute`."""

    MAX_BUCKETS = 50_000

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float | None:
        """Spend one token for `key`; None when allowed, else seconds until one is available."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.MAX_BUCKETS:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely (they hold no information)."""
        full_after = self.capacity / self.rate
        for key, bucket in list(self._buckets.items()):
            if now - bucket.updated >= full_after:
                del self._buckets[key]

    def check(self, key: str, *, label: str) -> None:
        retry_after = self.acquire(key)
        if retry_after is not None:
            raise RateLimitedError(
                f"Too many requests for {label}: the limit is "
                f"{int(self.capacity)} a minute. Retry in {retry_after:.1f} s.",
                retry_after=retry_after,
                hint="slow down, or raise MOMENTS_RATE_LIMIT_PER_MINUTE on the server",
            )


async def call_with_timeout(
    fn: Callable[..., T], *args: Any, timeout: float, what: str, **kwargs: Any
) -> T:
    """Run blocking `fn` in the thread pool; past `timeout` seconds answer 504 (the thread
    finishes in the background; its result is dropped)."""
    try:
        return await asyncio.wait_for(run_in_threadpool(fn, *args, **kwargs), timeout)
    except TimeoutError:
        raise TimeoutError_(
            f"{what} did not answer within {timeout:.0f} s.",
            hint="retry later; for models, raise MOMENTS_LLM_TIMEOUT or use a smaller model",
        ) from None


@dataclass
class RouteStats:
    count: int = 0
    errors: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    recent: list[float] = field(default_factory=list)  # ring of recent latencies for p50/p99

    RING = 512

    def add(self, status: int, seconds: float) -> None:
        self.count += 1
        if status >= 500:
            self.errors += 1
        self.total_seconds += seconds
        self.max_seconds = max(self.max_seconds, seconds)
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if len(self.recent) >= self.RING:
            self.recent[self.count % self.RING] = seconds
        else:
            self.recent.append(seconds)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.recent)

        def pct(p: float) -> float:
            if not ordered:
                return 0.0
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

        return {
            "count": self.count,
            "errors": self.errors,
            "statuses": dict(self.statuses),
            "mean_ms": round(1000 * self.total_seconds / self.count, 2) if self.count else 0.0,
            "p50_ms": round(1000 * pct(0.50), 2),
            "p99_ms": round(1000 * pct(0.99), 2),
            "max_ms": round(1000 * self.max_seconds, 2),
        }


class RequestMetrics:
    """Per-route request counters, shared by the middleware and `GET /v1/metrics`."""

    def __init__(self) -> None:
        self.started = time.time()
        self._routes: dict[str, RouteStats] = {}
        self._lock = threading.Lock()

    def record(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            stats = self._routes.get(route)
            if stats is None:
                stats = self._routes[route] = RouteStats()
            stats.add(status, seconds)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {route: stats.summary() for route, stats in sorted(self._routes.items())}


def route_template(scope: Scope) -> str:
    """`/v1/drafts/{draft_id}` for a request to `/v1/drafts/12`; "unmatched" for a 404."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path", None)
    if isinstance(template, str):
        return template
    if scope.get("route") is None:
        return "unmatched"
    path = str(scope.get("path", ""))
    for name, value in (scope.get("path_params") or {}).items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


class MetricsMiddleware:
    """Time every HTTP request and record it under its route template (`/v1/drafts/{draft_id}`)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            template = route_template(scope)
            self.metrics.record(
                f"{scope.get('method', '?')} {template}", status, time.perf_counter() - started
            )
