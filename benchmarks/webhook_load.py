"""Webhook load: signed Discourse deliveries against a real uvicorn server on loopback.

    python benchmarks/webhook_load.py [--requests 3000] [--concurrency 32] [--redeliveries 0.3]
                                      [--backend sqlite|postgresql] [--workers 1]
                                      [--plain-uvicorn] [--quick]

A bounded asyncio load generator (a lean HTTP/1.1 keep-alive client, `LeanConnection`) sends
`post_created` payloads (Discourse's shape, each signed with HMAC-SHA256); 30% are redeliveries of a post already sent, with a new event
id, as Discourse retries do. Afterwards the store is counted: lost = posts sent but not
recorded or without a job; duplicate = a post recorded or queued more than once, or answered
`queued` more than once (every other answer for it must say `duplicate`). Goal: >= 300 req/s on
2 cores, 0 lost, 0 duplicate, every delivery answered 200.

uvicorn runs with `--loop uvloop --http httptools --no-access-log` (what `moments serve` uses);
`--plain-uvicorn` measures uvicorn's defaults instead. Webhook posts go through the intake
micro-batcher (api/intake.py): many deliveries per transaction, each answered after commit.

The raw engine is a trivial endpoint on the same server (`POST /bench/raw`: read the body,
answer `{"ok": true}`) driven by the same generator, so the ratio is what Moments adds
(signature, JSON parsing, mapping, its share of a batched INSERT transaction) on top of
uvicorn + FastAPI.
The load generator shares the machine's cores with the server; figures are conservative.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fastapi import FastAPI, Request  # noqa: E402

from api.discourse import sign  # noqa: E402
from api.testing import live_server, sample_payload  # noqa: E402

SECRET = "bench-webhook-secret-5b1e"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ROUNDS = 3
FAST_UVICORN = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]


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


def make_deliveries(count: int, redeliveries: float, seed: int = 7) -> tuple[list[bytes], int]:
    """Bodies to send, in order, and how many distinct posts they hold."""
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
    micro-batcher never saw concurrent deliveries. This one spends tens of microseconds."""

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


async def drive(url: str, path: str, bodies: list[bytes], concurrency: int, signed: bool) -> Run:
    run = Run()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker() -> None:
        connection = LeanConnection(url)
        try:
            while True:
                try:
                    body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                headers = {
                    "Content-Type": "application/json",
                    "X-Discourse-Instance": "https://forum.lumen.example",
                    "X-Discourse-Event-Id": uuid.uuid4().hex[:12],
                    "X-Discourse-Event-Type": "post",
                    "X-Discourse-Event": "post_created",
                }
                if signed:
                    headers["X-Discourse-Event-Signature"] = sign(SECRET, body)
                started = time.perf_counter()
                status, content = await connection.request("POST", path, headers, body)
                run.latencies.append(time.perf_counter() - started)
                run.statuses[status] = run.statuses.get(status, 0) + 1
                if signed and status == 200:
                    outcome = str(json.loads(content).get("outcome"))
                    run.outcomes[outcome] = run.outcomes.get(outcome, 0) + 1
                    if outcome == "queued":
                        post_id = str(json.loads(body)["post"]["id"])
                        run.queued[post_id] = run.queued.get(post_id, 0) + 1
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


def count_store(database_url: str, distinct: int) -> tuple[int, int, int, int]:
    """(posts recorded, jobs, lost, duplicate) for the benchmark's forum post ids."""
    from sqlalchemy import func, select

    from copilot.store import open_store
    from copilot.store_models import JobRow, PostRow

    store = open_store(database_url)
    try:
        with store.engine.connect() as connection:
            per_post = dict(
                connection.execute(
                    select(PostRow.forum_post_id, func.count()).group_by(PostRow.forum_post_id)
                ).all()
            )
            jobs_per_post = dict(
                connection.execute(
                    select(PostRow.forum_post_id, func.count(JobRow.id))
                    .join(JobRow, JobRow.post_id == PostRow.id)
                    .group_by(PostRow.forum_post_id)
                ).all()
            )
    finally:
        store.close()
    lost = max(0, distinct - len(per_post)) + sum(
        1 for post_id in per_post if jobs_per_post.get(post_id, 0) == 0
    )
    duplicate = sum(n - 1 for n in per_post.values() if n > 1) + sum(
        n - 1 for n in jobs_per_post.values() if n > 1
    )
    return len(per_post), sum(jobs_per_post.values()), lost, duplicate


def fresh_postgres_schema() -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def drop_postgres_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--redeliveries", type=float, default=0.3)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--plain-uvicorn", action="store_true", help="uvicorn defaults (asyncio loop, h11)"
    )
    parser.add_argument("--quick", action="store_true", help="600 requests")
    args = parser.parse_args()
    total = 600 if args.quick else args.requests
    load_before = os.getloadavg()

    folder = Path(tempfile.mkdtemp(prefix="moments-webhook-bench-"))
    schema = None
    if args.backend == "postgresql":
        database_url, schema = fresh_postgres_schema()
    else:
        database_url = f"sqlite:///{folder / 'moments.db'}"
    env = {
        "MOMENTS_ENV": "test",
        "MOMENTS_DATA_DIR": str(folder / "data"),
        "MOMENTS_DATABASE_URL": database_url,
        "MOMENTS_DISCOURSE_WEBHOOK_SECRET": SECRET,
        "MOMENTS_MAX_BODY_BYTES": "1000000",
    }
    bodies, distinct = make_deliveries(total, args.redeliveries)
    warmup, _ = make_deliveries(50, 0.0, seed=99)
    extra = ["--workers", str(args.workers)] if args.workers > 1 else []
    if not args.plain_uvicorn:
        extra += FAST_UVICORN
    try:
        with live_server(
            env,
            app="benchmarks.webhook_load:create_bench_app",
            log_path=folder / "server.log",
            extra_args=extra,
        ) as url:
            run_async(drive(url, "/bench/raw", warmup, args.concurrency, signed=False))
            raw, moments = Run(), Run()
            # Alternate in rounds so a busy neighbour on the machine hurts both sides alike.
            for part in range(ROUNDS):
                chunk = bodies[part::ROUNDS]
                raw.add(run_async(drive(url, "/bench/raw", chunk, args.concurrency, False)))
                moments.add(
                    run_async(drive(url, "/v1/webhooks/discourse", chunk, args.concurrency, True))
                )
            intake = run_async(get_json(url, "/bench/intake"))
        posts, jobs, lost, duplicate = count_store(database_url, distinct)
    finally:
        if schema:
            drop_postgres_schema(schema)

    load_after = os.getloadavg()
    # A delivery is lost if it was not answered 200, or its post was never answered `queued`
    # nor recorded; a post answered `queued` twice was queued twice as far as Discourse knows.
    unanswered = sum(n for status, n in moments.statuses.items() if status != 200)
    lost += unanswered
    duplicate += sum(n - 1 for n in moments.queued.values() if n > 1)
    print(
        f"webhook load: {total} deliveries ({distinct} distinct posts, "
        f"{total - distinct} redeliveries), concurrency {args.concurrency}, "
        f"backend {args.backend}, {args.workers} uvicorn worker(s), "
        f"{'plain uvicorn' if args.plain_uvicorn else 'uvicorn ' + ' '.join(FAST_UVICORN)}"
    )
    print(
        "load average before {:.1f} {:.1f} {:.1f}, after {:.1f} {:.1f} {:.1f} (nproc {})".format(
            *load_before, *load_after, os.cpu_count()
        )
    )
    print(f"{'':24}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}  statuses")
    for name, run in (("raw engine (/bench/raw)", raw), ("Moments webhook", moments)):
        # with several worker processes /bench/cpu reads one of them: no per-request figure
        cpu = f"{run.cpu_ms:12.2f}" if args.workers == 1 else f"{'-':>12}"
        print(
            f"{name:24}{run.rps:8.0f}{run.pct(0.5):9.1f}{run.pct(0.99):9.1f}{cpu}  "
            f"{dict(sorted(run.statuses.items()))}"
        )
    cpu_ratio = (
        f", server CPU per request {moments.cpu_ms / max(raw.cpu_ms, 1e-9):.1f}x"
        if args.workers == 1
        else ""
    )
    print(
        f"ratio Moments/raw: throughput {moments.rps / raw.rps:.2f}x, "
        f"p99 {moments.pct(0.99) / max(raw.pct(0.99), 1e-9):.1f}x{cpu_ratio}; "
        f"mean {statistics.mean(moments.latencies) * 1000:.1f} ms"
    )
    if args.workers == 1:
        print(
            f"server CPU bound (1 process, 1 free core): {1000 / max(moments.cpu_ms, 1e-9):.0f} "
            f"webhook req/s, {1000 / max(raw.cpu_ms, 1e-9):.0f} raw req/s"
        )
    if intake["batches"]:
        print(
            f"intake: {intake['items']} deliveries in {intake['batches']} transactions "
            f"(mean {intake['items'] / intake['batches']:.1f}, largest {intake['largest']})"
            + (" in the first worker process" if args.workers > 1 else "")
        )
    print(
        f"answers: {dict(sorted(moments.outcomes.items()))}; "
        f"store: {posts} posts, {jobs} jobs; lost {lost}, duplicate {duplicate}"
    )
    goal = moments.rps >= 300 and lost == 0 and duplicate == 0
    print(f"goal (>= 300 req/s, 0 lost, 0 duplicate): {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
