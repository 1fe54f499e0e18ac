"""The review queue: list and read drafts; approve, edit, reject, regenerate, publish; and
interactive drafting streamed token by token (`POST /v1/drafts/stream`).

Every transition goes through `copilot.review`, which makes it a conditional update: two
reviewers racing get one success and one 409 naming the draft's current state.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, IndexDep, ModelDep, PluginKey, ReviewerKey, SettingsDep, StoreDep
from api.errors import status_for
from api.limits import call_with_timeout
from api.routers.posts import draft_public
from api.schemas import (
    AUTH_ERRORS,
    Blank,
    DraftApprove,
    DraftEdit,
    DraftPage,
    DraftPublic,
    DraftRegenerate,
    DraftReject,
    DraftSummaryPublic,
    PublicationPublic,
    QueueCountsPublic,
    RegenerateQueued,
    errors,
)
from api.visibility import visible_draft
from copilot import review
from copilot.errors import MomentsError, PublishError
from copilot.store import Store
from copilot.store_records import DraftSummary
from copilot.types import Draft, DraftOptions, MomentType, Post, Urgency

router = APIRouter(tags=["drafts"])
log = logging.getLogger("moments.api.drafts")

DraftStatusFilter = Literal["pending", "approved", "rejected", "superseded", "published"]
PUBLISH_TIMEOUT_SECONDS = 60.0  # the publisher retries 429/5xx with backoff inside this
PLUGIN_SCAN_LIMIT = 2000


class DraftStreamRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    post: Post
    options: DraftOptions = Field(default_factory=DraftOptions)


def _plugin_queue(store: Store, caller: Caller, **filters: Any) -> list[DraftSummary]:
    """A plugin's own drafts: the queue restricted to the posts its key submitted."""
    if "source" in inspect.signature(store.list_queue).parameters:
        return store.list_queue(**filters, source=caller.source)  # type: ignore[call-arg,unused-ignore]
    # Until the store filters by source: the ids of this key's posts, then the queue.
    from sqlalchemy import select

    from copilot.store_models import PostRow

    limit, offset = filters.pop("limit"), filters.pop("offset")
    with store.engine.connect() as connection:
        mine = set(
            connection.scalars(select(PostRow.id).where(PostRow.source == caller.source)).all()
        )
    if not mine:
        return []
    rows = store.list_queue(**filters, limit=PLUGIN_SCAN_LIMIT, offset=0)
    return [row for row in rows if row.post_id in mine][offset : offset + limit]


@router.get(
    "/drafts",
    summary="The review queue, most urgent first (plugins see only their own posts' drafts)",
    response_model=DraftPage,
    responses=AUTH_ERRORS,
)
def list_drafts(
    store: StoreDep,
    caller: PluginKey,
    status: Annotated[
        DraftStatusFilter | None, Blank, Query(description="Default: pending")
    ] = None,
    moment: Annotated[MomentType | None, Blank] = None,
    urgency: Annotated[Urgency | None, Blank] = None,
    community: Annotated[str | None, Blank] = None,
    max_age_hours: Annotated[float | None, Blank, Query(gt=0)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DraftPage:
    filters: dict[str, Any] = {
        "status": status or "pending",
        "moment": moment.value if moment else None,
        "urgency": urgency.value if urgency else None,
        "community_id": community,
        "max_age_hours": max_age_hours,
        "limit": limit,
        "offset": offset,
    }
    if caller.at_least("reviewer"):
        rows = store.list_queue(**filters)
    else:
        rows = _plugin_queue(store, caller, **filters)
    return DraftPage(
        items=[DraftSummaryPublic(**r.model_dump()) for r in rows], limit=limit, offset=offset
    )


@router.get(
    "/drafts/counts",
    summary="How many drafts are waiting, per moment and urgency",
    response_model=QueueCountsPublic,
    responses=AUTH_ERRORS,
)
def draft_counts(
    store: StoreDep,
    _caller: ReviewerKey,
    status: Annotated[DraftStatusFilter | None, Blank] = None,
    community: Annotated[str | None, Blank] = None,
) -> QueueCountsPublic:
    counts = store.queue_counts(status=status or "pending", community_id=community)
    return QueueCountsPublic(**counts.model_dump())


@router.post(
    "/drafts/stream",
    summary="Draft a reply interactively, streamed as server-sent events",
    response_class=EventSourceResponse,
    responses=AUTH_ERRORS,
)
def stream_draft(
    body: DraftStreamRequest,
    settings: SettingsDep,
    model: ModelDep,
    index: IndexDep,
    _caller: ReviewerKey,
) -> Iterator[ServerSentEvent]:
    """Events: `token` (`{"text": piece}`) as the model writes, then `draft` (the final Draft
    as JSON; it may differ from the tokens when a guardrail forced a rewrite), or `error`
    (`{"code", "message", "hint"}`)."""
    from copilot.drafting import stream_reply

    try:
        for item in stream_reply(
            body.post, model=model, retriever=index, options=body.options, settings=settings
        ):
            if isinstance(item, Draft):
                yield ServerSentEvent(event="draft", data=item)
            else:
                yield ServerSentEvent(event="token", data={"text": item})
    except MomentsError as exc:
        _, code = status_for(exc)
        yield ServerSentEvent(
            event="error", data={"code": code, "message": exc.message, "hint": exc.hint}
        )
    except Exception:  # the response has started: report in the stream, never a broken pipe
        log.exception("drafting stream failed")
        yield ServerSentEvent(
            event="error",
            data={"code": "internal", "message": "Drafting failed on the server.", "hint": None},
        )


@router.get(
    "/drafts/{draft_id}",
    summary="A draft with its post, member, citations, tone card, prompt, reviews and audit",
    response_model=DraftPublic,
    responses={**AUTH_ERRORS, **errors(404)},
)
def get_draft(draft_id: int, store: StoreDep, caller: PluginKey) -> DraftPublic:
    return draft_public(store, visible_draft(store, caller, draft_id))


@router.post(
    "/drafts/{draft_id}/approve",
    summary="Approve a draft, as written or with edited text",
    response_model=DraftPublic,
    responses={**AUTH_ERRORS, **errors(404, 409)},
)
def approve_draft(
    draft_id: int, body: DraftApprove, store: StoreDep, caller: ReviewerKey
) -> DraftPublic:
    record = review.approve(
        store, draft_id, caller.actor, text=body.text, expected_version=body.expected_version
    )
    return draft_public(store, record)


@router.post(
    "/drafts/{draft_id}/edit",
    summary="Save an edited text as a new version; the draft stays pending",
    response_model=DraftPublic,
    responses={**AUTH_ERRORS, **errors(404, 409)},
)
def edit_draft(draft_id: int, body: DraftEdit, store: StoreDep, caller: ReviewerKey) -> DraftPublic:
    record = review.edit(
        store, draft_id, caller.actor, body.text, expected_version=body.expected_version
    )
    return draft_public(store, record)


@router.post(
    "/drafts/{draft_id}/reject",
    summary="Reject a draft (a reason is required)",
    response_model=DraftPublic,
    responses={**AUTH_ERRORS, **errors(404, 409)},
)
def reject_draft(
    draft_id: int, body: DraftReject, store: StoreDep, caller: ReviewerKey
) -> DraftPublic:
    record = review.reject(
        store, draft_id, caller.actor, body.reason, expected_version=body.expected_version
    )
    return draft_public(store, record)


@router.post(
    "/drafts/{draft_id}/regenerate",
    summary="Queue a new draft with an instruction; it supersedes this one when ready",
    response_model=RegenerateQueued,
    status_code=202,
    responses={**AUTH_ERRORS, **errors(404, 409)},
)
def regenerate_draft(
    draft_id: int, body: DraftRegenerate, store: StoreDep, caller: ReviewerKey
) -> RegenerateQueued:
    job = review.request_regeneration(store, draft_id, caller.actor, body.instruction)
    return RegenerateQueued(draft_id=draft_id, job_id=job.id)


def get_publisher(request: Request) -> Any:
    publisher = request.app.state.publisher
    if publisher is None:
        from copilot.publishing import build_publisher

        publisher = request.app.state.publisher = build_publisher(request.app.state.settings)
    return publisher


@router.post(
    "/drafts/{draft_id}/publish",
    summary="Publish an approved draft to the forum (retries a failed publication)",
    description="Publishes once: a published draft returns its publication without posting "
    "again. A forum failure answers 502 and leaves the draft approved and retryable.",
    response_model=PublicationPublic,
    responses={**AUTH_ERRORS, **errors(404, 409, 502, 504)},
)
async def publish_draft(
    draft_id: int, request: Request, store: StoreDep, _caller: ReviewerKey
) -> PublicationPublic:
    publisher = await run_in_threadpool(get_publisher, request)
    publication = await call_with_timeout(
        review.publish,
        store,
        draft_id,
        publisher,
        timeout=PUBLISH_TIMEOUT_SECONDS,
        what="Publishing to the forum",
    )
    if publication.status == "failed":
        raise PublishError(
            f"Publishing draft {draft_id} failed (attempt {publication.attempts}): "
            f"{publication.last_error}",
            hint="the draft stays approved; POST /publish again, or let `moments worker` retry",
        )
    return PublicationPublic(**publication.model_dump())


@router.get(
    "/publications",
    summary="A draft's publication: status, attempts, the forum's post id and URL",
    response_model=list[PublicationPublic],
    responses={**AUTH_ERRORS, **errors(404)},
)
def list_publications(draft_id: int, store: StoreDep, caller: PluginKey) -> list[PublicationPublic]:
    draft = visible_draft(store, caller, draft_id)
    if draft.publication is None:
        return []
    return [PublicationPublic(**draft.publication.model_dump())]
