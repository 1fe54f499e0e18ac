"""Shared pieces of the HTTP benchmarks (webhook_load.py, api_reads.py, crash_test.py).

- `LeanConnection`: a minimal HTTP/1.1 keep-alive client; `drive()` runs a bounded pool of
  them over a list of requests and returns a `Run` (latencies, statuses, server CPU).
- `make_deliveries()`: Discourse-shaped `post_created` bodies, with redeliveries.
- `create_bench_app()`: the Moments app plus the raw-engine endpoints (`uvicorn --factory`).
- `fresh_postgres_schema()` / `drop_postgres_schema()`: an isolated schema per run.
- `per_post_counts()`: post rows, jobs and drafts per forum post id, read from the store.

One copy of each, so the benchmarks measure with the same client and count the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fastapi import FastAPI, Request

from api.testing import sample_payload

PG_URL = os.environ.get(
    "MOMENTS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ROUNDS = 3
FAST_UVICORN = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
WEBHOOK_PATH = "/v1/webhooks/discourse"

T = TypeVar("T")


def create_bench_app() -> FastAPI:
    """The Moments app plus the raw-engine endpoints (run by uvicorn --factory)."""
    from api.app import create_app

    app = create_app()

    @app.post("/bench/raw")
    async def raw(request: Request) -> dict[str, bool]:
        await request.body()
        return {"ok": True}

    @app.get("/bench/raw")
    def raw_get() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/bench/intake")
    def intake_stats() -> dict[str, Any]:
        """Batch sizes of the webhook micro-batcher (api/intake.py), if it runs."""
        intake = getattr(app.state, "intake", None)
        if intake is None:
            return {"batches": 0, "items": 0, "largest": 0}
        stats = intake.stats
        return {"batches": stats.batches, "items": stats.items, "largest": stats.largest}

    @app.get("/bench/cpu")
    def cpu() -> dict[str, float]:
        """CPU seconds this server process has used (all threads): load-independent cost."""
        return {"cpu": time.process_time()}

    return app


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpu: float = 0.0  # server CPU seconds spent during the run
    queued: dict[str, int] = field(default_factory=dict)  # forum post id → `queued` answers
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, other: Run) -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        self.cpu += other.cpu
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        for post_id, n in other.queued.items():
            self.queued[post_id] = self.queued.get(post_id, 0) + n
        for outcome, n in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n

    def record_webhook_answer(self, body: bytes, content: bytes) -> str:
        """Count a 2xx webhook answer's outcome (and `queued` per post); returns the outcome."""
        outcome = str(json.loads(content).get("outcome"))
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == "queued":
            post_id = forum_post_id(body)
            self.queued[post_id] = self.queued.get(post_id, 0) + 1
        return outcome

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server CPU milliseconds per request (what the load average cannot inflate much)."""
        return 1000 * self.cpu / len(self.latencies) if self.latencies else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0


def forum_post_id(body: bytes) -> str:
    """The Discourse post id a `post_created` delivery carries."""
    return str(json.loads(body)["post"]["id"])


def make_deliveries(count: int, redeliveries: float, seed: int = 7) -> tuple[list[bytes], int]:
    """Bodies to send, in order, and how many distinct posts they hold. A share
    `redeliveries` of them repeat the body of a post already in the list (a Discourse retry)."""
    rng = random.Random(seed)
    template = sample_payload("post_created")
    bodies: list[bytes] = []
    sent: list[bytes] = []
    for i in range(count):
        if sent and rng.random() < redeliveries:
            bodies.append(rng.choice(sent))
            continue
        payload = copy.deepcopy(template)
        post = payload["post"]
        post["id"] = 100_000 + i
        post["topic_id"] = 5_000 + i // 3
        post["post_number"] = 1 + i % 3
        post["username"] = f"member{i % 500}"
        post["raw"] = f"{post['raw']} (report #{i})"
        body = json.dumps(payload).encode()
        sent.append(body)
        bodies.append(body)
    return bodies, len(sent)


class LeanConnection:
    """A minimal HTTP/1.1 keep-alive client connection (asyncio streams).

    The load generator shares the 2 cores with the server; httpx spends a few ms of CPU per
    request, which on this machine starved the server and capped the arrival rate, so the
    micro-batcher never saw concurrent deliveries. This one spends tens of microseconds.
    A dropped connection raises OSError or asyncio.IncompleteReadError; the next request
    opens a new one (after `close()`)."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length, close, chunked = 0, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and b"close" in value.lower():
                close = True
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                data += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
            content = data
        else:
            content = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def get_json(url: str, path: str) -> Any:
    connection = LeanConnection(url)
    try:
        return json.loads((await connection.request("GET", path, {}))[1])
    finally:
        await connection.close()


async def server_cpu(url: str) -> float:
    return float((await get_json(url, "/bench/cpu"))["cpu"])


async def drive(
    url: str,
    items: Sequence[T],
    concurrency: int,
    send: Callable[[LeanConnection, T], Awaitable[tuple[int, bytes]]],
    answered: Callable[[Run, T, int, bytes], None] | None = None,
) -> Run:
    """Send every item with `send` over `concurrency` keep-alive connections; latency and
    status of each, `answered(run, item, status, content)` after each, and the server CPU
    spent meanwhile (from `GET /bench/cpu`, so the app must be `create_bench_app`)."""
    run = Run()
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        connection = LeanConnection(url)
        try:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                status, content = await send(connection, item)
                run.latencies.append(time.perf_counter() - started)
                run.statuses[status] = run.statuses.get(status, 0) + 1
                if answered is not None:
                    answered(run, item, status, content)
        finally:
            await connection.close()

    cpu_before = await server_cpu(url)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - started
    run.cpu = await server_cpu(url) - cpu_before
    return run


def run_async(coro: Any) -> Any:
    """asyncio.run on uvloop when it is installed (less client CPU)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def fresh_postgres_schema(prefix: str = "bench") -> tuple[str, str]:
    """(database URL whose search_path is a new schema, the schema's name)."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}", schema


def drop_postgres_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class PostCounts:
    """What the store holds for one forum post id."""

    rows: int = 0  # rows in `posts` (one per revision)
    jobs: int = 0
    drafts: int = 0


def per_post_counts(database_url: str) -> dict[str, PostCounts]:
    """Forum post id → post rows, jobs and drafts, straight from the tables (not the API)."""
    from sqlalchemy import func, select

    from copilot.store import open_store
    from copilot.store_models import DraftRow, JobRow, PostRow

    store = open_store(database_url)
    out: dict[str, PostCounts] = {}
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(
                select(PostRow.forum_post_id, func.count()).group_by(PostRow.forum_post_id)
            ).all()
            jobs = connection.execute(
                select(PostRow.forum_post_id, func.count(JobRow.id))
                .join(JobRow, JobRow.post_id == PostRow.id)
                .group_by(PostRow.forum_post_id)
            ).all()
            drafts = connection.execute(
                select(PostRow.forum_post_id, func.count(DraftRow.id))
                .join(DraftRow, DraftRow.post_id == PostRow.id)
                .group_by(PostRow.forum_post_id)
            ).all()
    finally:
        store.close()
    for post_id, n in rows:
        out.setdefault(str(post_id), PostCounts()).rows = int(n)
    for post_id, n in jobs:
        out.setdefault(str(post_id), PostCounts()).jobs = int(n)
    for post_id, n in drafts:
        out.setdefault(str(post_id), PostCounts()).drafts = int(n)
    return out
