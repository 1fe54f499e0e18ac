"""`GET /v1/members/{handle}`: a member's profile, their earlier posts and the staff replies
approved for them, so a reviewer sees who they are answering."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import ReviewerKey, SettingsDep, StoreDep
from api.schemas import (
    AUTH_ERRORS,
    Blank,
    DraftSummaryPublic,
    MemberHistoryPublic,
    MemberPostPublic,
    MemberPublic,
    errors,
)

router = APIRouter(prefix="/members", tags=["members"])

REPLY_STATUSES = ("approved", "published")


@router.get(
    "/{handle}",
    summary="A member's profile, earlier posts and the staff replies approved for them",
    response_model=MemberHistoryPublic,
    responses={**AUTH_ERRORS, **errors(404)},
)
async def member_history(
    handle: str,
    store: StoreDep,
    settings: SettingsDep,
    _caller: ReviewerKey,
    community: Annotated[
        str | None, Blank, Query(description="Default: this deployment's community")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Most recent posts to return")] = 50,
) -> MemberHistoryPublic:
    history = await run_in_threadpool(
        store.member_history, community or settings.community_id, handle, limit=limit
    )
    latest: dict[int, DraftSummaryPublic] = {}
    for row in history.drafts:  # newest first: the first seen per post is its latest
        latest.setdefault(row.post_id, DraftSummaryPublic(**row.model_dump()))
    posts = []
    for post in history.posts:
        draft = latest.get(post.id)
        posts.append(
            MemberPostPublic(
                id=post.id,
                title=post.title,
                excerpt=post.text[:200],
                category=post.category,
                forum=post.forum,
                topic_id=post.topic_id,
                forum_post_id=post.forum_post_id,
                created_at=post.created_at,
                received_at=post.received_at,
                draft_id=draft.id if draft else None,
                draft_status=draft.status if draft else None,
                moment=draft.moment if draft else None,
            )
        )
    return MemberHistoryPublic(
        member=MemberPublic(**history.member.model_dump()),
        posts=posts,
        replies=[
            DraftSummaryPublic(**d.model_dump())
            for d in history.drafts
            if d.status in REPLY_STATUSES
        ],
    )
