"""What a caller may see: plugins see only the posts (and their jobs, drafts, publications)
their own key submitted; reviewers and admins see everything. A record a plugin may not see
is reported as not found, so ids of other plugins' posts leak nothing."""

from __future__ import annotations

from api.deps import Caller
from copilot.errors import NotFoundError
from copilot.store import Store
from copilot.store_records import DraftRecord, JobRecord, PostRecord


def can_see_post(caller: Caller, post: PostRecord) -> bool:
    return caller.at_least("reviewer") or post.source == caller.source


def visible_job(store: Store, caller: Caller, job_id: int) -> JobRecord:
    job = store.get_job(job_id)
    if not caller.at_least("reviewer") and not can_see_post(caller, store.get_post(job.post_id)):
        raise NotFoundError(f"Job {job_id} does not exist.")
    return job


def visible_draft(store: Store, caller: Caller, draft_id: int) -> DraftRecord:
    draft = store.get_draft(draft_id)
    if not can_see_post(caller, draft.post):
        raise NotFoundError(f"Draft {draft_id} does not exist.")
    return draft
