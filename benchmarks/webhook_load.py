"""Webhook load: signed Discourse deliveries against a real uvicorn server on loopback.

    python benchmarks/webhook_load.py [--requests 3000] [--concurrency 32] [--redeliveries 0.3]
                                      [--backend sqlite|postgresql] [--workers 1]
                                      [--plain-uvicorn] [--quick]

A bounded asyncio load generator (a lean HTTP/1.1 keep-alive client,
`LeanConnection`, shared with the other HTTP benchmarks in benchmarks/_load.py) sends
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
import os
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.testing import discourse_headers, live_server  # noqa: E402
from benchmarks._load import (  # noqa: E402
    FAST_UVICORN,
    ROUNDS,
    WEBHOOK_PATH,
    LeanConnection,
    Run,
    drive,
    drop_postgres_schema,
    forum_post_id,
    fresh_postgres_schema,
    get_json,
    make_deliveries,
    per_post_counts,
    run_async,
)

SECRET = "bench-webhook-secret-5b1e"


async def send_raw(connection: LeanConnection, body: bytes) -> tuple[int, bytes]:
    """The raw engine: the same body and headers (unsigned) to an endpoint that only reads it."""
    headers = discourse_headers(body, None, event_id=uuid.uuid4().hex[:12])
    return await connection.request("POST", "/bench/raw", headers, body)


async def send_webhook(connection: LeanConnection, body: bytes) -> tuple[int, bytes]:
    """A signed delivery with a fresh event id (a redelivery gets a new one, as Discourse's)."""
    headers = discourse_headers(body, SECRET, event_id=uuid.uuid4().hex[:12])
    return await connection.request("POST", WEBHOOK_PATH, headers, body)


def webhook_answered(run: Run, body: bytes, status: int, content: bytes) -> None:
    if status == 200:
        run.record_webhook_answer(body, content)


def count_store(database_url: str, bodies: list[bytes]) -> tuple[int, int, int, int]:
    """(posts recorded, jobs, lost, duplicate) for the benchmark's forum post ids: lost = a
    post sent but not recorded or without a job; duplicate = extra post rows or jobs."""
    counts = per_post_counts(database_url)
    sent = {forum_post_id(body) for body in bodies}
    lost = sum(1 for post_id in sent if counts.get(post_id) is None or not counts[post_id].jobs)
    duplicate = sum(max(0, c.rows - 1) + max(0, c.jobs - 1) for c in counts.values())
    return len(counts), sum(c.jobs for c in counts.values()), lost, duplicate


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
            app="benchmarks._load:create_bench_app",
            log_path=folder / "server.log",
            extra_args=extra,
        ) as url:
            run_async(drive(url, warmup, args.concurrency, send_raw))
            raw, moments = Run(), Run()
            # Alternate in rounds so a busy neighbour on the machine hurts both sides alike.
            for part in range(ROUNDS):
                chunk = bodies[part::ROUNDS]
                raw.add(run_async(drive(url, chunk, args.concurrency, send_raw)))
                moments.add(
                    run_async(drive(url, chunk, args.concurrency, send_webhook, webhook_answered))
                )
            intake = run_async(get_json(url, "/bench/intake"))
        posts, jobs, lost, duplicate = count_store(database_url, bodies)
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
            *load_before, *load_after, os.cpu_count() or 0
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
