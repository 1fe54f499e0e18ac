"""The review state machine: transitions, edits, races, regeneration, publishing.
Runs on SQLite here and on SQLite + PostgreSQL in tests/integration/test_store_backends.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_store_contract import drafted, make_draft

from copilot import review
from copilot.errors import ConflictError, InputError
from copilot.publishing import RecordingPublisher
from copilot.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'moments.db'}")
    yield opened
    opened.close()


# Pure functions ------------------------------------------------------------------------------


def test_only_pending_drafts_can_be_decided() -> None:
    assert review.allowed_actions("pending") == ("approve", "edit", "reject", "regenerate")
    assert review.allowed_actions("approved") == ("publish",)
    assert review.allowed_actions("published") == ()
    review.check_transition(1, "approved", "publish")
    with pytest.raises(ConflictError) as caught:
        review.check_transition(12, "rejected", "approve", reviewer="dev")
    assert "Draft 12 was already rejected by dev" in str(caught.value)
    assert "Allowed from rejected: nothing" in str(caught.value)
    with pytest.raises(ConflictError, match="Allowed from pending: approve, edit"):
        review.check_transition(3, "pending", "publish")


def test_edit_diff_measures_how_much_changed() -> None:
    diff, ratio = review.edit_diff("Thanks Sam.\nWe will look.", "Thanks Sam.\nWe're looking now.")
    assert "-We will look." in diff and "+We're looking now." in diff
    assert 0 < ratio < 1
    assert review.edit_diff("same", "same") == ("", 0.0)


# Transitions ---------------------------------------------------------------------------------


def test_approve_as_drafted(store: Store) -> None:
    draft_id = drafted(store)
    record = review.approve(store, draft_id, "maya")
    assert record.status == "approved" and record.reviewer == "maya" and record.approved_at
    assert record.reviews[-1].action == "approve" and record.reviews[-1].edit_ratio == 0.0
    assert [a.action for a in store.list_audit(entity="draft", entity_id=draft_id)][0] == (
        "draft.approved"
    )
    learn = [j for j in store.list_jobs() if j.kind == "learn"]
    assert len(learn) == 1 and learn[0].draft_id == draft_id


def test_approve_with_edit_records_a_version_and_diff(store: Store) -> None:
    draft_id = drafted(store)
    record = review.approve(
        store, draft_id, "maya", text="Sorry, Sam! Could you send the hub logs?", expected_version=1
    )
    assert record.text == "Sorry, Sam! Could you send the hub logs?" and record.version == 2
    assert [(v.version, v.source, v.author) for v in record.versions] == [
        (1, "model", None),
        (2, "edit", "maya"),
    ]
    approval = record.reviews[-1]
    assert approval.diff and approval.edit_ratio is not None and approval.edit_ratio > 0


def test_edit_keeps_pending_and_stale_versions_conflict(store: Store) -> None:
    draft_id = drafted(store)
    edited = review.edit(store, draft_id, "dev", "Hi Sam, sorry about this.", expected_version=1)
    assert edited.status == "pending" and edited.version == 2
    assert edited.reviews[-1].action == "edit" and "+Hi Sam" in (edited.reviews[-1].diff or "")
    with pytest.raises(ConflictError, match="you saw version 1"):
        review.approve(store, draft_id, "maya", expected_version=1)
    assert review.approve(store, draft_id, "maya", expected_version=2).status == "approved"
    with pytest.raises(InputError):
        review.edit(store, drafted(store, 2), "dev", "  ")


def test_reject_needs_a_reason_and_is_final(store: Store) -> None:
    draft_id = drafted(store)
    with pytest.raises(InputError, match="reason is required"):
        review.reject(store, draft_id, "dev", "")
    record = review.reject(store, draft_id, "dev", "promises a refund")
    assert record.status == "rejected" and record.reviews[-1].reason == "promises a refund"
    with pytest.raises(ConflictError, match="already rejected by dev.*Allowed from rejected"):
        review.approve(store, draft_id, "maya")


def test_second_approval_names_the_first_reviewer(store: Store) -> None:
    draft_id = drafted(store)
    review.approve(store, draft_id, "maya")
    with pytest.raises(ConflictError, match=rf"Draft {draft_id} was already approved by maya at "):
        review.approve(store, draft_id, "dev")


def test_the_conditional_update_refuses_a_stale_read(store: Store) -> None:
    """What the database enforces even if two reviewers read 'pending' at the same moment."""
    draft_id = drafted(store)
    stale = SimpleNamespace(id=draft_id, status="pending", row_version=1)
    review.approve(store, draft_id, "maya")
    with pytest.raises(ConflictError, match="already approved by maya"):
        with store.transaction() as session:
            review._transition(session, stale, "approve", {"status": "approved", "reviewer": "dev"})  # type: ignore[arg-type]
    assert store.get_draft(draft_id).reviewer == "maya"


@pytest.mark.parametrize("round_", range(3))
def test_two_reviewers_approving_at_once_one_wins(store: Store, round_: int) -> None:
    draft_id = drafted(store, round_ + 1)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def approve(name: str) -> None:
        barrier.wait()
        try:
            outcomes[name] = review.approve(store, draft_id, name).reviewer
        except ConflictError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=approve, args=(n,)) for n in ("maya", "dev")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [n for n, o in outcomes.items() if o == n]
    losses = [o for o in outcomes.values() if isinstance(o, ConflictError)]
    assert len(wins) == 1 and len(losses) == 1
    assert f"already approved by {wins[0]}" in str(losses[0])
    record = store.get_draft(draft_id)
    assert record.reviewer == wins[0]
    assert [r.action for r in record.reviews] == ["approve"]


# Regeneration --------------------------------------------------------------------------------


def test_regeneration_supersedes_the_old_draft_when_ready(store: Store) -> None:
    old = drafted(store)
    job = review.request_regeneration(store, old, "maya", "shorter")
    assert job.kind == "regenerate" and job.instruction == "shorter" and job.draft_id == old
    assert review.request_regeneration(store, old, "maya", "shorter").id == job.id  # no duplicate
    claimed = store.claim_job("w1")
    assert claimed is not None and claimed.id == job.id
    new = store.complete_job(job.id, "w1", make_draft("Shorter: sorry, Sam."))
    old_record, new_record = store.get_draft(old), store.get_draft(new)
    assert old_record.status == "superseded" and old_record.superseded_by_id == new
    assert new_record.status == "pending" and new_record.supersedes_id == old
    assert new_record.versions[0].source == "regenerate"
    with pytest.raises(ConflictError, match="superseded"):
        review.approve(store, old, "dev")


def test_regeneration_after_a_decision_keeps_the_decision(store: Store) -> None:
    old = drafted(store)
    job = review.request_regeneration(store, old, "maya", "warmer")
    review.approve(store, old, "dev")
    claimed = store.claim_job("w1")
    assert claimed is not None and claimed.id == job.id
    new = store.complete_job(job.id, "w1", make_draft("warmer"))
    assert store.get_draft(old).status == "approved"
    assert store.get_draft(new).status == "superseded"


# Publishing ----------------------------------------------------------------------------------


def test_publish_only_from_approved(store: Store) -> None:
    draft_id = drafted(store)
    publisher = RecordingPublisher()
    with pytest.raises(ConflictError, match="Allowed from pending"):
        review.publish(store, draft_id, publisher)
    review.approve(store, draft_id, "maya")
    publication = review.publish(store, draft_id, publisher)
    assert publication.status == "published" and publication.external_post_id == "1"
    assert store.get_draft(draft_id).status == "published"
    _, raw, key = publisher.published[0]
    assert raw.endswith(f"<!-- moments:draft-{draft_id} -->") and key == f"draft-{draft_id}"
    again = review.publish(store, draft_id, publisher)
    assert again.id == publication.id and len(publisher.published) == 1


def test_forum_down_leaves_it_approved_and_retryable(store: Store) -> None:
    draft_id = drafted(store)
    review.approve(store, draft_id, "maya")
    publisher = RecordingPublisher().fail_next(1)
    failed = review.publish(store, draft_id, publisher)
    assert failed.status == "failed" and "unavailable" in (failed.last_error or "")
    assert store.get_draft(draft_id).status == "approved"
    results = review.retry_publications(store, publisher)
    assert [r.status for r in results] == ["published"] and results[0].attempts == 2
    assert store.get_draft(draft_id).status == "published"
    assert review.retry_publications(store, publisher) == []


def test_ambiguous_failure_is_not_posted_twice(store: Store) -> None:
    draft_id = drafted(store)
    review.approve(store, draft_id, "maya")
    publisher = RecordingPublisher().lose_next(1)  # the forum got it, we saw a timeout
    assert review.publish(store, draft_id, publisher).status == "failed"
    result = review.retry_publications(store, publisher)
    assert result[0].status == "published" and result[0].external_post_id == "1"
    assert len(publisher.published) == 1 and publisher.calls == 1
    audit = store.list_audit(entity="draft", entity_id=draft_id)
    assert audit[0].action == "draft.published" and audit[0].detail["found_existing"] is True


def test_every_decision_needs_a_reviewer_name(store: Store) -> None:
    draft_id = drafted(store)
    with pytest.raises(InputError, match="reviewer name"):
        review.approve(store, draft_id, " ")
    with pytest.raises(InputError, match="reviewer name"):
        review.reject(store, draft_id, "", "off-tone")
    assert store.get_draft(draft_id).status == "pending"


def test_two_publishers_at_once_post_once(store: Store) -> None:
    draft_id = drafted(store)
    review.approve(store, draft_id, "maya")
    barrier = threading.Barrier(2)

    class Slow(RecordingPublisher):
        def publish(self, post, text, *, idempotency_key):  # type: ignore[no-untyped-def]
            time.sleep(0.3)
            return super().publish(post, text, idempotency_key=idempotency_key)

    publisher = Slow()
    outcomes: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(review.publish(store, draft_id, publisher).status)
        except ConflictError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(publisher.published) == 1
    assert outcomes.count("published") == 1
    assert any(isinstance(o, ConflictError) for o in outcomes)
    assert store.get_draft(draft_id).status == "published"
