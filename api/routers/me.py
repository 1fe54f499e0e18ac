"""`GET /v1/me`: who the calling key is (any role, plugins included), so a client can tell
a reviewer from an admin without probing an admin-only route."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PluginKey
from api.schemas import AUTH_ERRORS, MePublic

router = APIRouter(tags=["me"])


@router.get(
    "/me",
    summary="The calling key: its id, name and role",
    response_model=MePublic,
    responses=AUTH_ERRORS,
)
def who_am_i(caller: PluginKey) -> MePublic:
    return MePublic(key_id=caller.key_id, name=caller.name, role=caller.role)
