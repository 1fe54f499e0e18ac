"""`POST /v1/moments`: which moment of impact a post is, how urgent, how the member feels."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PluginKey
from api.schemas import AUTH_ERRORS, MomentRequest, errors
from copilot.types import Moment, Post

router = APIRouter(tags=["moments"])


@router.post(
    "/moments",
    summary="Classify a post's moment (deterministic rules)",
    response_model=Moment,
    responses={**AUTH_ERRORS, **errors(400)},
)
def classify(body: MomentRequest, _caller: PluginKey) -> Moment:
    from copilot.moments import classify_post

    return classify_post(Post(**body.model_dump()))
