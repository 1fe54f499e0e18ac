"""What the store returns: plain pydantic records, detached from any database session.

The API's wire schemas are built from these; nothing here touches the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from copilot.types import Draft, IncidentFacts, Member, Post, ThreadMessage, Violation

JobKind = Literal["draft", "regenerate", "learn"]
JobStatus = Literal["queued", "running", "done", "failed"]
DraftStatus = Literal["pending", "approved", "rejected", "superseded", "published"]
VersionSource = Literal["model", "edit", "regenerate"]
ReviewAction = Literal["approve", "edit", "reject", "regenerate"]
PublicationStatus = Literal["pending", "sending", "published", "failed"]
StatementStatus = Literal["pending", "approved", "rejected"]
Role = Literal["plugin", "reviewer", "admin"]

ROLES: tuple[Role, ...] = ("plugin", "reviewer", "admin")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitResult(_Record):
    """`submit_post`: the post's id, the job drafting it, and whether it was a redelivery."""

    post_id: int
    job_id: int | None  # None only for a duplicate whose job cannot be found (should not happen)
    duplicate: bool


class MemberRecord(_Record):
    id: int
    community_id: str
    handle: str
    name: str | None = None
    joined_at: date | None = None
    post_count: int | None = None
    roles: list[str] = Field(default_factory=list)
    badges: list[str] = Field(default_factory=list)

    def to_member(self) -> Member:
        return Member(
            handle=self.handle,
            name=self.name,
            joined_at=self.joined_at,
            post_count=self.post_count,
            roles=list(self.roles),
            badges=list(self.badges),
        )


class PostRecord(_Record):
    id: int
    community_id: str
    member: MemberRecord | None = None
    source: str
    forum: str | None = None
    forum_post_id: str | None = None
    topic_id: str | None = None
    post_number: int | None = None
    revision: int = 1
    title: str | None = None
    text: str
    category: str | None = None
    thread: list[ThreadMessage] = Field(default_factory=list)
    created_at: datetime | None = None
    received_at: datetime

    def to_post(self) -> Post:
        """The `copilot.types.Post` the drafting pipeline takes."""
        return Post(
            text=self.text,
            title=self.title,
            member=self.member.to_member() if self.member else Member(),
            thread=list(self.thread),
            community_id=self.community_id,
            forum=self.forum,
            forum_post_id=self.forum_post_id,
            topic_id=self.topic_id,
            post_number=self.post_number,
            category=self.category,
            created_at=self.created_at,
        )


class JobRecord(_Record):
    id: int
    post_id: int
    kind: JobKind
    instruction: str | None = None
    draft_id: int | None = None  # regenerate: the draft to supersede; learn: the approved draft
    status: JobStatus
    attempts: int
    max_attempts: int
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_error: str | None = None
    result_draft_id: int | None = None  # the draft this job produced, once done
    created_at: datetime
    updated_at: datetime


class DraftVersionRecord(_Record):
    version: int
    text: str
    source: VersionSource
    author: str | None = None
    created_at: datetime


class ReviewRecord(_Record):
    id: int
    draft_id: int
    action: ReviewAction
    reviewer: str
    reason: str | None = None
    instruction: str | None = None
    diff: str | None = None
    edit_ratio: float | None = None
    created_at: datetime


class PublicationRecord(_Record):
    id: int
    draft_id: int
    forum: str
    status: PublicationStatus
    attempts: int
    external_post_id: str | None = None
    url: str | None = None
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime


class DraftSummary(_Record):
    """One row of the review queue."""

    id: int
    post_id: int
    status: DraftStatus
    moment: str
    urgency: str
    text: str
    version: int
    title: str | None = None
    excerpt: str  # the member's post, first 200 characters
    member_handle: str | None = None
    member_name: str | None = None
    community_id: str
    forum: str | None = None
    flagged: bool = False
    flags: list[str] = Field(default_factory=list)
    tone_overall: float = 0.0
    created_at: datetime
    age_hours: float


class DraftRecord(_Record):
    """A draft with everything a reviewer needs: the post, the member, the full Draft
    (citations, tone card, prompt, model), its text versions, reviews and publication."""

    id: int
    post_id: int
    job_id: int
    status: DraftStatus
    moment: str
    urgency: str
    text: str  # the current text (the latest version)
    version: int  # text version, 1 = the model's draft; edits add versions
    row_version: int  # bumps on every change; optimistic concurrency token
    draft: Draft
    reviewer: str | None = None
    approved_at: datetime | None = None
    supersedes_id: int | None = None
    superseded_by_id: int | None = None
    created_at: datetime
    updated_at: datetime
    post: PostRecord
    versions: list[DraftVersionRecord] = Field(default_factory=list)
    reviews: list[ReviewRecord] = Field(default_factory=list)
    publication: PublicationRecord | None = None


class QueueCounts(_Record):
    """How many drafts of a status there are, in total and per moment and urgency."""

    status: str
    total: int
    by_moment: dict[str, int] = Field(default_factory=dict)
    by_urgency: dict[str, int] = Field(default_factory=dict)


class ApiKeyRecord(_Record):
    id: int
    name: str
    role: Role
    prefix: str  # the first characters of the key, to recognise it in lists
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AuditRecord(_Record):
    id: int
    actor: str
    action: str
    entity: str
    entity_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    at: datetime


class StatementRecord(_Record):
    id: int
    incident_id: str
    stage: str
    channel: str
    text: str
    violations: list[Violation] = Field(default_factory=list)
    facts: IncidentFacts | None = None
    status: StatementStatus
    reviewer: str | None = None
    reason: str | None = None
    created_at: datetime
    updated_at: datetime


ModelT = TypeVar("ModelT", bound=BaseModel)


def from_attributes(model: type[ModelT], source: object, **given: Any) -> ModelT:
    """`model` with each field read from the attribute of the same name on `source` (an ORM
    row, a result row, another record), except the fields in `given` (computed or renamed).

    The one field-by-field copy behind every row → record and record → wire conversion, instead
    of a hand-written list per model. Unlike pydantic's `from_attributes=True` it does not let a
    field the source lacks fall back to its default: that raises AttributeError, so a field added
    to a record but not to its table is caught at once, not stored as None."""
    values = {name: getattr(source, name) for name in model.model_fields if name not in given}
    return model(**values, **given)


def utcnow() -> datetime:
    """Now, timezone-aware UTC (what every record carries)."""
    return datetime.now(UTC)
