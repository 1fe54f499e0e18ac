"""`OpenAIChatModel`: any OpenAI-compatible `/chat/completions` server over httpx.

vLLM, Ollama, `python -m llama_cpp.server`, OpenAI, Azure-style gateways. Streaming uses
server-sent events (`data: {...}` lines, ended by `data: [DONE]`).

Retries: connect errors, timeouts before the first piece, 429 and 5xx are retried up to
`max_retries` times with exponential backoff and jitter (a `Retry-After` header is respected,
capped). Once the stream has yielded text nothing is retried: the caller already holds part of
a reply. Failures end as `LLMUnavailableError` (unreachable / still failing) or
`LLMResponseError` (a 4xx, with the server's own message).

`transport` is the test seam: pass an `httpx.MockTransport` to script any server behaviour.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from copilot.errors import LLMResponseError, LLMUnavailableError
from copilot.guard import ensure_real_models_allowed
from copilot.types import ChatMessage, GenerationOptions

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5  # seconds; attempt n waits base * 2**n plus jitter
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 30.0


@dataclass
class OpenAIUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class OpenAIChatModel:
    """A `ChatModel` backed by an OpenAI-compatible HTTP server. Text leaves this process."""

    provider = "openai"
    local = False

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.name = model
        self.api_key = api_key
        self.max_retries = max_retries
        self.transport = transport
        self.sleep = sleep
        self.timeout = httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
        self.last_usage = OpenAIUsage()
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"OpenAIChatModel(model={self.name!r}, base_url={self.base_url!r})"

    # HTTP plumbing -----------------------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            headers = {"Accept": "application/json"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._client = httpx.Client(
                timeout=self.timeout, headers=headers, transport=self.transport
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _payload(
        self, messages: Sequence[ChatMessage], options: GenerationOptions, stream: bool
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.name,
            "messages": [m.model_dump() for m in messages],
            "temperature": options.temperature,
            "top_p": options.top_p,
            "max_tokens": options.max_tokens,
            "stream": stream,
        }
        if options.seed is not None:
            payload["seed"] = options.seed
        if options.stop:
            payload["stop"] = list(options.stop)
        return payload

    def _guard(self) -> None:
        if self.transport is None:
            ensure_real_models_allowed(f"OpenAIChatModel({self.name}) at {self.base_url}")

    def _delay(self, attempt: int, hint: float | None) -> float:
        if hint is not None:
            return min(max(hint, 0.0), RETRY_AFTER_CAP)
        base = min(BACKOFF_BASE * 2.0**attempt, BACKOFF_CAP)
        return base + random.uniform(0, base / 2)

    def _with_retries(self, attempt_once: Callable[[], Iterator[str]]) -> Iterator[str]:
        """Run attempts until one starts streaming; retry only before the first yielded piece."""
        usage = OpenAIUsage()
        self.last_usage = usage
        attempts = self.max_retries + 1
        reason = "no attempt made"
        for attempt in range(attempts):
            usage.attempts = attempt + 1
            started = False
            try:
                for piece in attempt_once():
                    started = True
                    yield piece
                return
            except _Retry as retry:
                if started:  # pragma: no cover - _Retry is only raised before the first piece
                    raise LLMUnavailableError(
                        f"the stream from {self.url} broke: {retry}"
                    ) from None
                reason = retry.reason
                if attempt + 1 < attempts:
                    self.sleep(self._delay(attempt, retry.delay))
            except httpx.HTTPError as exc:
                text = _describe(exc)
                if started:
                    raise LLMUnavailableError(
                        f"the stream from the model server at {self.url} broke mid-reply: {text}",
                        hint="the partial reply was discarded; try again",
                    ) from None
                reason = text
                if attempt + 1 < attempts:
                    self.sleep(self._delay(attempt, None))
        raise LLMUnavailableError(
            f"cannot reach the model server at {self.url} after {attempts} "
            f"attempt{'s' if attempts != 1 else ''}: {reason}. Is it running? "
            "Check MOMENTS_LLM_BASE_URL"
        )

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        response.read()
        message = _server_message(response)
        if status in RETRY_STATUSES:
            raise _Retry(f"HTTP {status}: {message}", _retry_after(response))
        hint = "check the request options"
        if status in (401, 403):
            hint = "check MOMENTS_LLM_API_KEY"
        elif status == 404:
            hint = "check MOMENTS_LLM_BASE_URL (usually ends in /v1) and MOMENTS_LLM_MODEL"
        raise LLMResponseError(
            f"the model server at {self.url} refused the request (HTTP {status}): {message}",
            hint=hint,
        )

    # ChatModel ---------------------------------------------------------------------------------

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        """Stream the reply as text pieces (SSE)."""
        self._guard()
        payload = self._payload(messages, options, stream=True)

        def attempt_once() -> Iterator[str]:
            with self.client.stream("POST", self.url, json=payload) as response:
                self._check_status(response)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type and "json" in content_type:
                    # A server that ignored stream=true and answered in one JSON body.
                    response.read()
                    text = self._parse_completion(response)
                    if text:
                        yield text
                    return
                yield from self._parse_sse(response)

        return self._with_retries(attempt_once)

    def generate(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> str:
        """One non-streaming request; returns the whole reply text."""
        self._guard()
        payload = self._payload(messages, options, stream=False)

        def attempt_once() -> Iterator[str]:
            response = self.client.post(self.url, json=payload)
            self._check_status(response)
            yield self._parse_completion(response)

        return "".join(self._with_retries(attempt_once))

    # Parsing -----------------------------------------------------------------------------------

    def _parse_sse(self, response: httpx.Response) -> Iterator[str]:
        events = 0
        for line in response.iter_lines():
            line = line.strip()
            if not line.startswith("data:"):
                continue  # blank separators, ": keep-alive" comments, "event:" lines
            events += 1
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except json.JSONDecodeError:
                raise LLMResponseError(
                    f"the model server at {self.url} sent an unreadable event: {data[:200]!r}"
                ) from None
            if not isinstance(event, dict):
                continue
            if "error" in event:
                raise LLMResponseError(
                    f"the model server at {self.url} failed mid-stream: {_error_text(event)}"
                )
            self._record_usage(event)
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {}
                piece = delta.get("content")
                if piece:
                    self.last_usage.completion_tokens += 1
                    yield str(piece)
        if events == 0:
            raise LLMResponseError(
                f"the model server at {self.url} answered without server-sent events "
                f"({response.headers.get('content-type', 'no content type')})",
                hint="is MOMENTS_LLM_BASE_URL an OpenAI-compatible /v1 endpoint?",
            )

    def _parse_completion(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMResponseError(
                f"the model server at {self.url} answered without a chat completion: "
                f"{response.text[:200]!r}",
                hint="is MOMENTS_LLM_BASE_URL an OpenAI-compatible /v1 endpoint?",
            ) from None
        self._record_usage(body)
        return str(content or "")

    def _record_usage(self, body: dict[str, Any]) -> None:
        usage = body.get("usage")
        if isinstance(usage, dict):
            self.last_usage.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            self.last_usage.completion_tokens = int(usage.get("completion_tokens") or 0)


# Helpers --------------------------------------------------------------------------------------


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed ({exc or 'refused'})"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message")))
        if isinstance(error, dict):
            return str(error.get("message") or error)
        if error is not None:
            return str(error)
    return str(body)


def _server_message(response: httpx.Response) -> str:
    try:
        return _error_text(response.json())[:500]
    except ValueError:
        return (response.text or response.reason_phrase or "no message").strip()[:500]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())
