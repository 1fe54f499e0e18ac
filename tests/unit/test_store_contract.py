"""The store's contract: dedupe, leased jobs, idempotent completion, queue, keys, audit,
statements. Runs on SQLite here; tests/integration/test_store_backends.py runs the same
tests on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from copilot.errors import ConflictError, InputError, NotFoundError
from copilot.store import Store, open_store
from copilot.types import (
    Draft,
    IncidentFacts,
    Member,
    ModelInfo,
    Moment,
    MomentType,
    Post,
    PromptRef,
    Statement,
    StatementSet,
    Urgency,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'moments.db'}")
    yield opened
    opened.close()


def make_post(n: int = 1, *, handle: str = "sam", revision_text: str = "", **extra: object) -> Post:
    return Post(
        text=f"My hub keeps dropping off the network after the 3.3 update. {n}{revision_text}",
        title=f"Hub offline {n}",
        member=Member(handle=handle, name=handle.title(), post_count=3),
        forum="discourse",
        forum_post_id=str(1000 + n),
        topic_id=str(500 + n),
        post_number=1,
        **extra,  # type: ignore[arg-type]
    )


def make_draft(
    text_: str = "Sorry about the drop-outs, Sam. Could you share the hub's logs?",
    *,
    urgency: Urgency = Urgency.NORMAL,
    moment: MomentType = MomentType.COMPLAINT,
) -> Draft:
    return Draft(
        moment=Moment(type=moment, urgency=urgency),
        text=text_,
        prompt=PromptRef(name="reply.user.j2", sha="a" * 64),
        model=ModelInfo(provider="fake", name="fake"),
    )


def drafted(store: Store, n: int = 1, **kwargs: object) -> int:
    """Submit a post, claim its job and complete it; returns the draft id."""
    result = store.submit_post(make_post(n), source="test")
    job = store.claim_job("w-setup")
    while job is not None and job.kind == "learn":  # left by an earlier approval
        store.finish_job(job.id, "w-setup")
        job = store.claim_job("w-setup")
    assert job is not None and job.id == result.job_id
    return store.complete_job(job.id, "w-setup", make_draft(**kwargs))  # type: ignore[arg-type]


# Posts and dedupe ----------------------------------------------------------------------------


def test_redelivery_is_recorded_once_and_queued_once(store: Store) -> None:
    first = store.submit_post(make_post(1), source="discourse")
    again = store.submit_post(make_post(1), source="discourse")
    assert not first.duplicate and again.duplicate
    assert again.post_id == first.post_id and again.job_id == first.job_id
    assert store.job_counts() == {"queued": 1}
    post_id, created = store.record_post(make_post(1), source="discourse")
    assert (post_id, created) == (first.post_id, False)


def test_an_edited_post_is_a_new_revision(store: Store) -> None:
    first = store.submit_post(make_post(1), source="discourse")
    edited = store.submit_post(
        make_post(1, revision_text=" (edited)"), source="discourse", revision=2
    )
    assert not edited.duplicate and edited.post_id != first.post_id
    assert store.job_counts() == {"queued": 2}


def test_member_is_one_row_per_handle_and_post_round_trips(store: Store) -> None:
    a = store.submit_post(make_post(1), source="t")
    b = store.submit_post(make_post(2), source="t")
    pa, pb = store.get_post(a.post_id), store.get_post(b.post_id)
    assert pa.member is not None and pb.member is not None
    assert pa.member.id == pb.member.id
    post = pa.to_post()
    assert post.member.handle == "sam" and post.topic_id == "501" and post.forum == "discourse"


def test_empty_post_is_refused(store: Store) -> None:
    with pytest.raises(InputError):
        store.submit_post(Post(text="   "), source="t")


def test_posts_without_forum_ids_are_never_deduplicated(store: Store) -> None:
    a = store.submit_post(Post(text="hello"), source="cli")
    b = store.submit_post(Post(text="hello"), source="cli")
    assert a.post_id != b.post_id and not b.duplicate


# Jobs ----------------------------------------------------------------------------------------


def test_claim_leases_one_job_to_one_worker(store: Store) -> None:
    store.submit_post(make_post(1), source="t")
    job = store.claim_job("w1", lease_seconds=60)
    assert job is not None and job.status == "running" and job.lease_owner == "w1"
    assert job.attempts == 1
    assert store.claim_job("w2") is None


def test_expired_lease_is_claimable_again_and_old_owner_is_refused(store: Store) -> None:
    store.submit_post(make_post(1), source="t")
    first = store.claim_job("w1", lease_seconds=0.05)
    assert first is not None
    time.sleep(0.1)
    second = store.claim_job("w2", lease_seconds=60)
    assert second is not None and second.id == first.id and second.attempts == 2
    with pytest.raises(ConflictError, match="no longer leased to w1"):
        store.complete_job(first.id, "w1", make_draft())
    draft_id = store.complete_job(second.id, "w2", make_draft())
    assert store.get_job(first.id).result_draft_id == draft_id


def test_completion_is_idempotent(store: Store) -> None:
    store.submit_post(make_post(1), source="t")
    job = store.claim_job("w1")
    assert job is not None
    draft_id = store.complete_job(job.id, "w1", make_draft())
    again = store.complete_job(job.id, "w1", make_draft("a different text"))
    assert again == draft_id
    assert store.draft_counts() == {"pending": 1}
    assert store.get_draft(draft_id).text.startswith("Sorry about")


def test_failed_job_is_retried_then_failed(store: Store) -> None:
    store.submit_post(make_post(1), source="t")
    for attempt in range(1, 4):
        job = store.claim_job("w1")
        assert job is not None and job.attempts == attempt
        store.fail_job(job.id, "w1", f"boom {attempt}", retry=True)
    record = store.get_job(job.id)
    assert record.status == "failed" and record.last_error == "boom 3"
    assert store.claim_job("w1") is None


def test_a_job_whose_worker_keeps_dying_ends_failed(store: Store) -> None:
    store.submit_post(make_post(1), source="t")
    for _ in range(3):
        assert store.claim_job("dying", lease_seconds=0.01) is not None
        time.sleep(0.03)
    assert store.claim_job("w2") is None
    job = store.list_jobs()[0]
    assert job.status == "failed" and "expired 3 times" in (job.last_error or "")


def test_fail_without_retry_fails_at_once(store: Store) -> None:
    store.submit_post(make_post(1), source="t")
    job = store.claim_job("w1")
    assert job is not None
    store.fail_job(job.id, "w1", "empty post", retry=False)
    assert store.get_job(job.id).status == "failed"


def test_only_one_live_draft_job_per_post(store: Store) -> None:
    result = store.submit_post(make_post(1), source="t")
    assert store.enqueue_job(result.post_id) == result.job_id
    regen = store.enqueue_job(result.post_id, kind="regenerate", instruction="shorter")
    assert regen != result.job_id
    with pytest.raises(NotFoundError):
        store.enqueue_job(99999)


# Queue and drafts ----------------------------------------------------------------------------


def test_queue_is_sorted_by_urgency_then_age_and_counted(store: Store) -> None:
    low = drafted(store, 1, urgency=Urgency.LOW, moment=MomentType.WELCOME)
    normal_old = drafted(store, 2)
    critical = drafted(store, 3, urgency=Urgency.CRITICAL, moment=MomentType.CRISIS)
    normal_new = drafted(store, 4)
    queue = store.list_queue()
    assert [d.id for d in queue] == [critical, normal_old, normal_new, low]
    assert [d.id for d in store.list_queue(moment="crisis")] == [critical]
    assert [d.id for d in store.list_queue(urgency="low")] == [low]
    assert store.list_queue(community_id="elsewhere") == []
    assert len(store.list_queue(limit=2, offset=1)) == 2
    counts = store.queue_counts()
    assert counts.total == 4 and counts.by_moment == {"welcome": 1, "complaint": 2, "crisis": 1}
    assert counts.by_urgency["critical"] == 1
    summary = queue[0]
    assert summary.member_handle == "sam" and summary.excerpt.startswith("My hub")


def test_get_draft_has_everything_a_reviewer_needs(store: Store) -> None:
    draft_id = drafted(store, 1)
    record = store.get_draft(draft_id)
    assert record.status == "pending" and record.version == 1
    assert record.post.member is not None and record.post.member.handle == "sam"
    assert record.draft.prompt.name == "reply.user.j2"
    assert [v.source for v in record.versions] == ["model"]
    assert record.publication is None and record.reviews == []
    with pytest.raises(NotFoundError):
        store.get_draft(12345)


# API keys, audit, statements -----------------------------------------------------------------


def test_api_keys_store_only_a_hash(store: Store) -> None:
    record, plaintext = store.create_api_key("plugin", "discourse")
    assert plaintext.startswith("mk_") and record.prefix == plaintext[:10]
    verified = store.verify_api_key(plaintext)
    assert verified is not None and verified.role == "plugin" and verified.last_used_at
    assert store.verify_api_key(plaintext + "x") is None
    assert store.verify_api_key("") is None
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).all()
    assert plaintext not in repr(rows)
    store.revoke_api_key(record.id)
    assert store.verify_api_key(plaintext) is None
    assert store.list_api_keys()[0].revoked_at is not None
    with pytest.raises(InputError):
        store.create_api_key("root", "x")  # type: ignore[arg-type]


def test_audit_log_lists_newest_first(store: Store) -> None:
    store.audit("maya", "draft.approved", "draft", 1, {"x": 1})
    store.audit("dev", "draft.rejected", "draft", 2, {})
    assert [a.actor for a in store.list_audit(entity="draft")] == ["dev", "maya"]
    assert store.list_audit(entity="draft", entity_id=1)[0].detail == {"x": 1}


def test_statements_are_saved_and_decided_once(store: Store) -> None:
    facts = IncidentFacts(
        title="Cloud sync outage",
        what_happened="Lumen Cloud sync is failing",
        started_at="14:05 UTC",
        affected="remote access",
        next_update_at="15:00 UTC",
    )
    statements = StatementSet(
        statements={
            "forum": Statement(channel="forum", text="We're investigating."),
            "banner": Statement(channel="banner", text="Sync is down."),
        }
    )
    saved = store.save_statements("inc-1", statements, facts)
    assert {s.channel for s in saved} == {"forum", "banner"}
    approved = store.approve_statement(saved[0].id, "maya", text="We're on it.")
    assert approved.status == "approved" and approved.text == "We're on it."
    assert approved.facts is not None and approved.facts.title == "Cloud sync outage"
    with pytest.raises(ConflictError, match="already approved by maya"):
        store.reject_statement(saved[0].id, "dev", "too short")
    with pytest.raises(InputError):
        store.reject_statement(saved[1].id, "dev", " ")
    assert [s.status for s in store.list_statements(incident_id="inc-1")] == ["approved", "pending"]


def test_health_and_reopen_keep_data(store: Store, tmp_path: Path) -> None:
    assert store.health()
    if store.dialect != "sqlite":
        return
    store.submit_post(make_post(1), source="t")
    reopened = open_store(str(store.engine.url))
    assert reopened.job_counts() == {"queued": 1}
    with reopened.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    reopened.close()


def test_migrations_match_the_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from copilot.store_models import Base

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, Base.metadata) == []


def head_revision() -> str | None:
    """The newest migration in copilot/migrations (a new migration must not break this test)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from copilot.store_engine import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def test_overlong_fields_are_input_errors_on_every_backend(store: Store) -> None:
    with pytest.raises(InputError, match="member handle is 201 characters long; the limit is 200"):
        store.submit_post(make_post(1, handle="h" * 201), source="t")
    with pytest.raises(InputError, match="source"):
        store.submit_post(make_post(1), source="s" * 51)
    assert store.job_counts() == {}


def test_a_stored_draft_with_a_field_the_model_no_longer_has_still_loads(store: Store) -> None:
    from sqlalchemy import update

    from copilot.store_models import DraftRow

    draft_id = drafted(store)
    with store.transaction() as session:
        row = session.get(DraftRow, draft_id)
        assert row is not None
        payload = dict(row.payload, retired_field="x")
        session.execute(update(DraftRow).where(DraftRow.id == draft_id).values(payload=payload))
    assert store.get_draft(draft_id).draft.text.startswith("Sorry about")


def test_queue_can_be_limited_to_one_source(store: Store) -> None:
    mine = drafted(store, 1)
    other = store.submit_post(make_post(2), source="discourse:forum.example.org")
    job = store.claim_job("w")
    assert job is not None and job.id == other.job_id
    theirs = store.complete_job(job.id, "w", make_draft())
    assert [d.id for d in store.list_queue(source="test")] == [mine]
    assert [d.id for d in store.list_queue(source="discourse:forum.example.org")] == [theirs]
    assert store.list_queue(source="nobody") == []
