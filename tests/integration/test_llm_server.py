"""OpenAIChatModel against a real OpenAI-compatible server (llama_cpp.server on the bundled GGUF)."""

from __future__ import annotations

import socket

import httpx
import pytest

from copilot.errors import LLMUnavailableError
from copilot.llm import complete
from copilot.llm.openai import OpenAIChatModel
from copilot.types import ChatMessage, GenerationOptions

BUNDLED_MODEL_NAME = "qwen2.5-coder-1.5b"  # the --model_alias of the llama_server_url fixture

MESSAGES = [
    ChatMessage(role="system", content="You are a warm community manager. Answer in one sentence."),
    ChatMessage(role="user", content="Thank Priya for fixing the MQTT plugin docs."),
]


def test_server_lists_the_bundled_model(llama_server_url: str) -> None:
    models = httpx.get(f"{llama_server_url}/models", timeout=10).json()
    assert BUNDLED_MODEL_NAME in [m["id"] for m in models["data"]]


def test_streams_through_the_openai_adapter(llama_server_url: str) -> None:
    model = OpenAIChatModel(llama_server_url, BUNDLED_MODEL_NAME, timeout=120, max_retries=1)
    options = GenerationOptions(temperature=0.0, max_tokens=24, seed=1)
    pieces = list(model.stream(MESSAGES, options))
    assert "".join(pieces).strip(), "empty reply"
    assert len(pieces) >= 3, pieces
    assert model.last_usage.attempts == 1


def test_non_streaming_generate(llama_server_url: str) -> None:
    model = OpenAIChatModel(llama_server_url, BUNDLED_MODEL_NAME, timeout=120, max_retries=0)
    options = GenerationOptions(temperature=0.0, max_tokens=16, seed=1)
    text = model.generate(MESSAGES, options)
    assert text.strip()
    assert model.last_usage.prompt_tokens > 10
    assert 0 < model.last_usage.completion_tokens <= 16
    # Same greedy request through the stream gives the same text.
    assert complete(model, MESSAGES, options).text == text.strip()


def test_unreachable_port_is_a_clear_error() -> None:
    with socket.socket() as sock:  # bind without listen: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}/v1"
        _assert_unreachable(url)


def _assert_unreachable(url: str) -> None:
    sleeps: list[float] = []
    model = OpenAIChatModel(url, "m", timeout=5, max_retries=2, sleep=sleeps.append)
    with pytest.raises(LLMUnavailableError) as err:
        list(model.stream(MESSAGES, GenerationOptions(max_tokens=16)))
    message = str(err.value)
    assert f"cannot reach the model server at {url}/chat/completions after 3 attempts" in message
    assert "MOMENTS_LLM_BASE_URL" in message
    assert len(sleeps) == 2
