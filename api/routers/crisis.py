"""Crisis statements: incident facts in, one statement per channel out (forum, banner, email,
social), each fact-locked (`violations` name anything the facts do not say). Reviewers approve
or reject each channel's statement; updates and the resolution are new stages."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import ModelDep, ReviewerKey, SettingsDep, StoreDep
from api.limits import call_with_timeout
from api.schemas import (
    AUTH_ERRORS,
    IncidentCreate,
    IncidentPublic,
    IncidentSummaryPublic,
    IncidentUpdate,
    StatementApprove,
    StatementPublic,
    StatementReject,
    errors,
)
from copilot.errors import ConflictError, InputError, NotFoundError
from copilot.llm.base import ChatModel
from copilot.settings import Settings
from copilot.store import Store
from copilot.store_records import StatementRecord
from copilot.types import Channel, IncidentFacts

router = APIRouter(prefix="/incidents", tags=["crisis"])

ChannelName = Literal["forum", "banner", "email", "social"]
CHANNELS_PER_INCIDENT = 4


def _new_incident_id() -> str:
    return f"inc-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def _incident(incident_id: str, records: list[StatementRecord]) -> IncidentPublic:
    latest = records[-1]
    return IncidentPublic(
        id=incident_id,
        stage=latest.stage,
        facts=latest.facts,
        statements=[StatementPublic(**r.model_dump()) for r in records],
    )


def _statements(store: Store, incident_id: str) -> list[StatementRecord]:
    records = store.list_statements(incident_id=incident_id)
    if not records:
        raise NotFoundError(
            f"Incident '{incident_id}' does not exist.",
            hint="create it with POST /v1/incidents",
        )
    return records


async def _draft_stage(
    store: Store,
    model: ChatModel,
    settings: Settings,
    incident_id: str,
    facts: IncidentFacts,
    stage: Literal["initial", "update", "resolved"],
    channels: Sequence[Channel] | None = None,
) -> IncidentPublic:
    """Draft the stage's statements, save them, and answer with the whole incident as it now
    stands (what both opening an incident and updating it return)."""
    from copilot.crisis import draft_statements

    statements = await call_with_timeout(
        draft_statements,
        facts,
        model=model,
        stage=stage,
        **({"channels": tuple(channels)} if channels else {}),
        timeout=settings.llm_timeout * CHANNELS_PER_INCIDENT,
        what="Drafting the statements",
    )
    await run_in_threadpool(store.save_statements, incident_id, statements, facts)
    return _incident(incident_id, await run_in_threadpool(_statements, store, incident_id))


@router.post(
    "",
    summary="Open an incident: draft statements for every channel from the facts",
    response_model=IncidentPublic,
    status_code=201,
    responses={**AUTH_ERRORS, **errors(400, 409, 503, 504)},
)
async def create_incident(
    body: IncidentCreate,
    store: StoreDep,
    model: ModelDep,
    settings: SettingsDep,
    _caller: ReviewerKey,
) -> IncidentPublic:
    incident_id = body.incident_id or _new_incident_id()
    if await run_in_threadpool(store.list_statements, incident_id=incident_id):
        raise ConflictError(
            f"Incident '{incident_id}' already exists.",
            hint=f"post an update to /v1/incidents/{incident_id}/updates",
        )
    return await _draft_stage(
        store, model, settings, incident_id, body.facts, "initial", body.channels
    )


@router.get(
    "",
    summary="Incidents, most recently changed first, with their stage and what awaits approval",
    response_model=list[IncidentSummaryPublic],
    responses=AUTH_ERRORS,
)
def list_incidents(
    store: StoreDep,
    _caller: ReviewerKey,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[IncidentSummaryPublic]:
    return [IncidentSummaryPublic(**i.model_dump()) for i in store.list_incidents(limit=limit)]


@router.get(
    "/{incident_id}",
    summary="An incident's statements, every stage and channel",
    response_model=IncidentPublic,
    responses={**AUTH_ERRORS, **errors(404)},
)
def get_incident(incident_id: str, store: StoreDep, _caller: ReviewerKey) -> IncidentPublic:
    return _incident(incident_id, _statements(store, incident_id))


def _current(store: Store, incident_id: str, channel: str) -> StatementRecord:
    """The channel's statement in the incident's latest stage."""
    records = _statements(store, incident_id)
    latest_stage = records[-1].stage
    mine = [r for r in records if r.channel == channel and r.stage == latest_stage]
    if not mine:
        raise NotFoundError(
            f"Incident '{incident_id}' has no {channel} statement in its '{latest_stage}' stage."
        )
    return mine[-1]


@router.post(
    "/{incident_id}/statements/{channel}/approve",
    summary="Approve a channel's statement (optionally with edited text)",
    response_model=StatementPublic,
    responses={**AUTH_ERRORS, **errors(404, 409)},
)
def approve_statement(
    incident_id: str,
    channel: ChannelName,
    store: StoreDep,
    caller: ReviewerKey,
    body: StatementApprove | None = None,
) -> StatementPublic:
    statement = _current(store, incident_id, channel)
    record = store.approve_statement(statement.id, caller.actor, text=body.text if body else None)
    return StatementPublic(**record.model_dump())


@router.post(
    "/{incident_id}/statements/{channel}/reject",
    summary="Reject a channel's statement (a reason is required)",
    response_model=StatementPublic,
    responses={**AUTH_ERRORS, **errors(404, 409)},
)
def reject_statement(
    incident_id: str,
    channel: ChannelName,
    body: StatementReject,
    store: StoreDep,
    caller: ReviewerKey,
) -> StatementPublic:
    statement = _current(store, incident_id, channel)
    record = store.reject_statement(statement.id, caller.actor, body.reason)
    return StatementPublic(**record.model_dump())


def merge_facts(facts: IncidentFacts, changes: dict[str, Any]) -> IncidentFacts:
    """Apply an update's facts: scalars replace, lists extend (without repeating items)."""
    merged: dict[str, Any] = facts.model_dump()
    for name, value in changes.items():
        if isinstance(merged.get(name), list) and isinstance(value, list):
            merged[name] = merged[name] + [v for v in value if v not in merged[name]]
        else:
            merged[name] = value
    try:
        return IncidentFacts.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(f"facts.{field}: {first.get('msg', 'invalid value')}.") from None


@router.post(
    "/{incident_id}/updates",
    summary="Draft a progress update or the resolution from new facts",
    response_model=IncidentPublic,
    status_code=201,
    responses={**AUTH_ERRORS, **errors(400, 404, 503, 504)},
)
async def update_incident(
    incident_id: str,
    body: IncidentUpdate,
    store: StoreDep,
    model: ModelDep,
    settings: SettingsDep,
    _caller: ReviewerKey,
) -> IncidentPublic:
    records = await run_in_threadpool(_statements, store, incident_id)
    previous = next((r.facts for r in reversed(records) if r.facts is not None), None)
    if previous is None:
        raise ConflictError(f"Incident '{incident_id}' has no recorded facts to update.")
    facts = merge_facts(previous, body.facts)
    if body.stage == "resolved" and not facts.resolved_at:
        raise InputError(
            "facts.resolved_at: is required to resolve an incident.",
            hint='send {"stage": "resolved", "facts": {"resolved_at": "16:40 UTC"}}',
        )
    channels = sorted({r.channel for r in records}) or None
    return await _draft_stage(
        store,
        model,
        settings,
        incident_id,
        facts,
        body.stage,
        channels,  # type: ignore[arg-type]
    )
