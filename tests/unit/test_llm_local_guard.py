"""LlamaCppChatModel and the factory, without loading a real model (the guard forbids it here)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot import models
from copilot.errors import LLMResponseError, LLMUnavailableError
from copilot.guard import RealModelCallForbidden
from copilot.llm import local
from copilot.llm.factory import build_chat_model
from copilot.llm.local import LlamaCppChatModel
from copilot.llm.openai import OpenAIChatModel
from copilot.settings import load_settings
from copilot.types import ChatMessage, GenerationOptions

MESSAGES = [ChatMessage(role="user", content="Hi")]


def test_constructing_is_free_but_using_is_forbidden_in_unit_tests(tmp_path: Path) -> None:
    loaded_before = dict(local._CACHE)  # integration tests in the same run may have loaded one
    model = LlamaCppChatModel(tmp_path / "model.gguf", n_ctx=1024, n_threads=1, name="q")
    assert (model.provider, model.name, model.local) == ("local", "q", True)
    with pytest.raises(RealModelCallForbidden):
        model.stream(MESSAGES, GenerationOptions())
    with pytest.raises(RealModelCallForbidden):
        model.load()
    assert local._CACHE == loaded_before  # nothing was loaded by this test


def test_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    assert LlamaCppChatModel(tmp_path / "my-model.Q4_K_M.gguf").name == "my-model.Q4_K_M"


def test_factory_local_uses_the_prepared_model(
    settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = tmp_path / "qwen.gguf"
    monkeypatch.setattr(models, "ensure_bundled_model", lambda settings, progress=True: gguf)
    settings = load_settings(llm_context=2048, llm_threads=2, llm_timeout=42)
    model = build_chat_model(settings)
    assert isinstance(model, LlamaCppChatModel)
    assert model.lock_timeout == 42
    assert (model.path, model.n_ctx, model.n_threads, model.name) == (
        gguf,
        2048,
        2,
        "qwen2.5-coder-1.5b",
    )


def test_factory_local_custom_path_named_after_file(settings_env: Path, tmp_path: Path) -> None:
    gguf = tmp_path / "mistral-7b-instruct.gguf"
    gguf.write_bytes(b"GGUF....")
    model = build_chat_model(load_settings(llm_model_path=gguf))
    assert isinstance(model, LlamaCppChatModel)
    assert model.name == "mistral-7b-instruct"
    assert model.n_threads >= 1


def test_factory_openai(settings_env: Path) -> None:
    settings = load_settings(
        llm_provider="openai",
        llm_base_url="http://127.0.0.1:8080/v1/",
        llm_model="gpt-4o-mini",
        llm_api_key="sk-x",
        llm_timeout=9,
        llm_max_retries=1,
    )
    model = build_chat_model(settings)
    assert isinstance(model, OpenAIChatModel)
    assert model.url == "http://127.0.0.1:8080/v1/chat/completions"
    assert (model.name, model.api_key, model.max_retries, model.local) == (
        "gpt-4o-mini",
        "sk-x",
        1,
        False,
    )
    assert model.timeout.read == 9


# The adapter's plumbing, on a stub llama_cpp.Llama placed in the process cache -----------------


class StubLlama:
    """Mimics llama_cpp.Llama.create_chat_completion(stream=True); no weights involved."""

    def __init__(self, pieces: list[str], *, error: Exception | None = None) -> None:
        self.pieces = pieces
        self.error = error
        self.calls: list[dict[str, Any]] = []
        self.n_tokens = 0
        self.closed_early = False

    def create_chat_completion(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(kwargs)
        return self._chunks()

    def _chunks(self) -> Iterator[dict[str, Any]]:
        if self.error is not None:
            raise self.error
        self.n_tokens = 20
        yield {"choices": [{"delta": {"role": "assistant"}, "finish_reason": None}]}
        try:
            for piece in self.pieces:
                self.n_tokens += 1
                yield {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
        except GeneratorExit:
            self.closed_early = True
            raise
        yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}

    def close(self) -> None:
        pass


@pytest.fixture
def stub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LlamaCppChatModel, StubLlama]]:
    from copilot import guard

    monkeypatch.setattr(guard, "ALLOW_REAL_MODELS", True)  # nothing real: the stub is cached
    path = tmp_path / "stub.gguf"
    model = LlamaCppChatModel(path, n_ctx=1024, n_threads=1, name="stub", lock_timeout=0.2)
    fake = StubLlama(["Hi", " Sam", "!"])
    key = (str(path), 1024, 1, None)
    loaded = local._Loaded(llama=fake, lock=threading.Lock(), load_seconds=0.0)  # type: ignore[arg-type]
    local._CACHE[key] = loaded
    yield model, fake
    local._CACHE.pop(key, None)


def test_stream_maps_options_and_counts_tokens(stub: tuple[LlamaCppChatModel, StubLlama]) -> None:
    model, fake = stub
    options = GenerationOptions(temperature=0.1, top_p=0.8, max_tokens=12, seed=5, stop=["\n"])
    assert list(model.stream(MESSAGES, options)) == ["Hi", " Sam", "!"]
    call = fake.calls[0]
    assert call["messages"] == [{"role": "user", "content": "Hi"}]
    assert (call["temperature"], call["top_p"], call["max_tokens"], call["seed"]) == (
        0.1,
        0.8,
        12,
        5,
    )
    assert call["stop"] == ["\n"] and call["stream"] is True
    usage = model.last_usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.finish_reason) == (20, 3, "stop")
    assert list(model.stream(MESSAGES, GenerationOptions()))  # lock released after the stream
    assert fake.calls[1]["stop"] is None


def test_stopping_early_closes_the_engine_and_frees_the_lock(
    stub: tuple[LlamaCppChatModel, StubLlama],
) -> None:
    model, fake = stub
    stream = model.stream(MESSAGES, GenerationOptions())
    assert next(stream) == "Hi"
    stream.close()  # type: ignore[attr-defined]
    assert fake.closed_early
    assert list(model.stream(MESSAGES, GenerationOptions())) == ["Hi", " Sam", "!"]


def test_busy_model_times_out_with_a_clear_error(
    stub: tuple[LlamaCppChatModel, StubLlama],
) -> None:
    model, _ = stub
    first = model.stream(MESSAGES, GenerationOptions())
    next(first)  # holds the lock mid-stream
    with pytest.raises(LLMUnavailableError, match="busy with another generation"):
        list(model.stream(MESSAGES, GenerationOptions()))
    first.close()  # type: ignore[attr-defined]


def test_context_overflow_becomes_a_response_error(
    stub: tuple[LlamaCppChatModel, StubLlama],
) -> None:
    model, fake = stub
    fake.error = ValueError("Requested tokens (5000) exceed context window of 1024")
    with pytest.raises(LLMResponseError, match="exceed context window") as err:
        list(model.stream(MESSAGES, GenerationOptions()))
    assert "MOMENTS_LLM_CONTEXT" in str(err.value)
    fake.error = None
    assert list(model.stream(MESSAGES, GenerationOptions()))  # the lock was released
