"""Posts in, jobs out: `POST /v1/posts` queues a draft; `GET /v1/jobs/{id}` (and its SSE
stream `/events`) follows the job. Drafting happens in the worker (`moments worker`); with
`?wait=` the API only polls the job."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.deps import PluginKey, StoreDep
from api.schemas import AUTH_ERRORS, DraftPublic, JobPublic, PostCreate, PostSubmitted, errors
from api.visibility import can_see_post, visible_job
from copilot.errors import MomentsError
from copilot.store import Store
from copilot.store_records import DraftRecord, JobRecord, from_attributes
from copilot.types import Post

router = APIRouter(tags=["posts"])

POLL_SECONDS = 0.2
MAX_WAIT_SECONDS = 120.0
EVENTS_MAX_SECONDS = 900.0


def job_public(job: JobRecord) -> JobPublic:
    """The job on the wire: the record's fields, with the draft it produced as `draft_id`."""
    return from_attributes(JobPublic, job, draft_id=job.result_draft_id)


def draft_public(store: Store, record: DraftRecord) -> DraftPublic:
    """The draft as reviewers see it: the record plus its audit trail."""
    audit = store.list_audit(entity="draft", entity_id=str(record.id))
    return DraftPublic.model_validate(
        {**record.model_dump(), "audit": [a.model_dump() for a in audit]}
    )


async def wait_for_job(store: Store, job_id: int, seconds: float) -> JobRecord:
    """Poll the job until it is done or failed, or `seconds` pass; returns its last state."""
    deadline = time.monotonic() + seconds
    job = await run_in_threadpool(store.get_job, job_id)
    while job.status not in ("done", "failed") and time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        job = await run_in_threadpool(store.get_job, job_id)
    return job


@router.post(
    "/posts",
    summary="Submit a member's post; its draft is prepared in the background",
    response_model=PostSubmitted,
    status_code=202,
    responses={**AUTH_ERRORS, **errors(400, 413)},
)
async def submit_post(
    body: PostCreate,
    response: Response,
    store: StoreDep,
    caller: PluginKey,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT_SECONDS,
            description="Seconds to wait for the draft (polling the job); 0 returns at once.",
        ),
    ] = 0,
) -> PostSubmitted:
    post = Post(**body.model_dump(exclude={"revision"}))
    result = await run_in_threadpool(
        store.submit_post, post, source=caller.source, revision=body.revision
    )
    submitted = PostSubmitted(
        post_id=result.post_id, job_id=result.job_id, duplicate=result.duplicate
    )
    if result.job_id is None:
        return submitted
    if result.duplicate and not caller.at_least("reviewer"):
        first = await run_in_threadpool(store.get_post, result.post_id)
        if not can_see_post(caller, first):
            return submitted  # another key's post: acknowledged, its draft stays private
    job = (
        await wait_for_job(store, result.job_id, wait)
        if wait > 0
        else await run_in_threadpool(store.get_job, result.job_id)
    )
    submitted.job = job_public(job)
    if job.status == "done" and job.result_draft_id is not None:
        record = await run_in_threadpool(store.get_draft, job.result_draft_id)
        submitted.draft = await run_in_threadpool(draft_public, store, record)
        response.status_code = 200  # the draft is in the answer, not merely accepted
    return submitted


def _visible_job(job_id: int, store: StoreDep, caller: PluginKey) -> JobRecord:
    return visible_job(store, caller, job_id)


VisibleJob = Annotated[JobRecord, Depends(_visible_job)]


@router.get(
    "/jobs/{job_id}",
    summary="A drafting job's status (and its draft id once done)",
    response_model=JobPublic,
    responses={**AUTH_ERRORS, **errors(404)},
)
def get_job(job: VisibleJob) -> JobPublic:
    return job_public(job)


@router.get(
    "/jobs/{job_id}/events",
    summary="Server-sent events: the job's status changes until it is done or failed",
    response_class=EventSourceResponse,
    responses={**AUTH_ERRORS, **errors(404)},
)
async def job_events(job: VisibleJob, store: StoreDep) -> AsyncIterator[ServerSentEvent]:
    """Events: `status` on every change, then `done` or `failed` (or `timeout`), then the
    stream ends. Each carries the job as JSON."""
    started = time.monotonic()
    last: tuple[str, int] | None = None
    while True:
        state = (job.status, job.attempts)
        if state != last:
            last = state
            yield ServerSentEvent(
                event="status", id=f"{job.id}-{job.status}-{job.attempts}", data=job_public(job)
            )
        if job.status in ("done", "failed"):
            yield ServerSentEvent(event=job.status, data=job_public(job))
            return
        if time.monotonic() - started > EVENTS_MAX_SECONDS:
            yield ServerSentEvent(event="timeout", data={"message": "still running; reconnect"})
            return
        await asyncio.sleep(POLL_SECONDS)
        try:
            job = await run_in_threadpool(store.get_job, job.id)
        except MomentsError as exc:
            yield ServerSentEvent(event="error", data={"message": exc.message, "hint": exc.hint})
            return
