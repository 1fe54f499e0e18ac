"""`POST /v1/tone`: score a reply's tone and guardrails (the same scorer drafting uses)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PluginKey
from api.schemas import AUTH_ERRORS, ToneCardPublic, ToneRequest, errors
from copilot.types import Member

router = APIRouter(tags=["tone"])


@router.post(
    "/tone",
    summary="Score a reply: tone dimensions and guardrail flags",
    response_model=ToneCardPublic,
    responses={**AUTH_ERRORS, **errors(400)},
)
def score_tone(body: ToneRequest, _caller: PluginKey) -> ToneCardPublic:
    from copilot.tone import score_reply

    member = Member(name=body.member_name) if body.member_name else None
    card = score_reply(body.text, post=body.post, member=member, moment=body.moment)
    return ToneCardPublic(**card.model_dump())
