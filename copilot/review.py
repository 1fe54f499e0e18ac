"""The approval state machine.

    pending ──approve──► approved ──publish──► published
       │  ╰─edit (new version, stays pending)
       ├──reject (reason required)──► rejected
       ╰──regenerate──► (a new draft is queued; when ready it supersedes this one) superseded

Pure functions (`allowed_actions`, `check_transition`, `edit_diff`) plus store-backed
operations. Every transition is a conditional UPDATE (status and version) whose row count is
checked, so two reviewers racing get one success and one ConflictError; every transition is
audited.
"""

from __future__ import annotations

from copilot.store_records import DraftRecord, JobRecord, PublicationRecord, ReviewAction


def allowed_actions(status: str) -> tuple[ReviewAction | str, ...]:
    """What may happen to a draft in this status."""
    raise NotImplementedError


def check_transition(draft_id: int, status: str, action: str) -> None:
    """Raise ConflictError naming the current state and what is allowed."""
    raise NotImplementedError


def approve(
    store: object, draft_id: int, reviewer: str, *, text: str | None = None,
    expected_version: int | None = None,
) -> DraftRecord:
    """PENDING → APPROVED, as drafted or with `text` (recorded as an edit first)."""
    raise NotImplementedError


def edit(
    store: object, draft_id: int, reviewer: str, text: str, *, expected_version: int | None = None
) -> DraftRecord:
    """Save a new text version; the draft stays pending."""
    raise NotImplementedError


def reject(
    store: object, draft_id: int, reviewer: str, reason: str, *, expected_version: int | None = None
) -> DraftRecord:
    """PENDING → REJECTED; a reason is required."""
    raise NotImplementedError


def request_regeneration(
    store: object, draft_id: int, reviewer: str, instruction: str | None = None
) -> JobRecord:
    """Queue a regenerate job; its draft supersedes this one when ready."""
    raise NotImplementedError


def publish(store: object, draft_id: int, publisher: object) -> PublicationRecord:
    """APPROVED → PUBLISHED through `publisher`; a failure is recorded and retryable."""
    raise NotImplementedError


def retry_publications(store: object, publisher: object, *, limit: int = 20) -> list[PublicationRecord]:
    """Retry approved drafts whose publication failed or was interrupted."""
    raise NotImplementedError
