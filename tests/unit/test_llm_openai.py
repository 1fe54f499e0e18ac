"""OpenAIChatModel against scripted servers (httpx.MockTransport): SSE, retries, errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from copilot.errors import LLMResponseError, LLMUnavailableError
from copilot.guard import RealModelCallForbidden
from copilot.llm.base import complete
from copilot.llm.openai import OpenAIChatModel
from copilot.types import ChatMessage, GenerationOptions

URL = "http://llm.test/v1"
MESSAGES = [
    ChatMessage(role="system", content="Be kind."),
    ChatMessage(role="user", content="Hello?"),
]
OPTIONS = GenerationOptions(temperature=0.2, max_tokens=32, seed=7, stop=["\n\n"])


def sse(*pieces: str, done: bool = True) -> bytes:
    lines = [": keep-alive\n\n"]
    lines.append(
        "data: " + json.dumps({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}) + "\n\n"
    )
    for piece in pieces:
        event = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        lines.append("data: " + json.dumps(event) + "\n\n")
    lines.append(
        "data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    )
    lines.append("\n\n")
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def stream_response(*pieces: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(*pieces))


class Server:
    """A scripted server: one handler per attempt; records requests."""

    def __init__(self, *handlers: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handlers = list(handlers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return handler(request)


def make(
    server: Server, *, max_retries: int = 3, api_key: str | None = None
) -> tuple[OpenAIChatModel, list[float]]:
    sleeps: list[float] = []
    model = OpenAIChatModel(
        URL,
        "qwen-test",
        api_key=api_key,
        timeout=5,
        max_retries=max_retries,
        transport=httpx.MockTransport(server),
        sleep=sleeps.append,
    )
    return model, sleeps


def test_streams_sse_pieces_in_order_and_sends_options() -> None:
    server = Server(lambda r: stream_response("Hi", " there", "!"))
    model, sleeps = make(server, api_key="sk-test")
    pieces = list(model.stream(MESSAGES, OPTIONS))
    assert pieces == ["Hi", " there", "!"]
    assert sleeps == []
    request = server.requests[0]
    assert str(request.url) == f"{URL}/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = json.loads(request.content)
    assert body["model"] == "qwen-test"
    assert body["stream"] is True
    assert body["messages"] == [m.model_dump() for m in MESSAGES]
    assert body["max_tokens"] == 32 and body["temperature"] == 0.2 and body["seed"] == 7
    assert body["stop"] == ["\n\n"]
    assert model.local is False and model.provider == "openai"


def test_no_authorization_header_without_key() -> None:
    server = Server(lambda r: stream_response("ok"))
    model, _ = make(server)
    assert list(model.stream(MESSAGES, GenerationOptions())) == ["ok"]
    assert "authorization" not in server.requests[0].headers
    body = json.loads(server.requests[0].content)
    assert "seed" not in body and "stop" not in body


def test_complete_joins_the_stream() -> None:
    model, _ = make(Server(lambda r: stream_response("Welcome", " aboard")))
    result = complete(model, MESSAGES, OPTIONS)
    assert result.text == "Welcome aboard"
    assert result.pieces == 2
    assert result.model.provider == "openai"


def test_stream_without_done_marker_still_ends() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=sse("a", "b", done=False)
        )

    model, _ = make(Server(handler))
    assert "".join(model.stream(MESSAGES, OPTIONS)) == "ab"


def test_server_that_ignores_stream_flag_is_understood() -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": "whole reply"}}]}
    model, _ = make(Server(lambda r: httpx.Response(200, json=body)))
    assert list(model.stream(MESSAGES, OPTIONS)) == ["whole reply"]


def test_non_streaming_generate_and_usage() -> None:
    body = {
        "choices": [{"message": {"role": "assistant", "content": "Hello Sam"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3},
    }
    server = Server(lambda r: httpx.Response(200, json=body))
    model, _ = make(server)
    assert model.generate(MESSAGES, OPTIONS) == "Hello Sam"
    assert json.loads(server.requests[0].content)["stream"] is False
    assert (model.last_usage.prompt_tokens, model.last_usage.completion_tokens) == (12, 3)


def test_retries_429_then_succeeds_respecting_retry_after() -> None:
    server = Server(
        lambda r: httpx.Response(429, headers={"retry-after": "2"}, json={"error": "slow down"}),
        lambda r: httpx.Response(429, json={"error": {"message": "slow down"}}),
        lambda r: stream_response("finally"),
    )
    model, sleeps = make(server, max_retries=3)
    assert list(model.stream(MESSAGES, OPTIONS)) == ["finally"]
    assert len(server.requests) == 3
    assert model.last_usage.attempts == 3
    assert sleeps[0] == 2.0  # Retry-After honoured
    assert len(sleeps) == 2 and 0 < sleeps[1] <= 8.0 * 1.5


def test_retry_after_is_capped() -> None:
    server = Server(
        lambda r: httpx.Response(503, headers={"retry-after": "3600"}),
        lambda r: stream_response("ok"),
    )
    model, sleeps = make(server)
    assert list(model.stream(MESSAGES, OPTIONS)) == ["ok"]
    assert sleeps == [30.0]


def test_backoff_grows_exponentially() -> None:
    server = Server(lambda r: httpx.Response(500, text="boom"))
    model, sleeps = make(server, max_retries=4)
    with pytest.raises(LLMUnavailableError):
        list(model.stream(MESSAGES, OPTIONS))
    assert len(sleeps) == 4
    for attempt, delay in enumerate(sleeps):
        base = min(0.5 * 2**attempt, 8.0)
        assert base <= delay <= base * 1.5


def test_5xx_retries_exhausted_is_unavailable() -> None:
    server = Server(lambda r: httpx.Response(502, text="bad gateway"))
    model, sleeps = make(server, max_retries=2)
    with pytest.raises(LLMUnavailableError) as err:
        list(model.stream(MESSAGES, OPTIONS))
    assert len(server.requests) == 3
    assert len(sleeps) == 2
    message = str(err.value)
    assert f"{URL}/chat/completions" in message
    assert "after 3 attempts" in message
    assert "HTTP 502" in message and "bad gateway" in message
    assert "MOMENTS_LLM_BASE_URL" in message


def test_400_is_a_response_error_with_the_server_message_and_no_retry() -> None:
    server = Server(
        lambda r: httpx.Response(
            400, json={"error": {"message": "max_tokens is too large: 99999", "type": "invalid"}}
        )
    )
    model, sleeps = make(server)
    with pytest.raises(LLMResponseError) as err:
        list(model.stream(MESSAGES, OPTIONS))
    assert "max_tokens is too large: 99999" in str(err.value)
    assert "HTTP 400" in str(err.value)
    assert len(server.requests) == 1 and sleeps == []


def test_401_hints_at_the_api_key() -> None:
    model, _ = make(Server(lambda r: httpx.Response(401, json={"detail": "bad key"})))
    with pytest.raises(LLMResponseError, match="MOMENTS_LLM_API_KEY"):
        list(model.stream(MESSAGES, OPTIONS))


def test_connect_error_names_the_url_after_retries() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    server = Server(refuse)
    model, sleeps = make(server, max_retries=1)
    with pytest.raises(LLMUnavailableError) as err:
        list(model.stream(MESSAGES, OPTIONS))
    message = str(err.value)
    assert message.startswith(f"cannot reach the model server at {URL}/chat/completions")
    assert "after 2 attempts" in message and "Connection refused" in message
    assert "Is it running?" in message
    assert len(server.requests) == 2 and len(sleeps) == 1


def test_timeout_before_first_piece_is_retried() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    server = Server(slow, lambda r: stream_response("late but fine"))
    model, _ = make(server)
    assert list(model.stream(MESSAGES, OPTIONS)) == ["late but fine"]
    assert len(server.requests) == 2


class _BreakingStream(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield sse("first", " second", done=False)
        raise httpx.ReadError("connection reset")


def test_no_retry_after_the_stream_started() -> None:
    server = Server(
        lambda r: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_BreakingStream()
        )
    )
    model, sleeps = make(server)
    received: list[str] = []
    with pytest.raises(LLMUnavailableError, match="broke mid-reply"):
        for piece in model.stream(MESSAGES, OPTIONS):
            received.append(piece)
    assert received == ["first", " second"]
    assert len(server.requests) == 1 and sleeps == []


def test_error_event_mid_stream_is_a_response_error() -> None:
    body = b'data: {"error": {"message": "context length exceeded"}}\n\n'
    model, _ = make(
        Server(
            lambda r: httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=body
            )
        )
    )
    with pytest.raises(LLMResponseError, match="context length exceeded"):
        list(model.stream(MESSAGES, OPTIONS))


def test_stream_without_any_event_is_a_response_error() -> None:
    model, _ = make(Server(lambda r: httpx.Response(200, text="<html>a login page</html>")))
    with pytest.raises(LLMResponseError, match="without server-sent events"):
        list(model.stream(MESSAGES, OPTIONS))


def test_garbage_body_is_a_response_error() -> None:
    model, _ = make(Server(lambda r: httpx.Response(200, text="<html>not an API</html>")))
    with pytest.raises(LLMResponseError, match="without a chat completion"):
        model.generate(MESSAGES, OPTIONS)


def test_real_server_call_is_forbidden_in_unit_tests() -> None:
    model = OpenAIChatModel("http://127.0.0.1:9/v1", "m", max_retries=0)
    with pytest.raises(RealModelCallForbidden):
        model.stream(MESSAGES, OPTIONS)
