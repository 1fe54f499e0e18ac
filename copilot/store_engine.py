"""`Store`: every database operation Moments performs, in short transactions.

See the PUBLIC API block in copilot/store.py. Records returned are detached pydantic models
(copilot.store_records); ORM rows never leave this module.
"""

from __future__ import annotations

from copilot.settings import Settings
from copilot.store_records import (
    ApiKeyRecord,
    AuditRecord,
    DraftRecord,
    DraftSummary,
    JobKind,
    JobRecord,
    PostRecord,
    QueueCounts,
    Role,
    StatementRecord,
    SubmitResult,
)
from copilot.types import Draft, IncidentFacts, Post, StatementSet
from typing import Any


class Store:
    """A handle on the database. Thread-safe: every method opens its own session."""

    def record_post(self, post: Post, *, source: str, revision: int = 1) -> tuple[int, bool]:
        """Record a member's post; a redelivery returns (existing id, False)."""
        raise NotImplementedError

    def enqueue_job(
        self,
        post_id: int,
        *,
        kind: JobKind = "draft",
        instruction: str | None = None,
        draft_id: int | None = None,
    ) -> int:
        """Queue a job; returns its id. A second live draft job for a post returns the first."""
        raise NotImplementedError

    def submit_post(self, post: Post, *, source: str, revision: int = 1) -> SubmitResult:
        """Record the post and queue its draft job in one transaction (webhooks call this)."""
        raise NotImplementedError

    def claim_job(self, worker_id: str, *, lease_seconds: float = 300) -> JobRecord | None:
        """Lease the oldest claimable job (queued, or running with an expired lease)."""
        raise NotImplementedError

    def complete_job(self, job_id: int, worker_id: str, draft: Draft) -> int:
        """Store the job's draft and mark it done; idempotent; refused if the lease was lost."""
        raise NotImplementedError

    def finish_job(self, job_id: int, worker_id: str) -> None:
        """Mark a job that produces no draft (kind "learn") done."""
        raise NotImplementedError

    def fail_job(self, job_id: int, worker_id: str, error: str, *, retry: bool) -> None:
        """Record an error; requeue while attempts remain and `retry`, else mark failed."""
        raise NotImplementedError

    def get_job(self, job_id: int) -> JobRecord:
        raise NotImplementedError

    def list_jobs(self, *, status: str | None = None, limit: int = 100) -> list[JobRecord]:
        raise NotImplementedError

    def get_post(self, post_id: int) -> PostRecord:
        raise NotImplementedError

    def list_queue(
        self,
        *,
        status: str = "pending",
        moment: str | None = None,
        urgency: str | None = None,
        community_id: str | None = None,
        max_age_hours: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[DraftSummary]:
        """Drafts by urgency (critical first), then oldest first."""
        raise NotImplementedError

    def queue_counts(self, *, status: str = "pending", community_id: str | None = None) -> QueueCounts:
        raise NotImplementedError

    def get_draft(self, draft_id: int) -> DraftRecord:
        raise NotImplementedError

    def draft_for_job(self, job_id: int) -> int | None:
        raise NotImplementedError

    def create_api_key(self, role: Role, name: str) -> tuple[ApiKeyRecord, str]:
        """Create a key; the plaintext is returned once and only its sha256 is stored."""
        raise NotImplementedError

    def verify_api_key(self, plaintext: str) -> ApiKeyRecord | None:
        """The active key with this plaintext (and touch last_used_at), or None."""
        raise NotImplementedError

    def list_api_keys(self) -> list[ApiKeyRecord]:
        raise NotImplementedError

    def revoke_api_key(self, key_id: int) -> ApiKeyRecord:
        raise NotImplementedError

    def audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | int | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        raise NotImplementedError

    def list_audit(
        self, *, entity: str | None = None, entity_id: str | int | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        raise NotImplementedError

    def save_statements(
        self, incident_id: str, statements: StatementSet, facts: IncidentFacts
    ) -> list[StatementRecord]:
        raise NotImplementedError

    def list_statements(
        self, *, incident_id: str | None = None, status: str | None = None
    ) -> list[StatementRecord]:
        raise NotImplementedError

    def get_statement(self, statement_id: int) -> StatementRecord:
        raise NotImplementedError

    def approve_statement(
        self, statement_id: int, reviewer: str, *, text: str | None = None
    ) -> StatementRecord:
        raise NotImplementedError

    def reject_statement(self, statement_id: int, reviewer: str, reason: str) -> StatementRecord:
        raise NotImplementedError

    def health(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def open_store(settings_or_url: Settings | str | None = None) -> Store:
    """Open (and migrate to head) the database from settings, a URL, or `get_settings()`."""
    raise NotImplementedError
