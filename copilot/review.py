"""The approval state machine.

    pending ──approve──► approved ──publish──► published
       │╰─edit (a new text version; stays pending)
       ├──reject (reason required)──► rejected
       ╰──regenerate──► a new draft is queued; when it is ready it supersedes this one
                        (this one becomes `superseded`)

Pure functions (`allowed_actions`, `check_transition`, `edit_diff`) and store-backed operations.
Each transition is a conditional UPDATE (… WHERE status = :expected AND row_version = :seen)
whose row count is checked, so of two reviewers racing exactly one wins and the other gets a
ConflictError naming who did what when. Every transition is audited. Publishing happens only
from APPROVED, through `publish()`.
"""

from __future__ import annotations

import difflib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from copilot.errors import ConflictError, InputError, NotFoundError, PublishError
from copilot.publishing import PublishAttemptError, PublishedRef, Publisher
from copilot.store_engine import Store, post_record, publication_record
from copilot.store_models import (
    DraftRow,
    DraftVersionRow,
    JobRow,
    MemberRow,
    PostRow,
    PublicationRow,
    ReviewRow,
)
from copilot.store_records import DraftRecord, JobRecord, PublicationRecord, utcnow

log = logging.getLogger(__name__)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("approve", "edit", "reject", "regenerate"),
    "approved": ("publish",),
    "rejected": (),
    "superseded": (),
    "published": (),
}
PAST = {"approve": "approved", "reject": "rejected", "publish": "published"}
PUBLISH_LEASE_SECONDS = 120


# Pure functions ----------------------------------------------------------------------------


def allowed_actions(status: str) -> tuple[str, ...]:
    """What may happen to a draft in this status."""
    return TRANSITIONS.get(status, ())


def check_transition(
    draft_id: int,
    status: str,
    action: str,
    *,
    reviewer: str | None = None,
    at: str | None = None,
) -> None:
    """Raise ConflictError naming the current state and what is allowed from it."""
    if action in allowed_actions(status):
        return
    allowed = ", ".join(allowed_actions(status)) or "nothing (it is final)"
    who = f" by {reviewer}" if reviewer else ""
    when = f" at {at}" if at else ""
    raise ConflictError(
        f"Draft {draft_id} was already {status}{who}{when}; cannot {action} it. "
        f"Allowed from {status}: {allowed}",
        hint="reload the draft to see its current state",
    )


def edit_diff(before: str, after: str) -> tuple[str, float]:
    """A unified diff of an edit and its edit ratio (0 = unchanged, 1 = rewritten)."""
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile="draft",
            tofile="edited",
        )
    )
    ratio = 1.0 - difflib.SequenceMatcher(None, before, after).ratio()
    return diff, round(ratio, 4)


# Store-backed transitions ------------------------------------------------------------------


def _load(session: Session, draft_id: int) -> DraftRow:
    row = session.get(DraftRow, draft_id, populate_existing=True)
    if row is None:
        raise NotFoundError(f"Draft {draft_id} does not exist.")
    return row


def _stamp(row: DraftRow) -> str | None:
    at = row.approved_at or row.updated_at
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else None


def _check(row: DraftRow, action: str, expected_version: int | None) -> None:
    check_transition(row.id, row.status, action, reviewer=row.reviewer, at=_stamp(row))
    if expected_version is not None and expected_version != row.version:
        raise ConflictError(
            f"Draft {row.id} changed while you were reviewing it (now version {row.version}, "
            f"you saw version {expected_version})",
            hint="reload the draft and review the latest text",
        )


def _transition(session: Session, row: DraftRow, action: str, values: dict[str, Any]) -> None:
    """The conditional UPDATE: only if nobody changed the row since we read it."""
    seen = row.row_version
    result = session.execute(
        update(DraftRow)
        .where(
            DraftRow.id == row.id,
            DraftRow.status == row.status,
            DraftRow.row_version == seen,
        )
        .values(row_version=seen + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = _load(session, row.id)
        check_transition(
            current.id, current.status, action, reviewer=current.reviewer, at=_stamp(current)
        )
        raise ConflictError(
            f"Draft {row.id} was changed by someone else while you were reviewing it "
            f"(now version {current.version})",
            hint="reload the draft and review the latest text",
        )


def _new_version(session: Session, row: DraftRow, text: str, reviewer: str) -> int:
    version = row.version + 1
    session.add(
        DraftVersionRow(
            draft_id=row.id,
            version=version,
            text=text,
            source="edit",
            author=reviewer,
            created_at=utcnow(),
        )
    )
    return version


def _model_text(session: Session, draft_id: int) -> str:
    first = session.scalars(
        select(DraftVersionRow.text)
        .where(DraftVersionRow.draft_id == draft_id)
        .order_by(DraftVersionRow.version)
        .limit(1)
    ).first()
    return first or ""


def _record_review(
    store: Store,
    session: Session,
    draft_id: int,
    reviewer: str,
    *,
    action: str,
    audited_as: str,
    detail: dict[str, Any],
    **review: Any,
) -> None:
    """Record a reviewer's decision twice: in `reviews` (the draft's history, with `review`'s
    diff, reason or instruction) and in the audit log as `audited_as` with `detail`."""
    session.add(
        ReviewRow(
            draft_id=draft_id, action=action, reviewer=reviewer, created_at=utcnow(), **review
        )
    )
    store._audit(session, reviewer, audited_as, "draft", draft_id, detail)


def _reviewer(name: str) -> str:
    if not name or not name.strip() or len(name) > 200:
        raise InputError("A reviewer name (1-200 characters) is required for every decision.")
    return name


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    if not text.strip():
        raise InputError("The edited text is empty; send the reply text or leave it out.")
    return text


def approve(
    store: Store,
    draft_id: int,
    reviewer: str,
    *,
    text: str | None = None,
    expected_version: int | None = None,
) -> DraftRecord:
    """PENDING → APPROVED, as drafted or with `text` (saved as a new version first).

    Queues a `learn` job: the worker indexes the approved reply as a past interaction."""
    text = _clean(text)
    _reviewer(reviewer)
    with store.transaction() as session:
        row = _load(session, draft_id)
        _check(row, "approve", expected_version)
        values: dict[str, Any] = {
            "status": "approved",
            "reviewer": reviewer,
            "approved_at": utcnow(),
        }
        final = row.text
        if text is not None and text != row.text:
            values["version"] = _new_version(session, row, text, reviewer)
            values["text"] = final = text
        _transition(session, row, "approve", values)
        diff, ratio = edit_diff(_model_text(session, draft_id), final)
        _record_review(
            store,
            session,
            draft_id,
            reviewer,
            action="approve",
            audited_as="draft.approved",
            detail={"edit_ratio": ratio, "version": values.get("version", row.version)},
            diff=diff or None,
            edit_ratio=ratio,
        )
        store._enqueue(session, row.post_id, "learn", None, draft_id)
    return store.get_draft(draft_id)


def edit(
    store: Store,
    draft_id: int,
    reviewer: str,
    text: str,
    *,
    expected_version: int | None = None,
) -> DraftRecord:
    """Save a new text version with its diff; the draft stays pending."""
    cleaned = _clean(text)
    assert cleaned is not None
    _reviewer(reviewer)
    with store.transaction() as session:
        row = _load(session, draft_id)
        _check(row, "edit", expected_version)
        if cleaned == row.text:
            return store.draft_record(session, row)
        previous = row.text
        version = _new_version(session, row, cleaned, reviewer)
        _transition(session, row, "edit", {"text": cleaned, "version": version})
        diff, ratio = edit_diff(previous, cleaned)
        _record_review(
            store,
            session,
            draft_id,
            reviewer,
            action="edit",
            audited_as="draft.edited",
            detail={"version": version, "edit_ratio": ratio},
            diff=diff,
            edit_ratio=ratio,
        )
    return store.get_draft(draft_id)


def reject(
    store: Store,
    draft_id: int,
    reviewer: str,
    reason: str,
    *,
    expected_version: int | None = None,
) -> DraftRecord:
    """PENDING → REJECTED; a reason is required (it teaches the team what went wrong)."""
    if not reason or not reason.strip():
        raise InputError("A reason is required to reject a draft (e.g. 'promises a refund').")
    _reviewer(reviewer)
    with store.transaction() as session:
        row = _load(session, draft_id)
        _check(row, "reject", expected_version)
        _transition(session, row, "reject", {"status": "rejected", "reviewer": reviewer})
        _record_review(
            store,
            session,
            draft_id,
            reviewer,
            action="reject",
            audited_as="draft.rejected",
            detail={"reason": reason.strip()},
            reason=reason.strip(),
        )
    return store.get_draft(draft_id)


def request_regeneration(
    store: Store, draft_id: int, reviewer: str, instruction: str | None = None
) -> JobRecord:
    """Queue a regenerate job (with the reviewer's instruction, e.g. "shorter"); the new draft
    supersedes this one when it is ready. A second request while one is queued returns it."""
    _reviewer(reviewer)
    with store.transaction() as session:
        row = _load(session, draft_id)
        _check(row, "regenerate", None)
        live = session.scalars(
            select(JobRow).where(
                JobRow.draft_id == draft_id,
                JobRow.kind == "regenerate",
                JobRow.status.in_(("queued", "running")),
            )
        ).first()
        if live is not None:
            job_id = live.id
        else:
            job_id = store._enqueue(session, row.post_id, "regenerate", instruction, draft_id)
            _record_review(
                store,
                session,
                draft_id,
                reviewer,
                action="regenerate",
                audited_as="draft.regenerate_requested",
                detail={"job": job_id, "instruction": instruction},
                instruction=instruction,
            )
    return store.get_job(job_id)


# Publishing --------------------------------------------------------------------------------


def _claim_publication(
    store: Store, draft_id: int, publisher: Publisher
) -> tuple[PublicationRecord, bool, Any, str] | PublicationRecord:
    """Claim the right to publish (one caller at a time). Returns the finished publication
    when there is nothing to do, else (publication, search_first, post, text)."""
    with store.transaction() as session:
        row = _load(session, draft_id)
        pub = session.scalars(
            select(PublicationRow).where(PublicationRow.draft_id == draft_id)
        ).first()
        if row.status == "published" and pub is not None:
            return publication_record(pub)
        check_transition(row.id, row.status, "publish", reviewer=row.reviewer, at=_stamp(row))
        now = utcnow()
        lease = now + timedelta(seconds=PUBLISH_LEASE_SECONDS)
        if pub is None:
            pub = PublicationRow(
                draft_id=draft_id,
                forum=publisher.name,
                status="sending",
                attempts=1,
                lease_expires_at=lease,
                created_at=now,
                updated_at=now,
            )
            session.add(pub)
            session.flush()
            search_first = False
        else:
            if pub.status == "published":
                return publication_record(pub)
            if pub.status == "sending" and pub.lease_expires_at and pub.lease_expires_at > now:
                raise ConflictError(
                    f"Draft {draft_id} is being published right now (attempt {pub.attempts})",
                    hint="wait a moment and reload",
                )
            claimed = session.execute(
                update(PublicationRow)
                .where(PublicationRow.id == pub.id, PublicationRow.attempts == pub.attempts)
                .values(
                    status="sending",
                    attempts=pub.attempts + 1,
                    lease_expires_at=lease,
                    updated_at=now,
                    forum=publisher.name,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise ConflictError(f"Draft {draft_id} is being published by another process")
            search_first = True  # an earlier attempt may have reached the forum
            session.refresh(pub)
        post = session.get(PostRow, row.post_id)
        assert post is not None
        member = session.get(MemberRow, post.member_id) if post.member_id else None
        store._audit(
            session,
            "publisher",
            "publish.started",
            "draft",
            draft_id,
            {"attempt": pub.attempts, "forum": publisher.name},
        )
        return publication_record(pub), search_first, post_record(post, member), row.text


def publish(store: Store, draft_id: int, publisher: Publisher) -> PublicationRecord:
    """APPROVED → PUBLISHED through `publisher`.

    Returns the publication record. A forum failure does not raise: the draft stays approved,
    the publication is `failed` with `last_error`, and `retry_publications` (the worker calls
    it periodically) tries again. Publishing a published draft returns its publication."""
    claimed = _claim_publication(store, draft_id, publisher)
    if isinstance(claimed, PublicationRecord):
        return claimed
    pub, search_first, post, text = claimed
    key = f"draft-{draft_id}"
    ref: PublishedRef | None = None
    error: PublishError | None = None
    try:
        if search_first:
            ref = publisher.find_published(post, idempotency_key=key)
        if ref is None:
            ref = publisher.publish(post, text, idempotency_key=key)
    except PublishError as exc:
        error = exc
    except Exception as exc:  # a publisher bug must not leave the row "sending" for the lease
        log.exception("publisher %s crashed", publisher.name)
        error = PublishError(f"{type(exc).__name__}: {exc}")
    with store.transaction() as session:
        row = session.get(PublicationRow, pub.id)
        assert row is not None
        now = utcnow()
        row.lease_expires_at = None
        row.updated_at = now
        if error is not None or ref is None:
            row.status = "failed"
            row.last_error = str(error)[:2000]
            ambiguous = bool(getattr(error, "ambiguous", False))
            store._audit(
                session,
                "publisher",
                "publish.failed",
                "draft",
                draft_id,
                {"error": row.last_error, "attempt": row.attempts, "ambiguous": ambiguous},
            )
            return publication_record(row)
        row.status = "published"
        row.external_post_id = ref.external_post_id
        row.url = ref.url
        row.last_error = None
        session.execute(
            update(DraftRow)
            .where(DraftRow.id == draft_id, DraftRow.status == "approved")
            .values(status="published", row_version=DraftRow.row_version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        store._audit(
            session,
            "publisher",
            "draft.published",
            "draft",
            draft_id,
            {
                "external_post_id": ref.external_post_id,
                "found_existing": ref.found_existing,
                "attempt": row.attempts,
            },
        )
        return publication_record(row)


def retry_publications(
    store: Store, publisher: Publisher, *, limit: int = 20, max_attempts: int = 10
) -> list[PublicationRecord]:
    """Retry approved drafts whose publication failed or was interrupted (lease expired)."""
    now = utcnow()
    with store.reading() as session:
        ids = session.scalars(
            select(PublicationRow.draft_id)
            .join(DraftRow, DraftRow.id == PublicationRow.draft_id)
            .where(
                DraftRow.status == "approved",
                PublicationRow.attempts < max_attempts,
                (PublicationRow.status.in_(("failed", "pending")))
                | ((PublicationRow.status == "sending") & (PublicationRow.lease_expires_at < now)),
            )
            .order_by(PublicationRow.updated_at)
            .limit(limit)
        ).all()
    results: list[PublicationRecord] = []
    for draft_id in ids:
        try:
            results.append(publish(store, int(draft_id), publisher))
        except ConflictError as exc:
            log.info("skipping draft %s: %s", draft_id, exc)
    return results


__all__ = [
    "TRANSITIONS",
    "PublishAttemptError",
    "allowed_actions",
    "approve",
    "check_transition",
    "edit",
    "edit_diff",
    "publish",
    "reject",
    "request_regeneration",
    "retry_publications",
]
