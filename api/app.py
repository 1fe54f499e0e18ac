"""`create_app()`: the FastAPI application, all routes under `/v1`.

    uvicorn --factory api.app:create_app     (what `moments serve` runs)

Pass `store`, `index`, `model` or `publisher` to use ready-made ones (tests pass fakes);
anything not passed is built from settings: the store at startup (migrated to head), the
index and the model lazily on first use, cached on `app.state`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import VERSION
from api.deps import KeyCache
from api.errors import install_error_handlers
from api.limits import BodySizeLimit, MetricsMiddleware, RateLimiter, RequestMetrics
from api.routers import (
    crisis,
    discourse,
    drafts,
    evals,
    health,
    keys,
    knowledge,
    me,
    members,
    moments,
    posts,
    tone,
)
from copilot.settings import Settings, get_settings

log = logging.getLogger("moments.api")

TAGS = [
    {"name": "health", "description": "Liveness, readiness and metrics."},
    {"name": "posts", "description": "Submit member posts; follow their drafting jobs."},
    {"name": "drafts", "description": "The review queue: read, approve, edit, reject, publish."},
    {"name": "crisis", "description": "Incident statements per channel, fact-locked."},
    {"name": "knowledge", "description": "Guidelines and past interactions in the index."},
    {"name": "tone", "description": "Score a reply's tone and guardrails."},
    {"name": "moments", "description": "Classify a post's moment of impact."},
    {"name": "members", "description": "A member's profile, earlier posts and replies."},
    {"name": "evals", "description": "Tone eval runs: list, read, compare."},
    {"name": "keys", "description": "API keys (admin)."},
    {"name": "me", "description": "Who the calling key is (any role)."},
    {"name": "discourse", "description": "The Discourse webhook (signed, no API key)."},
]


def create_app(
    settings: Settings | None = None,
    *,
    store: Any = None,
    index: Any = None,
    model: Any = None,
    publisher: Any = None,
) -> FastAPI:
    """Build the app. Nothing heavy happens here; the store opens at startup."""
    settings = settings or get_settings()
    owns_store = store is None
    owns_publisher = publisher is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.store is None:
            from starlette.concurrency import run_in_threadpool

            from copilot.store import open_store

            app.state.store = await run_in_threadpool(open_store, settings)
        try:
            yield
        finally:
            if owns_store and app.state.store is not None:
                app.state.store.close()
                app.state.store = None
            close = getattr(app.state.publisher, "close", None)
            if owns_publisher and callable(close):
                close()

    app = FastAPI(
        title="Moments API",
        version=VERSION,
        summary="A response copilot for community managers: drafts for the moments of impact, "
        "reviewed by humans before anything reaches members.",
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.index = index
    app.state.model = model
    app.state.publisher = publisher
    app.state.key_cache = KeyCache()
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.metrics = RequestMetrics()

    install_error_handlers(app)
    for router in (
        health.router,
        posts.router,
        drafts.router,
        crisis.router,
        knowledge.router,
        tone.router,
        moments.router,
        keys.router,
        discourse.router,
        me.router,
        members.router,
        evals.router,
    ):
        app.include_router(router, prefix="/v1")

    # Outermost first: metrics see every request, including a 413.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
