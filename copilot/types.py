"""Pydantic models shared by every part of Moments. No I/O here."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class MomentType(StrEnum):
    """The moments of impact Moments recognises."""

    WELCOME = "welcome"  # a welcome or an introduction
    FIRST_QUESTION = "first_question"  # a newcomer's first question
    COMPLAINT = "complaint"  # negative feedback or a complaint
    CONFLICT = "conflict"  # a clash between members
    CRISIS = "crisis"  # an outage or incident report
    CONTRIBUTION = "contribution"  # a contribution worth recognising
    MILESTONE = "milestone"  # a milestone worth celebrating
    QUESTION = "question"  # any other question


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


URGENCY_RANK = {Urgency.LOW: 0, Urgency.NORMAL: 1, Urgency.HIGH: 2, Urgency.CRITICAL: 3}


class SnippetKind(StrEnum):
    GUIDELINE = "guideline"  # written by managers: trusted
    INTERACTION = "interaction"  # past member post + approved reply: untrusted member text


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Members and posts ---------------------------------------------------------------------------


class Member(_Model):
    """What is known about a member. Personalisation uses only these fields."""

    handle: str | None = None
    name: str | None = None
    joined_at: date | None = None
    post_count: int | None = Field(default=None, ge=0)
    roles: list[str] = Field(default_factory=list)
    badges: list[str] = Field(default_factory=list)
    recent_posts: list[str] = Field(default_factory=list)
    staff_interactions: list[str] = Field(default_factory=list)
    language: str | None = None

    @property
    def display_name(self) -> str | None:
        return self.name or self.handle


class ThreadMessage(_Model):
    author: str | None = None
    text: str
    is_staff: bool = False


class Post(_Model):
    """A member's post, with the thread it sits in."""

    text: str
    title: str | None = None
    member: Member = Field(default_factory=Member)
    thread: list[ThreadMessage] = Field(default_factory=list)
    community_id: str = "default"
    forum: str | None = None  # "discourse", ...
    forum_post_id: str | None = None
    topic_id: str | None = None
    post_number: int | None = None
    category: str | None = None
    created_at: datetime | None = None


# Moments -------------------------------------------------------------------------------------


class Moment(_Model):
    type: MomentType
    urgency: Urgency = Urgency.NORMAL
    sentiment: float = Field(default=0.0, ge=-1.0, le=1.0)  # the member's, -1 upset .. +1 happy
    sentiment_label: Literal["negative", "neutral", "positive"] = "neutral"
    signals: list[str] = Field(default_factory=list)  # first_post, long_time_member, ...
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    scores: dict[str, float] = Field(default_factory=dict)  # per moment type
    method: str = "rules"
    evidence: list[str] = Field(default_factory=list)


# Retrieval -----------------------------------------------------------------------------------


class Snippet(_Model):
    """A ranked chunk from the knowledge index, with what is needed to cite it."""

    id: str
    text: str
    source: str
    title: str | None = None
    heading: str | None = None
    kind: SnippetKind
    moment: MomentType | None = None
    community_id: str = "default"
    score: float = 0.0
    content_hash: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Citation(_Model):
    id: str
    source: str
    title: str | None = None
    heading: str | None = None
    kind: SnippetKind
    moment: MomentType | None = None
    score: float = 0.0
    text: str = ""


# LLM -----------------------------------------------------------------------------------------


class ChatMessage(_Model):
    role: Literal["system", "user", "assistant"]
    content: str


class GenerationOptions(_Model):
    temperature: float = 0.4
    max_tokens: int = 320
    top_p: float = 0.95
    seed: int | None = None
    stop: list[str] = Field(default_factory=list)


class ModelInfo(_Model):
    provider: str  # "local", "openai", "fake"
    name: str
    options: GenerationOptions = Field(default_factory=GenerationOptions)


class PromptRef(_Model):
    """Exactly what was sent: the template, its version (sha256 of its source) and the messages."""

    name: str
    sha: str
    messages: list[ChatMessage] = Field(default_factory=list)


# Tone ----------------------------------------------------------------------------------------


class ToneScore(_Model):
    name: str
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)


class Flag(_Model):
    """A guardrail finding. Codes: over_promising, blame, defensiveness, invented_fact,
    prompt_leak, hostility, too_long, fact_lock."""

    code: str
    message: str
    evidence: list[str] = Field(default_factory=list)


class ToneCard(_Model):
    scores: dict[str, ToneScore] = Field(default_factory=dict)
    overall: float = Field(default=0.0, ge=0.0, le=1.0)
    flags: list[Flag] = Field(default_factory=list)
    scorer_version: str = ""

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


# Privacy -------------------------------------------------------------------------------------


class MaskedItem(_Model):
    kind: Literal["email", "phone", "card", "address", "iban", "ip", "url_token", "other"]
    placeholder: str  # e.g. "[EMAIL_1]"
    original: str


# Drafts --------------------------------------------------------------------------------------


class DraftOptions(_Model):
    variants: int = Field(default=1, ge=1, le=3)
    warmth: Literal["low", "medium", "high"] = "high"
    formality: Literal["casual", "neutral", "formal"] = "neutral"
    length: Literal["short", "medium", "long"] = "medium"
    instruction: str | None = None  # a reviewer's "warmer", "shorter", "mention the workaround"
    k_guidelines: int = Field(default=3, ge=0, le=8)
    k_examples: int = Field(default=2, ge=0, le=3)


class Draft(_Model):
    moment: Moment
    text: str
    variants: list[str] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    tone: ToneCard = Field(default_factory=ToneCard)
    warnings: list[str] = Field(default_factory=list)
    prompt: PromptRef
    model: ModelInfo
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per stage
    masked: list[MaskedItem] = Field(default_factory=list)
    attempts: int = 1


# Crisis --------------------------------------------------------------------------------------


Channel = Literal["forum", "banner", "email", "social"]
CHANNELS: tuple[Channel, ...] = ("forum", "banner", "email", "social")


class IncidentFacts(_Model):
    """What is known about an incident. Statements may only state what is here."""

    title: str
    what_happened: str
    started_at: str  # as the team wants it shown, e.g. "14:05 UTC on 3 March"
    affected: str
    known: list[str] = Field(default_factory=list)
    unknown: list[str] = Field(default_factory=list)
    actions_taken: list[str] = Field(default_factory=list)
    workaround: str | None = None
    next_update_at: str | None = None  # required for the initial and update stages (copilot.crisis)
    contact: str | None = None
    products: list[str] = Field(default_factory=list)
    commitments: list[str] = Field(default_factory=list)  # promises the team has approved
    members_harmed: bool = True
    resolved_at: str | None = None
    root_cause: str | None = None  # only for the resolved postmortem, once confirmed
    progress: list[str] = Field(default_factory=list)  # for progress updates


class Violation(_Model):
    code: str  # unknown_time, unknown_number, unknown_product, unapproved_commitment, speculation, blame, missing_next_update, too_long, missing_apology
    message: str
    span: str = ""


class Statement(_Model):
    channel: Channel
    stage: Literal["initial", "update", "resolved"] = "initial"
    text: str
    violations: list[Violation] = Field(default_factory=list)
    prompt: PromptRef | None = None
    model: ModelInfo | None = None
    attempts: int = 1


class StatementSet(_Model):
    stage: Literal["initial", "update", "resolved"] = "initial"
    statements: dict[str, Statement] = Field(default_factory=dict)
