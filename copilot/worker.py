"""The background worker: claims jobs from the store and drafts replies ahead of the reviewer.

    loop: claim (lease) → build the Post → draft_reply → complete_job (idempotent)
          "learn" jobs: index an approved reply as a past interaction (the learning loop)
          every `publish_every` seconds: retry publications that failed

Crash-safe: a worker killed mid-job leaves its lease to expire, another worker reclaims the
job (at-least-once) and UNIQUE(drafts.job_id) keeps it to one draft. SIGTERM/SIGINT finish the
current job and stop. The `drafter` and `learner` parameters are the seams tests replace.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from copilot.errors import ConfigError, ConflictError, InputError, MomentsError
from copilot.settings import Settings
from copilot.store_engine import Store, open_store
from copilot.store_records import DraftRecord, JobRecord
from copilot.types import (
    Draft,
    DraftOptions,
    ModelInfo,
    Moment,
    MomentType,
    Post,
    PromptRef,
)

log = logging.getLogger(__name__)

Drafter = Callable[[Post, DraftOptions], Draft]
Learner = Callable[[DraftRecord], None]

FAKE_DRAFTER_ENV = "MOMENTS_WORKER_FAKE_DRAFTER"  # test only: honoured when MOMENTS_ENV=test
FAKE_DELAY_ENV = "MOMENTS_WORKER_FAKE_DELAY"


@dataclass
class WorkerStats:
    """What a worker did; returned by `run_worker`."""

    worker_id: str
    claimed: int = 0
    drafted: int = 0
    learned: int = 0
    failed: int = 0
    lost_leases: int = 0
    published: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: WorkerStats) -> None:
        self.claimed += other.claimed
        self.drafted += other.drafted
        self.learned += other.learned
        self.failed += other.failed
        self.lost_leases += other.lost_leases
        self.published += other.published
        self.errors.extend(other.errors)


# Seams ---------------------------------------------------------------------------------------


def fake_draft(post: Post, options: DraftOptions) -> Draft:
    """A deterministic, instant draft (tests and the crash benchmark only)."""
    delay = float(os.environ.get(FAKE_DELAY_ENV, "0") or 0)
    if delay:
        time.sleep(delay)
    name = post.member.display_name or "there"
    suffix = f" ({options.instruction})" if options.instruction else ""
    return Draft(
        moment=Moment(type=MomentType.QUESTION),
        text=f"Thanks for raising this, {name}. We're looking into it{suffix}.",
        prompt=PromptRef(name="fake", sha="0" * 64),
        model=ModelInfo(provider="fake", name="fake-drafter"),
    )


def default_drafter(settings: Settings) -> Drafter:
    """draft_reply with a model and retriever built once, on first use. A local llama.cpp
    model is not thread-safe, so calls are serialised when the provider is local."""
    if os.environ.get(FAKE_DRAFTER_ENV) == "1":
        if settings.env != "test":
            raise ConfigError(
                f"{FAKE_DRAFTER_ENV}=1 is honoured only with MOMENTS_ENV=test",
                hint=f"unset {FAKE_DRAFTER_ENV} to draft with the real model",
            )
        return fake_draft
    lock = threading.Lock()
    built: dict[str, Any] = {}

    def draft(post: Post, options: DraftOptions) -> Draft:
        from copilot.drafting import draft_reply

        with lock:
            if "model" not in built:
                from copilot.llm.factory import build_chat_model

                built["model"] = build_chat_model(settings, progress=False)
                built["retriever"] = _open_retriever(settings)
        if settings.llm_provider == "local":
            with lock:
                return draft_reply(
                    post,
                    model=built["model"],
                    retriever=built["retriever"],
                    options=options,
                    settings=settings,
                )
        return draft_reply(
            post,
            model=built["model"],
            retriever=built["retriever"],
            options=options,
            settings=settings,
        )

    return draft


def _open_retriever(settings: Settings) -> Any:
    try:
        from copilot.retrieval import open_index

        return open_index(settings)
    except MomentsError as exc:
        log.warning("drafting without retrieval: %s", exc)
        return None


def index_approved(index: Any, record: DraftRecord) -> bool:
    """Index an approved reply as a past interaction; False (with a warning) if unsupported."""
    add = getattr(index, "add_interaction", None)
    if add is None:
        log.warning("the knowledge index has no add_interaction; approved reply not indexed")
        return False
    edit_ratio = next(
        (r.edit_ratio for r in reversed(record.reviews) if r.action == "approve"), None
    )
    add(
        record.post.to_post(),
        record.text,
        reviewer=record.reviewer or "unknown",
        moment=MomentType(record.moment)
        if record.moment in MomentType.__members__.values()
        else None,
        edit_ratio=edit_ratio,
        interaction_id=f"draft-{record.id}",
        community_id=record.post.community_id,
    )
    return True


def default_learner(settings: Settings) -> Learner:
    """Open the knowledge index once, on first use; a no-op with a warning if unavailable."""
    state: dict[str, Any] = {}

    def learn(record: DraftRecord) -> None:
        if "index" not in state:
            try:
                from copilot.retrieval import open_index

                state["index"] = open_index(settings)
            except (ImportError, MomentsError) as exc:
                log.warning("learning loop off: cannot open the knowledge index (%s)", exc)
                state["index"] = None
        if state["index"] is not None:
            index_approved(state["index"], record)

    return learn


# The loop ------------------------------------------------------------------------------------


def _heartbeat(store: Store, job_id: int, worker_id: str, lease_seconds: float) -> threading.Event:
    """Renew the lease every third of it until the returned event is set."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(lease_seconds / 3):
            try:
                if not store.renew_lease(job_id, worker_id, lease_seconds=lease_seconds):
                    return
            except MomentsError as exc:
                log.warning("job %s: could not renew the lease: %s", job_id, exc)

    threading.Thread(target=beat, name=f"lease-{job_id}", daemon=True).start()
    return done


def process_job(
    store: Store,
    job: JobRecord,
    worker_id: str,
    drafter: Drafter,
    learner: Learner,
    stats: WorkerStats,
    *,
    lease_seconds: float = 300.0,
) -> None:
    """Run one claimed job to completion (or record why it failed), renewing its lease."""
    done = _heartbeat(store, job.id, worker_id, lease_seconds)
    try:
        _run_job(store, job, worker_id, drafter, learner, stats)
    finally:
        done.set()


def _run_job(
    store: Store,
    job: JobRecord,
    worker_id: str,
    drafter: Drafter,
    learner: Learner,
    stats: WorkerStats,
) -> None:
    try:
        if job.kind == "learn":
            if job.draft_id is not None:
                learner(store.get_draft(job.draft_id))
            store.finish_job(job.id, worker_id)
            stats.learned += 1
            return
        post = store.get_post(job.post_id).to_post()
        options = DraftOptions(instruction=job.instruction) if job.instruction else DraftOptions()
        draft = drafter(post, options)
        store.complete_job(job.id, worker_id, draft)
        stats.drafted += 1
    except ConflictError as exc:  # our lease was taken over: the other worker owns it now
        stats.lost_leases += 1
        log.warning("job %s: %s", job.id, exc)
    except Exception as exc:
        stats.failed += 1
        message = f"{type(exc).__name__}: {exc}"
        stats.errors.append(f"job {job.id}: {message}")
        log.warning("job %s failed: %s", job.id, message)
        try:
            store.fail_job(job.id, worker_id, message, retry=not isinstance(exc, InputError))
        except ConflictError:
            stats.lost_leases += 1


def _loop(
    store: Store,
    worker_id: str,
    drafter: Drafter,
    learner: Learner,
    stop: threading.Event,
    *,
    once: bool,
    poll: float,
    lease_seconds: float,
    on_idle: Callable[[], None] | None,
) -> WorkerStats:
    stats = WorkerStats(worker_id=worker_id)
    while not stop.is_set():
        job = store.claim_job(worker_id, lease_seconds=lease_seconds)
        if job is None:
            if on_idle is not None:
                on_idle()
            if once:
                break
            stop.wait(poll)
            continue
        stats.claimed += 1
        process_job(store, job, worker_id, drafter, learner, stats, lease_seconds=lease_seconds)
    return stats


def run_worker(
    settings: Settings,
    *,
    once: bool = False,
    worker_id: str | None = None,
    drafter: Drafter | None = None,
    learner: Learner | None = None,
    publisher: Any = None,
    store: Store | None = None,
    concurrency: int = 1,
    poll: float = 1.0,
    lease_seconds: float = 300.0,
    publish_every: float = 30.0,
    stop: threading.Event | None = None,
    handle_signals: bool = True,
) -> WorkerStats:
    """Claim and run jobs until stopped (SIGTERM/SIGINT finish the current job first).

    `once`: run until the queue is empty, then return. `concurrency` > 1 runs that many
    claim loops in threads (useful with an OpenAI-compatible server; a local model is
    serialised). `publisher`: retried publications go through it (default: from settings).
    `handle_signals`: install the SIGTERM/SIGINT handlers (main thread only; restored after)."""
    base_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    own_store = store is None
    store = store or open_store(settings)
    drafter = drafter or default_drafter(settings)
    learner = learner or default_learner(settings)
    stop = stop or threading.Event()
    if publisher is None:
        from copilot.publishing import build_publisher

        publisher = build_publisher(settings)
    last_publish = [0.0]
    publish_lock = threading.Lock()
    totals = WorkerStats(worker_id=base_id)

    def on_idle() -> None:
        if publisher is None or getattr(publisher, "name", "") == "none":
            return
        if not publish_lock.acquire(blocking=False):
            return
        try:
            if time.monotonic() - last_publish[0] < publish_every:
                return
            last_publish[0] = time.monotonic()
            from copilot.review import retry_publications

            done = retry_publications(store, publisher)
            totals.published += sum(1 for p in done if p.status == "published")
        except MomentsError as exc:
            log.warning("retrying publications failed: %s", exc)
        finally:
            publish_lock.release()

    previous: dict[signal.Signals, Any] = {}
    if handle_signals and threading.current_thread() is threading.main_thread():

        def _graceful(signum: int, _frame: object) -> None:
            log.info("signal %s: finishing the current job, then stopping", signum)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, _graceful)
    try:

        def run(loop_id: str) -> WorkerStats:
            return _loop(
                store,
                loop_id,
                drafter,
                learner,
                stop,
                once=once,
                poll=poll,
                lease_seconds=lease_seconds,
                on_idle=on_idle,
            )

        if concurrency <= 1:
            totals.merge(run(base_id))
        else:
            results: list[WorkerStats] = []
            threads = [
                threading.Thread(
                    target=lambda i=i: results.append(run(f"{base_id}-{i}")),
                    name=f"moments-worker-{i}",
                )
                for i in range(concurrency)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for result in results:
                totals.merge(result)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if own_store:
            store.close()
    return totals
