"""`POST /v1/webhooks/discourse`: Discourse's webhook, authenticated by its HMAC signature.

Order matters: the raw body is read (bounded by the body-size limit), its signature checked
with `hmac.compare_digest`, and only then parsed. Unsigned or wrongly signed deliveries get
401 and are logged, never stored.

Outcomes (Discourse marks any non-2xx delivery as failed and retries it, so events we do not
act on are acknowledged, not refused):
- `ping` → 200 `{"ok": true, "outcome": "pong"}`
- `post_created` → 200 `queued` (a draft job), `duplicate` (same post id and version already
  received: a redelivery, whatever its event id) or `stored` (staff/system posts: kept as
  thread context, not drafted)
- `topic_created` → 200 `stored` (recorded in the audit log; its first post arrives as
  `post_created`)
- any other event (post_edited, user_created, ...) → 202 `ignored` with the reason
- malformed JSON → 400 naming the problem; body over the limit → 413
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from api.discourse import (
    EVENT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    INSTANCE_HEADER,
    SIGNATURE_HEADER,
    post_from_payload,
    topic_summary,
    verify_signature,
)
from api.errors import BadSignatureError
from api.intake import Intake
from api.schemas import WebhookReceipt, errors
from copilot.errors import ConfigError, InputError
from copilot.settings import Settings
from copilot.store import Store


@asynccontextmanager
async def intake_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the webhook micro-batcher (api.intake) while the app runs; drain it on shutdown.

    Nested inside the app's own lifespan, so the store is open before and closed after.
    Without a lifespan (a bare TestClient) deliveries are written one by one, as before."""
    store = getattr(app.state, "store", None)
    if store is None:
        yield
        return
    intake = Intake(store)
    intake.start()
    app.state.intake = intake
    try:
        yield
    finally:
        await intake.close()
        app.state.intake = None
        if intake.stats.batches:
            log.info(
                "intake drained: %d deliveries in %d transactions (largest %d)",
                intake.stats.items,
                intake.stats.batches,
                intake.stats.largest,
            )


router = APIRouter(prefix="/webhooks", tags=["discourse"], lifespan=intake_lifespan)
log = logging.getLogger("moments.api.discourse")

HANDLED = ("post_created", "topic_created", "ping")


SOURCE_MAX = 50  # posts.source column width


def delivery_source(instance: str | None) -> str:
    """`discourse:<host>` for the posts table (the host of X-Discourse-Instance)."""
    host = urlparse(instance).netloc if instance and "://" in instance else instance
    return f"discourse:{host or 'unknown'}"[:SOURCE_MAX]


# The headers are read from `request.headers` and documented by hand below: FastAPI's
# per-request parameter machinery (five Header() params, two sync dependencies run in the
# thread pool) cost more CPU than the signature check, parsing and the store write together.
HEADERS_DOC = [
    (SIGNATURE_HEADER, "sha256=<hex HMAC-SHA256 of the raw body under the webhook secret>"),
    (EVENT_HEADER, "post_created, topic_created, ping, ..."),
    (EVENT_TYPE_HEADER, "post, topic, ping, ..."),
    (EVENT_ID_HEADER, "Discourse's delivery id (a redelivery gets a new one)"),
    (INSTANCE_HEADER, "the forum's base URL; recorded as the post's source"),
]


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.post(
    "/discourse",
    summary="Receive a Discourse webhook (signed with the webhook secret; no API key)",
    description=(__doc__ or "").split("\n", 1)[1].strip(),
    response_model=WebhookReceipt,
    responses={
        202: {"model": WebhookReceipt, "description": "Acknowledged and ignored, with a reason"},
        **errors(400, 401, 413, 500),
    },
    openapi_extra={
        "parameters": [
            {
                "name": name,
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": doc,
            }
            for name, doc in HEADERS_DOC
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": 'Discourse\'s payload: {"post": {...}} or {"topic": {...}}',
        },
    },
)
async def receive_discourse_webhook(
    request: Request, response: Response
) -> WebhookReceipt | Response:
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    headers = request.headers
    signature = headers.get(SIGNATURE_HEADER)
    event_type = headers.get(EVENT_TYPE_HEADER)
    event = headers.get(EVENT_HEADER)
    event_id = headers.get(EVENT_ID_HEADER)
    instance = headers.get(INSTANCE_HEADER)
    secret = settings.discourse_webhook_secret
    if not secret:
        raise ConfigError(
            "The Discourse webhook is not configured, so every delivery is refused.",
            hint="set MOMENTS_DISCOURSE_WEBHOOK_SECRET to the secret in Discourse's webhook settings",
        )
    body = await request.body()
    if not verify_signature(secret, body, signature):
        log.warning(
            "discourse webhook refused: %s signature (event=%s id=%s instance=%s from %s)",
            "missing" if not signature else "bad",
            event,
            event_id,
            instance,
            _client(request),
        )
        raise BadSignatureError(
            f"The {SIGNATURE_HEADER} header is "
            + ("missing." if not signature else "not the HMAC-SHA256 of this body."),
            hint="check that the secret in Discourse's webhook settings equals "
            "MOMENTS_DISCOURSE_WEBHOOK_SECRET",
        )
    name = (event or event_type or "").strip()
    if name == "ping" or event_type == "ping":
        return WebhookReceipt(event="ping", outcome="pong")
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise InputError(
            f"The body is not valid JSON: {getattr(exc, 'msg', exc)}{where}.",
            hint="Discourse sends application/json; check the webhook's content type",
        ) from None
    if not isinstance(payload, dict):
        raise InputError("The body is JSON but not an object.")

    if name == "post_created":
        mapped = post_from_payload(
            payload,
            community_id=settings.community_id,
            api_username=settings.discourse_api_username,
        )
        source = delivery_source(instance or settings.discourse_url)
        intake: Intake | None = getattr(request.app.state, "intake", None)
        if intake is not None and intake.running:
            result = await intake.submit(
                mapped.post, source=source, revision=mapped.revision, draft=mapped.draft
            )
            if mapped.draft:
                receipt = WebhookReceipt(
                    event=name,
                    outcome="duplicate" if result.duplicate else "queued",
                    post_id=result.post_id,
                    job_id=result.job_id,
                    duplicate=result.duplicate,
                )
            else:
                receipt = WebhookReceipt(
                    event=name,
                    outcome="duplicate" if result.duplicate else "stored",
                    reason=mapped.reason,
                    post_id=result.post_id,
                    duplicate=result.duplicate,
                )
            # Already validated: serialise it once, skip FastAPI's second validation.
            return Response(receipt.model_dump_json(), media_type="application/json")
        if mapped.draft:
            result = await run_in_threadpool(
                store.submit_post, mapped.post, source=source, revision=mapped.revision
            )
            return WebhookReceipt(
                event=name,
                outcome="duplicate" if result.duplicate else "queued",
                post_id=result.post_id,
                job_id=result.job_id,
                duplicate=result.duplicate,
            )
        post_id, created = await run_in_threadpool(
            store.record_post, mapped.post, source=source, revision=mapped.revision
        )
        return WebhookReceipt(
            event=name,
            outcome="stored" if created else "duplicate",
            reason=mapped.reason,
            post_id=post_id,
            duplicate=not created,
        )
    if name == "topic_created":
        topic = topic_summary(payload)
        await run_in_threadpool(
            store.audit,
            "discourse",
            "topic_created",
            "topic",
            str(topic["topic_id"]),
            {**topic, "instance": instance, "event_id": event_id},
        )
        return WebhookReceipt(
            event=name,
            outcome="stored",
            reason="topic recorded; its first post arrives as post_created",
        )
    response.status_code = 202
    return WebhookReceipt(
        event=name or "unknown",
        outcome="ignored",
        reason=f"'{name or 'no event header'}' is not an event Moments acts on "
        f"(it handles {', '.join(HANDLED)})",
    )
