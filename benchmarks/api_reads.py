"""Review-queue reads under concurrent load, against a real uvicorn server on loopback.

    python benchmarks/api_reads.py [--drafts 500] [--requests 2000] [--concurrency 16]
                                   [--backend sqlite|postgresql] [--quick]

Seeds the store with drafts (posts queued and drafted by the worker with the deterministic
fake drafter), then drives `GET /v1/drafts?limit=50` (the queue page) and
`GET /v1/drafts/{id}` (the review page: post, member, draft, versions, reviews, audit) with a
reviewer key. The raw engine is `GET /bench/raw` (a constant small JSON) on the same server,
driven the same way, alternating in rounds: the ratios say what authentication, the store
reads and serialisation cost on top of uvicorn + FastAPI. Server CPU per request is read from
the server itself (`GET /bench/cpu`), which the machine's load inflates far less than latency.
Same lean load generator (benchmarks/_load.py) and uvicorn flags as webhook_load.py.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.testing import live_server  # noqa: E402
from benchmarks._load import (  # noqa: E402
    FAST_UVICORN,
    ROUNDS,
    LeanConnection,
    Run,
    drive,
    drop_postgres_schema,
    fresh_postgres_schema,
    run_async,
)


def seed(database_url: str, drafts: int, folder: Path) -> tuple[str, list[int]]:
    """Create `drafts` pending drafts and a reviewer key; returns (key, draft ids)."""
    from copilot.settings import load_settings
    from copilot.store import open_store
    from copilot.store_records import DraftRecord
    from copilot.types import Member, Post
    from copilot.worker import fake_draft, run_worker

    store = open_store(database_url)
    try:
        key = store.create_api_key("reviewer", "bench-reviewer")[1]
        for i in range(drafts):
            post = Post(
                text=f"My Hub lost its scenes after the 3.3 update (report {i}). Any ideas?",
                title=f"Scenes gone #{i}",
                member=Member(handle=f"member{i}", name=f"Member {i}", post_count=i % 40),
                forum="discourse",
                forum_post_id=str(50_000 + i),
                topic_id=str(9_000 + i),
                post_number=1,
            )
            store.submit_post(post, source="bench")

        def ignore(record: DraftRecord) -> None:
            return None

        settings = load_settings(env="test", data_dir=folder / "data", database_url=database_url)
        run_worker(settings, once=True, store=store, drafter=fake_draft, learner=ignore, poll=0.01)
        ids = [row.id for row in store.list_queue(limit=drafts)]
    finally:
        store.close()
    return key, ids


def reader(key: str | None) -> Callable[[LeanConnection, str], Awaitable[tuple[int, bytes]]]:
    """GET a path, with the reviewer key when given."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    async def send(connection: LeanConnection, path: str) -> tuple[int, bytes]:
        return await connection.request("GET", path, headers)

    return send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drafts", type=int, default=500)
    parser.add_argument("--requests", type=int, default=2000, help="per kind of read")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="200 drafts, 400 requests each")
    args = parser.parse_args()
    drafts, total = (200, 400) if args.quick else (args.drafts, args.requests)

    folder = Path(tempfile.mkdtemp(prefix="moments-reads-bench-"))
    schema = None
    if args.backend == "postgresql":
        database_url, schema = fresh_postgres_schema()
    else:
        database_url = f"sqlite:///{folder / 'moments.db'}"
    try:
        key, ids = seed(database_url, drafts, folder)
        env = {
            "MOMENTS_ENV": "test",
            "MOMENTS_DATA_DIR": str(folder / "data"),
            "MOMENTS_DATABASE_URL": database_url,
            "MOMENTS_RATE_LIMIT_PER_MINUTE": "100000000",
        }
        rng = random.Random(3)
        kinds = {
            "raw engine (/bench/raw)": ([("/bench/raw")] * total, None),
            "queue page (50 rows)": (
                [
                    f"/v1/drafts?limit=50&offset={rng.randrange(0, max(1, drafts - 50))}"
                    for _ in range(total)
                ],
                key,
            ),
            "draft detail": ([f"/v1/drafts/{rng.choice(ids)}" for _ in range(total)], key),
        }
        results = {name: Run() for name in kinds}
        load_before = os.getloadavg()
        with live_server(
            env,
            app="benchmarks._load:create_bench_app",
            log_path=folder / "server.log",
            extra_args=FAST_UVICORN,
        ) as url:
            run_async(drive(url, ["/bench/raw"] * 50, args.concurrency, reader(None)))
            for part in range(ROUNDS):
                for name, (paths, auth) in kinds.items():
                    chunk = paths[part::ROUNDS]
                    results[name].add(run_async(drive(url, chunk, args.concurrency, reader(auth))))
    finally:
        if schema:
            drop_postgres_schema(schema)

    raw = results["raw engine (/bench/raw)"]
    load_after = os.getloadavg()
    print(
        f"api reads: {drafts} drafts, {total} requests per kind, concurrency "
        f"{args.concurrency}, backend {args.backend}, uvicorn {' '.join(FAST_UVICORN)}"
    )
    print(
        "load average before {:.1f} {:.1f} {:.1f}, after {:.1f} {:.1f} {:.1f} (nproc {})".format(
            *load_before, *load_after, os.cpu_count() or 0
        )
    )
    print(
        f"{'':26}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'CPU ms/req':>11}"
        f"{'x raw rps':>10}{'x raw p99':>10}{'x raw CPU':>10}"
    )
    for name, run in results.items():
        print(
            f"{name:26}{run.rps:8.0f}{run.pct(0.5):8.1f}{run.pct(0.99):8.1f}{run.cpu_ms:11.2f}"
            f"{run.rps / raw.rps:10.2f}{run.pct(0.99) / max(raw.pct(0.99), 1e-9):10.1f}"
            f"{run.cpu_ms / max(raw.cpu_ms, 1e-9):10.1f}  {dict(sorted(run.statuses.items()))}"
        )


if __name__ == "__main__":
    main()
