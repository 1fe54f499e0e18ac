"""Crash test for the job queue: real worker processes, one killed with SIGKILL mid-run.

    python benchmarks/crash_test.py [--jobs 500] [--backend sqlite|postgresql] [--quick]

Starts 2 `moments worker` processes with the test-only fake drafter (MOMENTS_ENV=test +
MOMENTS_WORKER_FAKE_DRAFTER=1: no model, a few ms per draft), enqueues the jobs, kills one
worker with SIGKILL once ~30% are drafted, restarts it, waits for the queue to drain, and
counts lost jobs (no draft) and duplicated drafts (more than one draft per job). Goal: 0 / 0.

Figures are printed as ratios against the raw engine underneath: the queue's cost per job
(claim + record draft + version + audit, in separate transactions) against one bare
INSERT+COMMIT on the same database engine.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from copilot.store import Store, open_store  # noqa: E402
from copilot.store_models import DraftRow, JobRow  # noqa: E402
from copilot.types import Member, Post  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def start_worker(
    env: dict[str, str], name: str, log_dir: Path, lease: float
) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "copilot.cli",
            "worker",
            "--poll",
            "0.05",
            "--lease",
            str(lease),
            "--id",
            name,
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def counts(store: Store) -> tuple[int, int, int, dict[str, int]]:
    """(jobs, jobs with >= 1 draft, drafts, jobs per status)."""
    with store.reading() as session:
        jobs = session.scalar(select(func.count()).select_from(JobRow)) or 0
        drafts = session.scalar(select(func.count()).select_from(DraftRow)) or 0
        with_draft = session.scalar(select(func.count(func.distinct(DraftRow.job_id)))) or 0
    return int(jobs), int(with_draft), int(drafts), store.job_counts()


def holds_lease(store: Store, worker: str) -> bool:
    with store.reading() as session:
        found = session.scalar(
            select(JobRow.id).where(JobRow.status == "running", JobRow.lease_owner == worker)
        )
    return found is not None


def raw_insert_seconds(url: str, n: int = 300) -> float:
    """Seconds per bare INSERT+COMMIT on the same engine (the floor under every queue step)."""
    if url.startswith("sqlite"):
        path = Path(tempfile.mkdtemp()) / "raw.db"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        started = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (v) VALUES (?)", (str(i),))
            conn.execute("COMMIT")
        return (time.perf_counter() - started) / n
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TEMP TABLE t (id serial PRIMARY KEY, v text)")
        conn.commit()
        started = time.perf_counter()
        for i in range(n):
            conn.execute("INSERT INTO t (v) VALUES (%s)", (str(i),))
            conn.commit()
        return (time.perf_counter() - started) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--delay", type=float, default=0.01, help="fake draft seconds")
    parser.add_argument("--lease", type=float, default=3.0, help="job lease seconds")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--quick", action="store_true", help="100 jobs")
    args = parser.parse_args()
    jobs = 100 if args.quick else args.jobs

    work = Path(tempfile.mkdtemp(prefix="moments-crash-"))
    schema = None
    if args.backend == "sqlite":
        url = f"sqlite:///{work / 'moments.db'}"
    else:
        import psycopg

        schema = f"crash_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"

    store = open_store(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOMENTS_")}
    env.update(
        MOMENTS_ENV="test",
        MOMENTS_WORKER_FAKE_DRAFTER="1",
        MOMENTS_WORKER_FAKE_DELAY=str(args.delay),
        MOMENTS_DATABASE_URL=url,
        MOMENTS_DATA_DIR=str(work / "data"),
        PYTHONPATH=str(REPO),
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        started = time.perf_counter()
        for n in range(jobs):
            store.submit_post(
                Post(
                    text=f"Crash test post {n}",
                    member=Member(handle=f"m{n % 50}"),
                    forum="discourse",
                    forum_post_id=str(n),
                    topic_id=str(n),
                ),
                source="crash-test",
            )
        enqueue_s = time.perf_counter() - started
        procs = [start_worker(env, f"w{i}", work, args.lease) for i in range(2)]
        run_started = time.perf_counter()
        killed_at = None
        first_seen: tuple[float, int] | None = None  # steady state: first draft .. the kill
        steady_rate = 0.0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            total, with_draft, drafts, by_status = counts(store)
            if first_seen is None and with_draft > 0:
                first_seen = (time.perf_counter(), with_draft)
            if killed_at is None and with_draft >= jobs * 0.3:
                if first_seen is not None and time.perf_counter() > first_seen[0]:
                    steady_rate = (with_draft - first_seen[1]) / (
                        time.perf_counter() - first_seen[0]
                    )
                wait_until = time.monotonic() + 3
                while time.monotonic() < wait_until and not holds_lease(store, "w0"):
                    time.sleep(0.001)  # kill it mid-job, while it holds a lease
                procs[0].send_signal(signal.SIGKILL)
                procs[0].wait()
                killed_at = with_draft
                procs[0] = start_worker(env, "w0-restarted", work, args.lease)
            if by_status.get("queued", 0) == 0 and by_status.get("running", 0) == 0:
                break
            time.sleep(0.2)
        run_s = time.perf_counter() - run_started
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        total, with_draft, drafts, by_status = counts(store)
        with store.reading() as session:
            reclaimed = (
                session.scalar(select(func.count()).select_from(JobRow).where(JobRow.attempts > 1))
                or 0
            )
        lost = total - with_draft
        duplicated = drafts - with_draft
        raw = raw_insert_seconds(url)
        per_job = 1 / steady_rate if steady_rate else float("nan")
        print(f"backend              {args.backend}")
        print(
            f"jobs                 {total}  (enqueued in {enqueue_s:.2f} s, "
            f"{enqueue_s / jobs * 1000:.1f} ms per submit_post)"
        )
        print(f"killed worker after  {killed_at} drafts (SIGKILL), restarted it")
        print(f"jobs by status       {by_status}")
        print(f"reclaimed after kill {reclaimed} job(s) with attempts > 1")
        print(f"LOST jobs            {lost}")
        print(f"DUPLICATED drafts    {duplicated}")
        print(
            f"wall time            {run_s:.1f} s for {with_draft} drafts, 2 workers "
            f"(includes process start-up, a {args.lease:.0f} s lease wait and a restart)"
        )
        print(
            f"steady throughput    {steady_rate:.0f} drafts/s before the kill "
            f"({per_job * 1000:.1f} ms per job per pair of workers, fake draft {args.delay * 1000:.0f} ms)"
        )
        print(f"raw INSERT+COMMIT    {raw * 1000:.2f} ms on the same engine")
        print(
            f"queue cost ratio     {per_job / raw:.1f}x a raw INSERT+COMMIT per job "
            "(claim + get post + draft + version + audit, several transactions)"
        )
        return 0 if lost == 0 and duplicated == 0 else 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        store.close()
        if schema:
            import psycopg

            with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    raise SystemExit(main())
