"""The durable store: posts, jobs, drafts, reviews, publications, statements, API keys, audit.

PUBLIC API (other modules and api/ rely on these names)
-------------------------------------------------------
    open_store(settings_or_url: Settings | str | None = None) -> Store   (migrates to head)
    Store.record_post(post, *, source, revision=1) -> tuple[int, bool]     (post id, created?)
    Store.enqueue_job(post_id, *, kind="draft", instruction=None, draft_id=None) -> int
    Store.submit_post(post, *, source, revision=1) -> SubmitResult       (record + enqueue, one tx)
    Store.claim_job(worker_id, *, lease_seconds=300) -> JobRecord | None
    Store.complete_job(job_id, worker_id, draft) -> int                  (draft id; idempotent)
    Store.finish_job(job_id, worker_id) -> None                          (jobs that make no draft)
    Store.fail_job(job_id, worker_id, error, *, retry) -> None
    Store.renew_lease(job_id, worker_id, *, lease_seconds=300) -> bool  (worker heartbeat)
    Store.job_counts() -> dict[str, int] ; Store.draft_counts() -> dict[str, int]
    Store.get_job(job_id) -> JobRecord
    Store.list_jobs(*, status=None, limit=100) -> list[JobRecord]
    Store.get_post(post_id) -> PostRecord
    Store.list_queue(*, status="pending", moment=None, urgency=None, community_id=None,
                     max_age_hours=None, limit=50, offset=0, source=None) -> list[DraftSummary]
    Store.queue_counts(*, status="pending", community_id=None) -> QueueCounts
    Store.get_draft(draft_id) -> DraftRecord
    Store.draft_for_job(job_id) -> int | None
    Store.create_api_key(role, name) -> tuple[ApiKeyRecord, str]         (plaintext shown once)
    Store.verify_api_key(plaintext) -> ApiKeyRecord | None
    Store.list_api_keys() -> list[ApiKeyRecord]
    Store.revoke_api_key(key_id) -> ApiKeyRecord
    Store.audit(actor, action, entity, entity_id, detail) -> None
    Store.list_audit(*, entity=None, entity_id=None, limit=100) -> list[AuditRecord]
    Store.save_statements(incident_id, statements, facts) -> list[StatementRecord]
    Store.list_statements(*, incident_id=None, status=None) -> list[StatementRecord]
    Store.get_statement(statement_id) -> StatementRecord
    Store.approve_statement(statement_id, reviewer, *, text=None) -> StatementRecord
    Store.reject_statement(statement_id, reviewer, reason) -> StatementRecord
    Store.health() -> bool
    Store.close() -> None

Review transitions (approve / edit / reject / regenerate / publish) live in copilot.review;
records returned are in copilot.store_records.

Notes
- A Discourse redelivery is the same (community_id, forum, forum_post_id, revision): recorded
  once, queued once. Pass `revision` (Discourse's post `version`) for edits of a post.
- Jobs are at-least-once: a claimed job whose lease expires is claimable again; completion is
  idempotent (one draft per job, enforced by UNIQUE(drafts.job_id)).
- SQLite (default, WAL) serialises writers with BEGIN IMMEDIATE; PostgreSQL claims with
  SELECT ... FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

from copilot.store_engine import Store, open_store
from copilot.store_records import (
    ApiKeyRecord,
    AuditRecord,
    DraftRecord,
    DraftSummary,
    DraftVersionRecord,
    JobRecord,
    MemberRecord,
    PostRecord,
    PublicationRecord,
    QueueCounts,
    ReviewRecord,
    StatementRecord,
    SubmitResult,
)

__all__ = [
    "ApiKeyRecord",
    "AuditRecord",
    "DraftRecord",
    "DraftSummary",
    "DraftVersionRecord",
    "JobRecord",
    "MemberRecord",
    "PostRecord",
    "PublicationRecord",
    "QueueCounts",
    "ReviewRecord",
    "StatementRecord",
    "Store",
    "SubmitResult",
    "open_store",
]
