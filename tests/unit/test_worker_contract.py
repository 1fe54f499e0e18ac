"""The worker: drafts queued posts exactly once per job, survives crashes, learns from
approvals. Runs on SQLite here and on SQLite + PostgreSQL in tests/integration."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_store_contract import make_draft, make_post

from copilot import review
from copilot.errors import ConfigError, InputError, LLMUnavailableError
from copilot.publishing import RecordingPublisher
from copilot.settings import load_settings
from copilot.store import DraftRecord, Store, open_store
from copilot.store_models import DraftRow
from copilot.types import Draft, DraftOptions, Post
from copilot.worker import WorkerStats, default_drafter, fake_draft, index_approved, run_worker


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'moments.db'}")
    yield opened
    opened.close()


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_settings(data_dir=tmp_path / "data", env="test")


class Recorder:
    """A drafter that records what it was asked and answers instantly."""

    def __init__(self) -> None:
        self.calls: list[tuple[Post, DraftOptions]] = []
        self.lock = threading.Lock()

    def __call__(self, post: Post, options: DraftOptions) -> Draft:
        with self.lock:
            self.calls.append((post, options))
        return make_draft(f"Reply to: {post.title} {options.instruction or ''}".strip())


def drafts_per_job(store: Store) -> dict[int, int]:
    with store.reading() as session:
        rows = session.execute(
            select(DraftRow.job_id, func.count()).group_by(DraftRow.job_id)
        ).all()
    return {int(job): int(n) for job, n in rows}


def run_once(store: Store, settings, **kwargs) -> WorkerStats:  # type: ignore[no-untyped-def]
    kwargs.setdefault("drafter", Recorder())
    kwargs.setdefault("learner", lambda record: None)
    return run_worker(
        settings, once=True, store=store, publisher=RecordingPublisher(), poll=0.01, **kwargs
    )


def test_worker_drafts_every_queued_post(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        store.submit_post(make_post(n), source="t")
    drafter = Recorder()
    stats = run_once(store, settings, drafter=drafter, worker_id="w1")
    assert (stats.claimed, stats.drafted, stats.failed) == (5, 5, 0)
    assert sorted(p.title or "" for p, _ in drafter.calls) == [f"Hub offline {n}" for n in range(5)]
    assert drafter.calls[0][0].member.handle == "sam"
    assert store.queue_counts().total == 5 and store.job_counts() == {"done": 5}


def test_regenerate_jobs_carry_the_instruction(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    store.submit_post(make_post(1), source="t")
    run_once(store, settings)
    old = store.list_queue()[0].id
    review.request_regeneration(store, old, "maya", "shorter")
    drafter = Recorder()
    run_once(store, settings, drafter=drafter)
    assert drafter.calls[0][1].instruction == "shorter"
    queue = store.list_queue()
    assert len(queue) == 1 and queue[0].text.endswith("shorter")
    assert store.get_draft(old).status == "superseded"


def test_approval_is_learned(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    store.submit_post(make_post(1), source="t")
    run_once(store, settings)
    draft_id = store.list_queue()[0].id
    review.approve(store, draft_id, "maya", text="Sorry Sam! Send the logs please.")
    learned: list[DraftRecord] = []
    stats = run_once(store, settings, learner=learned.append)
    assert stats.learned == 1 and learned[0].id == draft_id
    assert learned[0].text == "Sorry Sam! Send the logs please." and learned[0].reviewer == "maya"


def test_index_approved_passes_reviewer_and_edit_ratio(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    store.submit_post(make_post(1), source="t")
    run_once(store, settings)
    draft_id = store.list_queue()[0].id
    record = review.approve(store, draft_id, "maya", text="Sorry Sam! Send the logs please.")

    class Index:
        def __init__(self) -> None:
            self.calls: list[tuple[tuple[object, ...], dict[str, object]]] = []

        def add_interaction(self, *args: object, **kwargs: object) -> None:
            self.calls.append((args, kwargs))

    index = Index()
    assert index_approved(index, record)
    (post, reply), kwargs = index.calls[0]
    assert reply == "Sorry Sam! Send the logs please." and kwargs["reviewer"] == "maya"
    assert isinstance(kwargs["edit_ratio"], float) and kwargs["edit_ratio"] > 0
    assert kwargs["interaction_id"] == f"draft-{draft_id}"
    assert not index_approved(object(), record)  # no add_interaction: a logged no-op


def test_transient_errors_retry_then_fail_input_errors_fail_at_once(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    a = store.submit_post(make_post(1), source="t")
    b = store.submit_post(make_post(2), source="t")

    def drafter(post: Post, options: DraftOptions) -> Draft:
        if post.title == "Hub offline 1":
            raise LLMUnavailableError("model server down")
        raise InputError("post is empty")

    stats = run_once(store, settings, drafter=drafter)
    assert stats.failed == 4  # 3 attempts for the first, 1 for the second
    job_a, job_b = store.get_job(a.job_id or 0), store.get_job(b.job_id or 0)
    assert (
        job_a.status == "failed"
        and job_a.attempts == 3
        and "model server down" in (job_a.last_error or "")
    )
    assert job_b.status == "failed" and job_b.attempts == 1


def test_many_workers_many_jobs_one_draft_each(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    jobs = 40
    for n in range(jobs):
        store.submit_post(make_post(n), source="t")
    stats = run_once(store, settings, concurrency=4, worker_id="pool")
    assert stats.drafted == jobs and stats.failed == 0 and stats.lost_leases == 0
    per_job = drafts_per_job(store)
    assert len(per_job) == jobs and set(per_job.values()) == {1}


def test_a_killed_worker_is_taken_over_and_drafts_once(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    result = store.submit_post(make_post(1), source="t")
    dead = store.claim_job("killed-worker", lease_seconds=0.05)  # then it dies (kill -9)
    assert dead is not None
    time.sleep(0.1)
    stats = run_once(store, settings, worker_id="rescuer")
    assert stats.drafted == 1
    # the "dead" worker wakes up late and completes too: it gets the existing draft, no copy
    existing = store.draft_for_job(dead.id)
    assert store.complete_job(dead.id, "killed-worker", make_draft("late")) == existing
    assert drafts_per_job(store) == {result.job_id: 1}
    assert existing is not None and store.get_draft(existing).text != "late"
    assert store.get_job(dead.id).attempts == 2


def test_stop_finishes_the_current_job_first(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        store.submit_post(make_post(n), source="t")
    stop = threading.Event()

    def drafter(post: Post, options: DraftOptions) -> Draft:
        stop.set()  # SIGTERM arrives while the first job is being drafted
        return make_draft()

    stats = run_worker(
        settings,
        store=store,
        drafter=drafter,
        learner=lambda r: None,
        stop=stop,
        publisher=RecordingPublisher(),
        poll=0.01,
    )
    assert stats.drafted == 1 and store.job_counts() == {"done": 1, "queued": 2}


def test_worker_retries_failed_publications(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    store.submit_post(make_post(1), source="t")
    run_once(store, settings)
    draft_id = store.list_queue()[0].id
    review.approve(store, draft_id, "maya")
    publisher = RecordingPublisher().fail_next(1)
    assert review.publish(store, draft_id, publisher).status == "failed"
    stats = run_worker(
        settings,
        once=True,
        store=store,
        drafter=Recorder(),
        learner=lambda r: None,
        publisher=publisher,
        poll=0.01,
    )
    assert stats.published == 1 and store.get_draft(draft_id).status == "published"


def test_fake_drafter_only_under_test(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOMENTS_WORKER_FAKE_DRAFTER", "1")
    assert default_drafter(load_settings(data_dir=tmp_path, env="test")) is fake_draft
    with pytest.raises(ConfigError, match="only with MOMENTS_ENV=test"):
        default_drafter(load_settings(data_dir=tmp_path, env="development"))


def test_heartbeat_keeps_a_long_draft_leased(store: Store, settings) -> None:  # type: ignore[no-untyped-def]
    store.submit_post(make_post(1), source="t")
    stolen: list[object] = []

    def slow(post: Post, options: DraftOptions) -> Draft:
        time.sleep(0.8)  # longer than the 0.3 s lease: only the heartbeat keeps it ours
        stolen.append(store.claim_job("thief"))
        return make_draft()

    stats = run_once(store, settings, drafter=slow, lease_seconds=0.3)
    assert stolen == [None] and stats.drafted == 1 and stats.lost_leases == 0
    assert store.job_counts() == {"done": 1}
