"""Crash test: kill -9 the API and a worker mid-load, restart them, count lost and duplicated jobs.

    python benchmarks/crash_test.py [--deliveries 1000] [--rate 0] [--backend sqlite|postgresql]
                                    [--kills 0.25:api,0.5:api+worker,0.75:worker] [--quick]

Runs Moments as it runs in production, as real processes: the API (`moments serve`, uvicorn
with the webhook micro-batcher of api/intake.py) and 2 `moments worker` processes with the
test-only fake drafter (MOMENTS_ENV=test + MOMENTS_WORKER_FAKE_DRAFTER=1: no model, a few ms
per draft). A load generator posts signed Discourse `post_created` deliveries (30% of them
redeliveries of a post already sent) at the API over `--concurrency` keep-alive connections,
as fast as they go (or `--rate` per second). At full speed the intake is always mid-commit, so a
kill lands inside a batch: a variant of api/intake.py that answers just before its commit
instead of after it lost posts in every run tried (2 to 12 per run).

At each point of `--kills` (a share of the deliveries answered 2xx) it sends SIGKILL to the
API while requests are in flight, to a worker while it holds a job's lease, or to both at once,
and restarts what it killed (the API on the same port). Like Discourse, the client retries a
delivery until it is answered 2xx: a connection refused or cut off while the API is dead is
not an acceptance, and the retry goes out with a new event id. Once every delivery is
accepted and the workers have drained the queue, the tables are counted per forum post id:

- LOST: a post whose delivery was answered 2xx but that has no draft (no post row, no job,
  or a job never drafted). An acknowledged webhook must survive a kill -9.
- DUPLICATED: a post with more than one draft, job or post row, or answered `queued` twice.

Goal: 0 and 0, on SQLite and on PostgreSQL. The figures beside them say how hard the run was
hit: requests in flight at each API kill, connection errors retried, API downtime per kill
(SIGKILL to answering /v1/health again; mostly Python start-up) and jobs reclaimed after
their worker died (a killed worker's lease has to expire first: `--lease`).
tests/integration/test_crash_recovery.py runs a small version of this on both backends.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from api.testing import discourse_headers, free_port  # noqa: E402
from benchmarks._load import (  # noqa: E402
    WEBHOOK_PATH,
    LeanConnection,
    Run,
    drop_postgres_schema,
    forum_post_id,
    fresh_postgres_schema,
    make_deliveries,
    per_post_counts,
    run_async,
)
from copilot.store import Store, open_store  # noqa: E402
from copilot.store_models import JobRow  # noqa: E402

SECRET = "crash-webhook-secret-91c2"
RETRY_SECONDS = 0.1  # Discourse backs off for minutes; compressed here
REQUEST_TIMEOUT = 30.0  # a request this slow is treated as failed and retried
STARTUP_SECONDS = 90.0


@dataclass(frozen=True)
class Kill:
    """SIGKILL the API and/or worker 0 once `at` (a share) of the deliveries are accepted."""

    at: float
    api: bool = False
    worker: bool = False

    @property
    def label(self) -> str:
        return " + ".join(name for name, on in (("API", self.api), ("worker", self.worker)) if on)


DEFAULT_KILLS = (Kill(0.25, api=True), Kill(0.5, api=True, worker=True), Kill(0.75, worker=True))


def parse_kills(spec: str) -> tuple[Kill, ...]:
    """`0.25:api,0.5:api+worker,0.75:worker` → Kill points."""
    kills = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        at, _, what = part.partition(":")
        targets = set(what.split("+"))
        if not targets <= {"api", "worker"} or not targets:
            raise SystemExit(f"--kills: {part!r}: say api, worker or api+worker after the colon")
        kills.append(Kill(float(at), api="api" in targets, worker="worker" in targets))
    return tuple(sorted(kills, key=lambda k: k.at))


@dataclass
class KillRecord:
    kill: Kill
    accepted: int  # deliveries answered 2xx before it
    in_flight: int  # webhook requests on the wire when the API was killed
    worker_held_lease: bool | None  # None: no worker killed
    downtime: float | None  # API: SIGKILL → /v1/health answers again


@dataclass
class CrashReport:
    backend: str
    deliveries: int
    distinct: int
    concurrency: int
    rate: float
    kills: list[KillRecord] = field(default_factory=list)
    run: Run = field(default_factory=Run)  # 2xx answers: outcomes, `queued` per post
    attempts: int = 0  # requests sent, retries included
    connection_errors: int = 0  # refused, reset or cut off: retried
    refused: dict[int, int] = field(default_factory=dict)  # non-2xx statuses: retried
    accepted: set[str] = field(default_factory=set)  # forum post ids answered 2xx
    unaccepted: set[str] = field(default_factory=set)  # never answered 2xx by the deadline
    post_rows: int = 0
    jobs: int = 0
    drafts: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    reclaimed: int = 0  # jobs claimed more than once (their worker died holding them)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    load_seconds: float = 0.0
    drain_seconds: float = 0.0

    @property
    def answer_lost(self) -> int:
        """Posts stored by a request whose answer died with the API (committed, then killed
        before answering): no `queued` answer ever reached the client, only `duplicate`s."""
        return len(self.accepted - set(self.run.queued))

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated and not self.unaccepted


class Processes:
    """The API and the workers as child processes (`moments serve`, `moments worker`)."""

    def __init__(
        self, env: dict[str, str], folder: Path, *, workers: int, lease: float, delay: float
    ) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("MOMENTS_")}
        self.api_env = {**base, **env, "PYTHONPATH": str(REPO)}
        self.worker_env = {
            **self.api_env,
            "MOMENTS_WORKER_FAKE_DRAFTER": "1",
            "MOMENTS_WORKER_FAKE_DELAY": str(delay),
        }
        self.folder = folder
        self.lease = lease
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.worker_ids: list[str] = []
        self.restarts = 0
        self._logs: list[IO[bytes]] = []
        for index in range(workers):
            self.workers.append(self._spawn_worker(f"w{index}"))
            self.worker_ids.append(f"w{index}")

    def _log(self, name: str) -> IO[bytes]:
        log = (self.folder / f"{name}.log").open("ab")
        self._logs.append(log)
        return log

    def _spawn_worker(self, worker_id: str) -> subprocess.Popen[bytes]:
        command = ["worker", "--poll", "0.05", "--lease", str(self.lease), "--id", worker_id]
        return self._spawn(command, self.worker_env, "worker")

    def _spawn(self, args: Sequence[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "copilot.cli", *args],
            cwd=REPO,
            env=env,
            stdout=self._log(log),
            stderr=subprocess.STDOUT,
        )

    def start_api(self) -> None:
        """`moments serve` on the same loopback port each time (uvloop + httptools)."""
        command = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.api = self._spawn(command, self.api_env, "api")

    def kill(self, *, api: bool, worker: bool) -> None:
        """SIGKILL the API and/or worker 0 (back to back: at the same time), reap them."""
        victims = ([self.api] if api and self.api else []) + ([self.workers[0]] if worker else [])
        for proc in victims:
            proc.send_signal(signal.SIGKILL)
        for proc in victims:
            proc.wait()

    def restart_worker(self) -> None:
        self.restarts += 1
        self.worker_ids[0] = f"w0-restart{self.restarts}"
        self.workers[0] = self._spawn_worker(self.worker_ids[0])

    async def wait_healthy(self) -> None:
        """Until the API answers GET /v1/health 200; fails if it exits or takes too long."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.api is None or self.api.poll() is not None:
                tail = (self.folder / "api.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the API exited while starting:\n{tail}")
            connection = LeanConnection(self.url)
            try:
                status, _ = await asyncio.wait_for(
                    connection.request("GET", "/v1/health", {}), timeout=2
                )
                if status == 200:
                    return
            except (OSError, EOFError, ValueError):
                pass
            finally:
                await connection.close()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not answer {self.url}/v1/health in time")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM everything (a clean stop: the API drains its intake), SIGKILL stragglers."""
        procs = [p for p in [self.api, *self.workers] if p is not None and p.poll() is None]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._logs:
            log.close()


def holds_lease(store: Store, worker_id: str) -> bool:
    with store.reading() as session:
        found = session.scalar(
            select(JobRow.id).where(JobRow.status == "running", JobRow.lease_owner == worker_id)
        )
    return found is not None


async def wait_for_lease(store: Store, worker_id: str, seconds: float) -> bool:
    """Poll until the worker holds a job's lease (to kill it mid-job); False on timeout."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await asyncio.to_thread(holds_lease, store, worker_id):
            return True
        await asyncio.sleep(0.002)
    return False


async def load_with_kills(
    procs: Processes,
    store: Store,
    bodies: list[bytes],
    kills: Sequence[Kill],
    report: CrashReport,
    deadline: float,
    rate: float,
) -> None:
    """Deliver every body until it is answered 2xx (at `rate` per second, 0: as fast as the
    connections go), while a controller kills and restarts processes."""
    pending: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    for item in enumerate(bodies):
        pending.put_nowait(item)
    state = {"accepted": 0, "in_flight": 0}
    rng = random.Random(5)
    started = time.perf_counter()

    async def deliver(connection: LeanConnection, body: bytes) -> None:
        while time.monotonic() < deadline:
            headers = discourse_headers(body, SECRET, event_id=uuid.uuid4().hex[:12])
            report.attempts += 1
            state["in_flight"] += 1
            try:
                status, content = await asyncio.wait_for(
                    connection.request("POST", WEBHOOK_PATH, headers, body), REQUEST_TIMEOUT
                )
            except (OSError, EOFError, ValueError):  # refused, reset, cut off, timed out
                report.connection_errors += 1
                await connection.close()
                await asyncio.sleep(RETRY_SECONDS * (0.5 + rng.random()))
                continue
            finally:
                state["in_flight"] -= 1
            if 200 <= status < 300:
                report.run.record_webhook_answer(body, content)
                report.accepted.add(forum_post_id(body))
                state["accepted"] += 1
                return
            report.refused[status] = report.refused.get(status, 0) + 1
            await asyncio.sleep(RETRY_SECONDS)
        report.unaccepted.add(forum_post_id(body))

    async def sender() -> None:
        connection = LeanConnection(procs.url)
        try:
            while not pending.empty():
                index, body = pending.get_nowait()
                if rate > 0:  # the forum's pace: delivery i is due at i / rate seconds
                    await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                await deliver(connection, body)
        finally:
            await connection.close()

    async def controller() -> None:
        for kill in kills:
            target = math.ceil(kill.at * len(bodies))
            while state["accepted"] < target:
                if time.monotonic() > deadline:
                    return
                await asyncio.sleep(0.002)
            held = await wait_for_lease(store, procs.worker_ids[0], 3.0) if kill.worker else None
            if kill.api:  # mid-load: at least one delivery on the wire
                wait_until = time.monotonic() + 2.0
                while state["in_flight"] == 0 and time.monotonic() < wait_until:
                    await asyncio.sleep(0)
            in_flight, accepted = state["in_flight"], state["accepted"]
            killed_at = time.monotonic()
            procs.kill(api=kill.api, worker=kill.worker)
            if kill.worker:
                procs.restart_worker()
            downtime = None
            if kill.api:
                procs.start_api()
                await procs.wait_healthy()
                downtime = time.monotonic() - killed_at
            report.kills.append(
                KillRecord(kill, accepted, in_flight if kill.api else 0, held, downtime)
            )

    control = asyncio.create_task(controller())
    await asyncio.gather(*(sender() for _ in range(report.concurrency)))
    report.load_seconds = time.perf_counter() - started
    await control


def drain(store: Store, deadline: float) -> dict[str, int]:
    """Wait until no job is queued or running (the workers have drafted everything)."""
    while True:
        by_status = store.job_counts()
        if not by_status.get("queued") and not by_status.get("running"):
            return by_status
        if time.monotonic() > deadline:
            return by_status
        time.sleep(0.2)


def count(report: CrashReport, database_url: str, store: Store) -> None:
    """Fill in what the tables hold: lost and duplicated posts, per forum post id."""
    per_post = per_post_counts(database_url)
    report.post_rows = sum(c.rows for c in per_post.values())
    report.jobs = sum(c.jobs for c in per_post.values())
    report.drafts = sum(c.drafts for c in per_post.values())
    report.lost = sorted(p for p in report.accepted if p not in per_post or per_post[p].drafts == 0)
    queued_twice = {p for p, n in report.run.queued.items() if n > 1}
    report.duplicated = sorted(
        p
        for p, c in per_post.items()
        if c.drafts > 1 or c.jobs > 1 or c.rows > 1 or p in queued_twice
    )
    with store.reading() as session:
        report.reclaimed = int(
            session.scalar(select(func.count()).select_from(JobRow).where(JobRow.attempts > 1)) or 0
        )


def run_crash_test(
    database_url: str,
    folder: Path,
    *,
    backend: str,
    deliveries: int = 1000,
    redeliveries: float = 0.3,
    concurrency: int = 16,
    rate: float = 0.0,
    kills: Sequence[Kill] = DEFAULT_KILLS,
    workers: int = 2,
    lease: float = 3.0,
    delay: float = 0.01,
    timeout: float = 240.0,
) -> CrashReport:
    """The whole scenario on an empty database at `database_url`; see the module docstring."""
    bodies, distinct = make_deliveries(deliveries, redeliveries, seed=23)
    report = CrashReport(backend, deliveries, distinct, concurrency, rate)
    store = open_store(database_url)  # migrates once, before any child opens it
    env = {
        "MOMENTS_ENV": "test",
        "MOMENTS_DATA_DIR": str(folder / "data"),
        "MOMENTS_DATABASE_URL": database_url,
        "MOMENTS_DISCOURSE_WEBHOOK_SECRET": SECRET,
    }
    procs = Processes(env, folder, workers=workers, lease=lease, delay=delay)
    deadline = time.monotonic() + timeout
    try:
        procs.start_api()
        run_async(procs.wait_healthy())
        run_async(load_with_kills(procs, store, bodies, kills, report, deadline, rate))
        started = time.perf_counter()
        report.by_status = drain(store, deadline)
        report.drain_seconds = time.perf_counter() - started
    finally:
        procs.stop()
    try:
        count(report, database_url, store)
    finally:
        store.close()
    return report


def print_report(report: CrashReport, lease: float) -> None:
    print(
        f"crash test: {report.deliveries} signed deliveries ({report.distinct} distinct posts, "
        f"{report.deliveries - report.distinct} redeliveries) at "
        f"{f'{report.rate:.0f}/s' if report.rate else 'full speed'}, concurrency "
        f"{report.concurrency}, backend {report.backend}, `moments serve` + `moments worker`s"
    )
    for record in report.kills:
        what = f"kill -9 {record.kill.label:15} at {record.accepted:5} accepted"
        if record.kill.api:
            what += f", {record.in_flight:2} webhook request(s) in flight"
        if record.worker_held_lease is not None:
            what += f", worker {'held' if record.worker_held_lease else 'did NOT hold'} a lease"
        if record.downtime is not None:
            what += f"; API answering again after {record.downtime:.1f} s"
        print(what)
    print(
        f"requests             {report.attempts} sent for {report.deliveries} deliveries: "
        f"{report.connection_errors} connection errors and "
        f"{sum(report.refused.values())} non-2xx {dict(sorted(report.refused.items()))} retried"
    )
    print(f"2xx answers          {dict(sorted(report.run.outcomes.items()))}")
    print(
        f"answer lost in crash {report.answer_lost} post(s) committed by a request the kill cut "
        "off: never answered `queued`, their retry answered `duplicate`"
    )
    print(
        f"accepted posts       {len(report.accepted)} of {report.distinct}; never accepted "
        f"{len(report.unaccepted)}"
    )
    print(
        f"store                {report.post_rows} post rows, {report.jobs} jobs, "
        f"{report.drafts} drafts; jobs by status {report.by_status}"
    )
    print(
        f"reclaimed            {report.reclaimed} job(s) claimed again after their worker "
        f"died (lease {lease:.0f} s)"
    )
    print(f"LOST                 {len(report.lost)}  {report.lost[:10]}")
    print(f"DUPLICATED           {len(report.duplicated)}  {report.duplicated[:10]}")
    print(
        f"wall time            load {report.load_seconds:.1f} s (with the restarts), "
        f"drain after it {report.drain_seconds:.1f} s"
    )
    print(f"goal (0 lost, 0 duplicated, all accepted): {'met' if report.ok else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--redeliveries", type=float, default=0.3)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="deliveries per second (0: full speed)"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--kills",
        type=parse_kills,
        default=DEFAULT_KILLS,
        help="share accepted:what, comma separated (default 0.25:api,0.5:api+worker,0.75:worker)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.01, help="fake draft seconds")
    parser.add_argument("--lease", type=float, default=3.0, help="job lease seconds")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--quick", action="store_true", help="500 deliveries")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="moments-crash-"))
    load_before = os.getloadavg()
    schema = None
    if args.backend == "sqlite":
        url = f"sqlite:///{folder / 'moments.db'}"
    else:
        url, schema = fresh_postgres_schema("crash")
    try:
        report = run_crash_test(
            url,
            folder,
            backend=args.backend,
            deliveries=500 if args.quick else args.deliveries,
            redeliveries=args.redeliveries,
            concurrency=args.concurrency,
            rate=args.rate,
            kills=args.kills,
            workers=args.workers,
            lease=args.lease,
            delay=args.delay,
            timeout=args.timeout,
        )
    finally:
        if schema:
            drop_postgres_schema(schema)
    print_report(report, args.lease)
    print(
        "load average         before {:.1f} {:.1f} {:.1f}, after {:.1f} {:.1f} {:.1f} "
        "(nproc {})".format(*load_before, *os.getloadavg(), os.cpu_count() or 0)
    )
    print(f"logs                 {folder}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
