"""Dependencies as named `Annotated` types: `SettingsDep`, `StoreDep`, `IndexDep`, `ModelDep`,
and the callers `PluginKey`, `ReviewerKey`, `AdminKey` (each admits its role and those above).

Everything lives on `app.state` (see `api.app.create_app`): tests pass a store or a fake model
to `create_app()` or override these dependencies. The model and the index are built lazily on
first use and cached, so the API starts in milliseconds and `/v1/health` never loads a model.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ForbiddenError, MissingKeyError
from api.limits import RateLimiter
from copilot.llm.base import ChatModel
from copilot.settings import Settings
from copilot.store import Store
from copilot.store_records import ApiKeyRecord, Role

if TYPE_CHECKING:
    from copilot.retrieval import KnowledgeIndex

ROLE_RANK: dict[str, int] = {"plugin": 0, "reviewer": 1, "admin": 2}
KEY_CACHE_SECONDS = 10.0  # a revoked key stops working in other processes within this time


@dataclass(frozen=True)
class Caller:
    """Who is calling: the API key's id, name and role."""

    key_id: int
    name: str
    role: Role

    @property
    def actor(self) -> str:
        """How the caller appears in reviews and the audit log."""
        return self.name

    @property
    def source(self) -> str:
        """Recorded on posts this caller submits, so a plugin sees only its own drafts."""
        return f"api-key:{self.key_id}"

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class KeyCache:
    """A short in-process cache of verified keys, so each request need not touch the store."""

    def __init__(self, ttl: float = KEY_CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, ApiKeyRecord]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def digest(plaintext: str) -> str:
        return hashlib.sha256(plaintext.encode()).hexdigest()

    def get(self, plaintext: str) -> ApiKeyRecord | None:
        digest = self.digest(plaintext)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or entry[0] < time.monotonic():
                self._entries.pop(digest, None)
                return None
            return entry[1]

    def put(self, plaintext: str, record: ApiKeyRecord) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[self.digest(plaintext)] = (time.monotonic() + self.ttl, record)

    def forget(self, key_id: int) -> None:
        with self._lock:
            for digest, (_, record) in list(self._entries.items()):
                if record.id == key_id:
                    del self._entries[digest]


# App state -----------------------------------------------------------------------------------


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


_build_lock = threading.Lock()


def _lazy(request: Request, name: str, build: Any) -> Any:
    state = request.app.state
    value = getattr(state, name, None)
    if value is None:
        with _build_lock:
            value = getattr(state, name, None)
            if value is None:
                value = build(state.settings)
                setattr(state, name, value)
    return value


def get_index(request: Request) -> KnowledgeIndex:
    def build(settings: Settings) -> KnowledgeIndex:
        from copilot.retrieval import open_index

        return open_index(settings)

    index: KnowledgeIndex = _lazy(request, "index", build)
    return index


def get_model(request: Request) -> ChatModel:
    def build(settings: Settings) -> ChatModel:
        from copilot.llm.factory import build_chat_model

        return build_chat_model(settings, progress=False)

    model: ChatModel = _lazy(request, "model", build)
    return model


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StoreDep = Annotated[Store, Depends(get_store)]
ModelDep = Annotated[ChatModel, Depends(get_model)]
if TYPE_CHECKING:
    IndexDep = Annotated[KnowledgeIndex, Depends(get_index)]
else:  # resolved at request time; importing Chroma at startup would cost seconds
    IndexDep = Annotated[Any, Depends(get_index)]


# Authentication ------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Or send the key as `X-API-Key: <key>`"
)


def get_caller(
    request: Request,
    store: StoreDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> Caller:
    """Verify the API key (Bearer or X-API-Key) and spend one token of its rate limit."""
    plaintext = (bearer.credentials if bearer else None) or header_key
    if not plaintext:
        raise MissingKeyError("This endpoint needs an API key and none was sent.")
    limiter: RateLimiter = request.app.state.rate_limiter
    cache: KeyCache = request.app.state.key_cache
    record = cache.get(plaintext)
    if record is None:
        record = store.verify_api_key(plaintext)
        if record is None or not record.active:
            # Guessing keys spends the caller's address's budget, not the database.
            client = request.client.host if request.client else "unknown"
            limiter.check(f"bad-key:{client}", label=f"invalid keys from {client}")
            raise MissingKeyError("The API key is not valid (unknown or revoked).")
        cache.put(plaintext, record)
    limiter.check(f"key:{record.id}", label=f"key '{record.name}'")
    caller = Caller(key_id=record.id, name=record.name, role=record.role)
    request.state.caller = caller
    return caller


def require(role: Role) -> Any:
    """A dependency admitting callers whose role is `role` or above."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if not caller.at_least(role):
            raise ForbiddenError(
                f"The key '{caller.name}' has the role '{caller.role}'; this needs '{role}' "
                "or above.",
                hint=f"ask an admin for a key: `moments keys create --role {role}`",
            )
        return caller

    check.__name__ = f"require_{role}"
    return Depends(check)


PluginKey = Annotated[Caller, require("plugin")]
ReviewerKey = Annotated[Caller, require("reviewer")]
AdminKey = Annotated[Caller, require("admin")]
