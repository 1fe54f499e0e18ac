"""API keys (admin): create (the plaintext is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import AdminKey, KeyCache, StoreDep
from api.schemas import AUTH_ERRORS, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, errors

router = APIRouter(prefix="/keys", tags=["keys"])


@router.post(
    "",
    summary="Create a key; its plaintext is returned once and never stored",
    response_model=ApiKeyCreated,
    status_code=201,
    responses=AUTH_ERRORS,
)
def create_key(body: ApiKeyCreate, store: StoreDep, caller: AdminKey) -> ApiKeyCreated:
    record, plaintext = store.create_api_key(body.role, body.name)
    store.audit(caller.actor, "key.created", "api_key", str(record.id), {"role": body.role})
    return ApiKeyCreated(key=ApiKeyPublic(**record.model_dump()), plaintext=plaintext)


@router.get(
    "",
    summary="List keys (prefixes only)",
    response_model=list[ApiKeyPublic],
    responses=AUTH_ERRORS,
)
def list_keys(store: StoreDep, _caller: AdminKey) -> list[ApiKeyPublic]:
    return [ApiKeyPublic(**k.model_dump()) for k in store.list_api_keys()]


@router.delete(
    "/{key_id}",
    summary="Revoke a key (other API processes stop accepting it within 10 s)",
    response_model=ApiKeyPublic,
    responses={**AUTH_ERRORS, **errors(404)},
)
def revoke_key(key_id: int, request: Request, store: StoreDep, caller: AdminKey) -> ApiKeyPublic:
    record = store.revoke_api_key(key_id)
    cache: KeyCache = request.app.state.key_cache
    cache.forget(key_id)
    store.audit(caller.actor, "key.revoked", "api_key", str(key_id), {})
    return ApiKeyPublic(**record.model_dump())
