"""Every error leaves the API as one JSON envelope, never a traceback:

    {"error": {"code": "not_found", "message": "...", "hint": "...", "fields": [...]}}

`MomentsError` subclasses map to statuses here (`STATUS_BY_ERROR`); request validation errors
become 422 with one entry per field at fault (`member.joined_at`), so a plugin author can fix
the payload without reading server logs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from copilot.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    IndexError_,
    InputError,
    KnowledgeError,
    LLMError,
    LLMResponseError,
    LLMUnavailableError,
    ModelError,
    MomentsError,
    NotFoundError,
    PublishError,
    StoreError,
)

log = logging.getLogger("moments.api")

BODY_LIMIT_HINT = "send a smaller body, or raise MOMENTS_MAX_BODY_BYTES on the server"
KEY_HINT = "create a key with `moments keys create --role reviewer` and send it as `Authorization: Bearer <key>`"


class MissingKeyError(AuthError):
    """No API key, or one the store does not know (401)."""

    hint = KEY_HINT


class ForbiddenError(AuthError):
    """A valid key whose role may not do this (403)."""


class BadSignatureError(AuthError):
    """A webhook whose signature is missing or does not match (401)."""


class RateLimitedError(MomentsError):
    """The key spent its request budget (429, with `Retry-After`)."""

    def __init__(self, message: str, *, retry_after: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class TimeoutError_(MomentsError):  # noqa: N801 - avoid shadowing the builtin TimeoutError
    """An outbound call (model, publisher) took longer than its budget (504)."""


# Most specific first: the first isinstance match wins.
STATUS_BY_ERROR: Sequence[tuple[type[MomentsError], int, str]] = (
    (RateLimitedError, 429, "rate_limited"),
    (TimeoutError_, 504, "timeout"),
    (ForbiddenError, 403, "forbidden"),
    (BadSignatureError, 401, "bad_signature"),
    (AuthError, 401, "unauthorized"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (StoreError, 503, "store_unavailable"),
    (InputError, 400, "bad_input"),
    (KnowledgeError, 400, "bad_document"),
    (LLMUnavailableError, 503, "model_unavailable"),
    (LLMResponseError, 502, "model_error"),
    (LLMError, 502, "model_error"),
    (ModelError, 503, "model_unavailable"),
    (IndexError_, 503, "index_unavailable"),
    (PublishError, 502, "publish_failed"),
    (ConfigError, 500, "misconfigured"),
)


def status_for(exc: MomentsError) -> tuple[int, str]:
    for cls, status, code in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status, code
    return 500, "error"


def error_body(
    code: str,
    message: str,
    *,
    hint: str | None = None,
    fields: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "hint": hint}
    if fields is not None:
        error["fields"] = fields
    return {"error": error}


def error_response(exc: MomentsError) -> JSONResponse:
    status, code = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(code, exc.message, hint=exc.hint), status_code=status, headers=headers
    )


def field_path(loc: Sequence[int | str]) -> str:
    """`("body", "member", "joined_at")` → `member.joined_at`; list items as `thread[0].text`."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        source = str(parts.pop(0))
        if not parts:
            return source
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validation_fields(errors: Sequence[Any]) -> list[dict[str, str]]:
    fields = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        fields.append({"field": field_path(loc), "message": message})
    return fields


async def _moments_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MomentsError)
    status, _ = status_for(exc)
    if status >= 500:
        log.warning("%s %s -> %s: %s", request.method, request.url.path, status, exc)
    elif status == 401:
        log.info("%s %s -> 401: %s", request.method, request.url.path, exc.message)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        detail = (broken.get("ctx") or {}).get("error", "not JSON")
        position = broken.get("loc", ("body", "?"))[-1]
        return JSONResponse(
            error_body(
                "malformed_json",
                f"The body is not valid JSON: {detail} at character {position}.",
                hint="send a JSON object with Content-Type: application/json",
            ),
            status_code=400,
        )
    fields = validation_fields(errors)
    names = ", ".join(f["field"] for f in fields[:5])
    message = f"The request is not valid: check {names}." if names else "The request is not valid."
    return JSONResponse(
        error_body(
            "invalid_request",
            message,
            hint="see `fields` for each field at fault, and /docs for the schema",
            fields=fields,
        ),
        status_code=422,
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 413:
        return JSONResponse(
            error_body(code, message, hint=BODY_LIMIT_HINT),
            status_code=413,
            headers={"Connection": "close"},
        )
    if exc.status_code == 404 and message == "Not Found":
        message = f"No endpoint at {request.method} {request.url.path}."
        return JSONResponse(
            error_body(code, message, hint="see /docs for the endpoints"), status_code=404
        )
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        error_body(
            "internal",
            "Something went wrong on the server; it has been logged.",
            hint="retry; if it persists, check the server log for this request",
        ),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MomentsError, _moments_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
