"""The webhook micro-batcher (api.intake) and the store's batch write (Store.submit_posts)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.intake import Intake
from api.testing import TEST_SECRET, build_harness, discourse_headers, sample_payload
from copilot.errors import ConflictError, InputError
from copilot.store import Store, SubmitResult, open_store
from copilot.store_engine import Submission
from copilot.types import Member, Post


def make_post(n: int, *, text: str = "My hub lost its scenes after the update.") -> Post:
    return Post(
        text=text,
        member=Member(handle=f"member{n % 3}", name=f"Member {n}"),
        forum="discourse",
        forum_post_id=str(1000 + n),
        topic_id=str(n),
    )


class RecordingStore:
    """A real store that records each batch it is asked to write."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.batches: list[list[Submission]] = []
        self.fail_post_ids: set[str] = set()

    def submit_posts(self, batch: Sequence[Submission]) -> list[SubmitResult | Exception]:
        self.batches.append(list(batch))
        return self.store.submit_posts(batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'moments.db'}")
    yield opened
    opened.close()


def counts(store: Store) -> tuple[int, int]:
    """(distinct posts with jobs, jobs)"""
    jobs = store.list_jobs(limit=10_000)
    return len({j.post_id for j in jobs}), len(jobs)


def submit_together(
    store: Any, posts: Sequence[Post], **intake_options: Any
) -> list[SubmitResult | BaseException]:
    """Deliver `posts` at the same moment through a started Intake over `store`, then close it;
    each post's result or exception, in order."""

    async def scenario() -> list[SubmitResult | BaseException]:
        intake = Intake(store, **intake_options)
        intake.start()
        try:
            return await asyncio.gather(
                *(intake.submit(p, source="t") for p in posts), return_exceptions=True
            )
        finally:
            await intake.close()

    return asyncio.run(scenario())


# Batching ------------------------------------------------------------------------------------


def test_concurrent_deliveries_share_one_transaction_and_get_their_own_ids(store: Store) -> None:
    recording = RecordingStore(store)
    posts = [make_post(n) for n in range(20)]
    results = submit_together(recording, posts, window=0.05)
    assert [len(b) for b in recording.batches] == [20]
    for post, result in zip(posts, results, strict=True):
        assert isinstance(result, SubmitResult) and not result.duplicate
        stored = store.get_post(result.post_id)
        assert stored.forum_post_id == post.forum_post_id
        assert result.job_id is not None and store.get_job(result.job_id).post_id == result.post_id
    assert counts(store) == (20, 20)


def test_max_batch_splits_a_burst(store: Store) -> None:
    recording = RecordingStore(store)
    submit_together(recording, [make_post(n) for n in range(20)], window=0.05, max_batch=8)
    assert [len(b) for b in recording.batches] == [8, 8, 4]
    assert counts(store) == (20, 20)


def test_duplicate_inside_one_batch_is_counted_once(store: Store) -> None:
    recording = RecordingStore(store)
    posts = [make_post(1), make_post(2), make_post(1), make_post(1)]
    first, other, again, third = submit_together(recording, posts, window=0.05)
    assert len(recording.batches) == 1
    assert isinstance(first, SubmitResult) and not first.duplicate
    assert isinstance(other, SubmitResult) and not other.duplicate
    for dup in (again, third):
        assert isinstance(dup, SubmitResult) and dup.duplicate
        assert (dup.post_id, dup.job_id) == (first.post_id, first.job_id)
    assert counts(store) == (2, 2)
    # a later redelivery (a new batch) finds the stored post
    assert store.submit_posts([Submission(make_post(1), "t")]) == [
        SubmitResult(post_id=first.post_id, job_id=first.job_id, duplicate=True)
    ]


def test_invalid_item_fails_alone(store: Store) -> None:
    recording = RecordingStore(store)
    posts = [make_post(1), make_post(2, text="   "), make_post(3)]
    ok1, bad, ok3 = submit_together(recording, posts, window=0.05)
    assert len(recording.batches) == 1
    assert isinstance(bad, InputError) and "empty" in str(bad)
    assert isinstance(ok1, SubmitResult) and isinstance(ok3, SubmitResult)
    assert counts(store) == (2, 2)


def test_batch_failing_as_a_whole_falls_back_one_by_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch transaction fails (as a concurrent writer taking a key would make it); each
    item is retried alone, and the one that still fails gets its own error."""

    def broken_batch(session: Any, items: Any) -> Any:
        raise ConflictError("simulated: another writer took a key")

    real_submit = store.submit_post

    def submit_post(post: Post, *, source: str, revision: int = 1) -> SubmitResult:
        if post.forum_post_id == "1002":
            raise ConflictError("simulated: this one really conflicts")
        return real_submit(post, source=source, revision=revision)

    monkeypatch.setattr(store, "_submit_many", broken_batch)
    monkeypatch.setattr(store, "submit_post", submit_post)
    results = store.submit_posts([Submission(make_post(n), "t") for n in range(1, 5)])
    assert [type(r).__name__ for r in results] == [
        "SubmitResult",
        "ConflictError",
        "SubmitResult",
        "SubmitResult",
    ]
    assert counts(store) == (3, 3)


def test_store_without_submit_posts_is_called_item_by_item(store: Store) -> None:
    class PlainStore:
        def __init__(self) -> None:
            self.calls = 0

        def submit_post(self, post: Post, *, source: str, revision: int = 1) -> SubmitResult:
            self.calls += 1
            return store.submit_post(post, source=source, revision=revision)

    plain = PlainStore()
    first, second = submit_together(plain, [make_post(1), make_post(1)], window=0.01)
    assert plain.calls == 2
    assert isinstance(second, SubmitResult) and second.duplicate
    assert isinstance(first, SubmitResult) and second.post_id == first.post_id


def test_stored_only_posts_get_no_job(store: Store) -> None:
    async def scenario() -> tuple[SubmitResult, SubmitResult]:
        intake = Intake(store, window=0.01)
        intake.start()
        try:
            a = await intake.submit(make_post(1), source="t", draft=False)
            b = await intake.submit(make_post(1), source="t", draft=False)
            return a, b
        finally:
            await intake.close()

    a, b = asyncio.run(scenario())
    assert a.job_id is None and not a.duplicate
    assert b.duplicate and b.post_id == a.post_id and b.job_id is None
    assert store.list_jobs() == []


# Shutdown ------------------------------------------------------------------------------------


def test_close_drains_everything_queued(store: Store) -> None:
    recording = RecordingStore(store)

    async def scenario() -> list[SubmitResult]:
        intake = Intake(recording, window=0.01, max_batch=7)
        intake.start()
        tasks = [asyncio.ensure_future(intake.submit(make_post(n), source="t")) for n in range(30)]
        await asyncio.sleep(0)  # every task has queued its item
        await intake.close()  # returns only after all 30 are committed
        assert all(t.done() for t in tasks)
        late = await intake.submit(make_post(99), source="t")  # after close: direct write
        return [t.result() for t in tasks] + [late]

    results = asyncio.run(scenario())
    assert len({r.post_id for r in results}) == 31
    assert sum(len(b) for b in recording.batches) == 31
    assert counts(store) == (31, 31)


def test_a_cancelled_request_does_not_cancel_the_commit(store: Store) -> None:
    async def scenario() -> None:
        intake = Intake(store, window=0.05)
        intake.start()
        task = asyncio.ensure_future(intake.submit(make_post(5), source="t"))
        await asyncio.sleep(0)
        task.cancel()  # the client went away
        await intake.close()

    asyncio.run(scenario())
    assert counts(store) == (1, 1)


# Through the app -----------------------------------------------------------------------------


def test_webhook_goes_through_the_intake_and_reports_truthfully(tmp_path: Path) -> None:
    harness = build_harness(tmp_path)
    payload = sample_payload("post_created")
    body = json.dumps(payload).encode()
    url = "/v1/webhooks/discourse"
    with TestClient(harness.app) as client:
        first = client.post(url, content=body, headers=discourse_headers(body, TEST_SECRET))
        second = client.post(url, content=body, headers=discourse_headers(body, TEST_SECRET))
        staff = json.dumps(sample_payload("post_created_staff")).encode()
        stored = client.post(url, content=staff, headers=discourse_headers(staff, TEST_SECRET))
        intake = harness.app.state.intake
        assert intake is not None and intake.stats.items == 3
    assert harness.app.state.intake is None  # drained and detached at shutdown
    assert first.json()["outcome"] == "queued"
    assert second.json()["outcome"] == "duplicate"
    assert second.json()["job_id"] == first.json()["job_id"]
    assert stored.json()["outcome"] == "stored" and stored.json()["job_id"] is None
    assert counts(harness.store) == (1, 1)
    harness.store.close()
