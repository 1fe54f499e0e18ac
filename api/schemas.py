"""Wire schemas: what the API accepts (`*Create`, `*Update`, requests) and returns (`*Public`).

Public schemas extend the store's records (`copilot.store_records`) and the shared types
(`copilot.types`) rather than copying them, so the wire and the core cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, computed_field

from copilot.store_engine import IncidentSummary
from copilot.store_records import (
    ApiKeyRecord,
    AuditRecord,
    DraftRecord,
    DraftSummary,
    MemberRecord,
    PublicationRecord,
    QueueCounts,
    Role,
    StatementRecord,
)
from copilot.types import (
    Channel,
    IncidentFacts,
    MomentType,
    Post,
    Snippet,
    SnippetKind,
    ToneCard,
)


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Blank = BeforeValidator(_blank_to_none)
"""For optional query parameters: `?moment=` (what HTTP clients send for None) means unset."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Errors --------------------------------------------------------------------------------------


class FieldError(_Wire):
    field: str = Field(description="Dotted path of the field at fault, e.g. `member.joined_at`.")
    message: str


class ErrorDetail(_Wire):
    code: str = Field(description="Stable machine code: not_found, conflict, forbidden, ...")
    message: str = Field(description="What went wrong, for humans.")
    hint: str | None = Field(default=None, description="What to do next.")
    fields: list[FieldError] | None = None


class ErrorResponse(_Wire):
    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer."""
    descriptions = {
        400: "Bad input or malformed JSON",
        401: "Missing or invalid API key (or webhook signature)",
        403: "The key's role may not do this",
        404: "Not found",
        409: "Conflict: the record changed or the transition is not allowed",
        413: "Body larger than MOMENTS_MAX_BODY_BYTES",
        422: "Validation error naming each field at fault",
        429: "Rate limit exceeded; see Retry-After",
        502: "The forum or the model answered with an error",
        503: "A dependency (database, index, model) is unavailable",
        500: "Server misconfigured (the message names the setting)",
        504: "An outbound call timed out",
    }
    return {s: {"model": ErrorResponse, "description": descriptions[s]} for s in statuses}


AUTH_ERRORS = errors(401, 403, 422, 429)


# Health --------------------------------------------------------------------------------------


class HealthPublic(_Wire):
    status: Literal["ok"] = "ok"
    version: str


class ReadyCheck(_Wire):
    name: str
    ok: bool
    detail: str


class ReadyPublic(_Wire):
    ready: bool
    checks: list[ReadyCheck]


class RouteMetrics(_Wire):
    count: int
    errors: int
    statuses: dict[str, int]
    mean_ms: float
    p50_ms: float
    p99_ms: float
    max_ms: float


class MetricsPublic(_Wire):
    uptime_seconds: float
    jobs: dict[str, int] = Field(description="Jobs by status.")
    drafts: dict[str, int] = Field(description="Drafts by status.")
    publications: dict[str, int] = Field(description="Publications by status.")
    requests: dict[str, RouteMetrics] = Field(description="Per route template, this process.")


# Posts and jobs ------------------------------------------------------------------------------


class PostCreate(Post):
    """A member's post as a forum plugin submits it (the shared `Post`, plus its revision)."""

    revision: int = Field(
        default=1, ge=1, description="The forum's edit version; a redelivery repeats it."
    )


class JobPublic(_Wire):
    id: int
    post_id: int
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    attempts: int
    max_attempts: int
    last_error: str | None = None
    draft_id: int | None = Field(default=None, description="The draft it produced, once done.")
    created_at: datetime
    updated_at: datetime


class PostSubmitted(_Wire):
    post_id: int
    job_id: int | None
    duplicate: bool = Field(description="True when this post (and revision) was already received.")
    job: JobPublic | None = None
    draft: DraftPublic | None = Field(
        default=None, description="With `?wait=`, the draft if it was ready in time."
    )


# Drafts and review ---------------------------------------------------------------------------


class DraftSummaryPublic(DraftSummary):
    """One row of the review queue."""


class DraftPage(_Wire):
    items: list[DraftSummaryPublic]
    limit: int
    offset: int


class QueueCountsPublic(QueueCounts):
    """Drafts of a status, in total and per moment and urgency."""


class PublicationPublic(PublicationRecord):
    """One attempt-tracked publication of an approved draft to the forum."""


class AuditPublic(AuditRecord):
    """One audit-log entry."""


class DraftPublic(DraftRecord):
    """A draft with everything a reviewer needs: the post and member, the text and its
    versions, variants, citations, tone card, warnings, the exact prompt and model, the
    reviews, the publication and the audit trail."""

    audit: list[AuditPublic] = Field(default_factory=list)


class DraftApprove(_Wire):
    text: str | None = Field(
        default=None, min_length=1, description="Edited text to approve instead of the draft's."
    )
    expected_version: int | None = Field(
        default=None,
        description="The draft's text `version` you reviewed; 409 if it changed since.",
    )


class DraftEdit(_Wire):
    text: str = Field(min_length=1)
    expected_version: int | None = None


class DraftReject(_Wire):
    reason: str = Field(min_length=1, description="Why; kept in the audit log.")
    expected_version: int | None = None


class DraftRegenerate(_Wire):
    instruction: str | None = Field(
        default=None, max_length=500, description='e.g. "warmer", "mention the workaround"'
    )


class RegenerateQueued(_Wire):
    draft_id: int
    job_id: int


# Crisis --------------------------------------------------------------------------------------


class IncidentCreate(_Wire):
    incident_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Chosen if omitted."
    )
    facts: IncidentFacts
    channels: list[Channel] | None = Field(
        default=None, description="Channels to draft for (default: forum, banner, email, social)."
    )


class IncidentUpdate(_Wire):
    stage: Literal["update", "resolved"]
    facts: dict[str, Any] = Field(
        default_factory=dict,
        description="Facts that changed: scalars replace, lists (known, progress, ...) extend.",
    )


class StatementPublic(StatementRecord):
    """One channel's statement and its fact-lock violations."""


class IncidentPublic(_Wire):
    id: str
    stage: str
    facts: IncidentFacts | None
    statements: list[StatementPublic]


class StatementApprove(_Wire):
    text: str | None = Field(default=None, min_length=1)


class StatementReject(_Wire):
    reason: str = Field(min_length=1)


# Knowledge -----------------------------------------------------------------------------------


class SnippetPublic(Snippet):
    """A ranked chunk from the knowledge index."""


class SearchResults(_Wire):
    query: str
    results: list[SnippetPublic]


class SourcesPublic(_Wire):
    sources: list[dict[str, Any]]
    stats: dict[str, Any] = Field(default_factory=dict)


class IndexReportPublic(_Wire):
    report: dict[str, Any] = Field(description="The index report: files, chunks, problems.")
    problems: list[str] = Field(default_factory=list)


class SourceDeleted(_Wire):
    source: str
    deleted: int


# Tone and moments ----------------------------------------------------------------------------


class ToneRequest(_Wire):
    text: str = Field(min_length=1, description="The reply to score.")
    post: str | None = Field(default=None, description="The member's post it answers.")
    member_name: str | None = None
    moment: MomentType | None = None


class ToneCardPublic(ToneCard):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def flagged(self) -> bool:
        return bool(self.flags)


class MomentRequest(Post):
    """The post to classify (the shared `Post`)."""


# Keys ----------------------------------------------------------------------------------------


class ApiKeyCreate(_Wire):
    role: Role
    name: str = Field(min_length=1, max_length=100, description="Who or what holds the key.")


class ApiKeyPublic(ApiKeyRecord):
    """An API key as listed: never the key itself, only its prefix."""


class ApiKeyCreated(_Wire):
    key: ApiKeyPublic
    plaintext: str = Field(description="The key. Shown once: store it now.")


# Discourse -----------------------------------------------------------------------------------


class WebhookReceipt(_Wire):
    ok: bool = True
    event: str
    outcome: Literal["queued", "duplicate", "stored", "ignored", "pong"]
    reason: str | None = None
    post_id: int | None = None
    job_id: int | None = None
    duplicate: bool | None = None


# Who am I ------------------------------------------------------------------------------------


class MePublic(_Wire):
    """The key the request was made with."""

    key_id: int
    name: str = Field(description="Who or what holds the key; how reviews and the audit name you.")
    role: Role


# Incidents (list) ----------------------------------------------------------------------------


class IncidentSummaryPublic(IncidentSummary):
    """One incident: its latest stage and how that stage's statements stand."""


# Members -------------------------------------------------------------------------------------


class MemberPublic(MemberRecord):
    """A member as the store knows them (updated from each post that arrives)."""


class MemberPostPublic(_Wire):
    """One of the member's posts, with the latest draft made for it (if any)."""

    id: int
    title: str | None = None
    excerpt: str = Field(description="The post's first 200 characters.")
    category: str | None = None
    forum: str | None = None
    topic_id: str | None = None
    forum_post_id: str | None = None
    created_at: datetime | None = None
    received_at: datetime
    draft_id: int | None = None
    draft_status: str | None = None
    moment: str | None = None


class MemberHistoryPublic(_Wire):
    member: MemberPublic
    posts: list[MemberPostPublic] = Field(description="Newest first.")
    replies: list[DraftSummaryPublic] = Field(
        description="Staff replies approved for this member (approved or published), newest first."
    )


# Knowledge source text -----------------------------------------------------------------------


class SourceChunkPublic(_Wire):
    id: str = Field(description="The chunk id; a citation's `id`.")
    text: str
    title: str | None = None
    heading: str | None = Field(default=None, description="The heading path, e.g. `A > B`.")
    moment: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class SourceTextPublic(_Wire):
    source: str
    kind: SnippetKind
    community_id: str
    title: str | None = None
    chunks: list[SourceChunkPublic] = Field(description="In the order they were indexed.")


# Evals ---------------------------------------------------------------------------------------


class EvalRunSummary(_Wire):
    """A run written by `moments eval run`, without its cases."""

    run_id: str
    file: str = Field(description="The run file's name.")
    suite: str = ""
    model: str = ""
    started_at: datetime | None = None
    seconds: float | None = None
    judge: bool = False
    prompt_sha: str | None = None
    scorer_version: str | None = None
    cases: int = Field(description="How many cases the run has.")
    passed: int
    failed: int
    summary: dict[str, float] = Field(
        default_factory=dict, description="Mean score per tone dimension."
    )
    higher_is_worse: list[str] = Field(default_factory=list)


class EvalRunsPublic(_Wire):
    runs: list[EvalRunSummary] = Field(description="Oldest first.")
    problems: list[str] = Field(
        default_factory=list, description="Files in the runs folders that are not runs, and why."
    )
    folders: list[str] = Field(description="Where runs were looked for.")


class EvalRunPublic(EvalRunSummary):
    results: list[dict[str, Any]] = Field(
        description="Every case's result as the runner wrote it (id, passed, failures, scores, "
        "text, ...)."
    )
    classifier_agreement: float | None = None


class DimensionChange(_Wire):
    mean_a: float
    mean_b: float
    delta: float = Field(description="Mean of B − A over the paired cases.")
    ci_low: float
    ci_high: float
    significant: bool = Field(description="The 95% bootstrap interval excludes 0.")
    direction: str = Field(description="better, worse or no change")
    higher_is_worse: bool


class CaseChange(_Wire):
    id: str
    why: list[str]


class EvalComparisonPublic(_Wire):
    """`moments eval compare A B` over HTTP (evals.compare.compare_runs)."""

    run_a: str | None
    run_b: str | None
    model_a: str | None = None
    model_b: str | None = None
    prompt_a: str = ""
    prompt_b: str = ""
    paired_cases: int
    only_in_a: list[str]
    only_in_b: list[str]
    passed_a: int
    passed_b: int
    resamples: int
    seed: int
    dimensions: dict[str, DimensionChange]
    regressed: list[CaseChange]
    improved: list[CaseChange]


PostSubmitted.model_rebuild()
