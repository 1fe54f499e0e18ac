"""The real bundled model through LlamaCppChatModel (short generations only)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from copilot.errors import LLMResponseError
from copilot.llm import complete, local
from copilot.llm.local import LlamaCppChatModel
from copilot.types import ChatMessage, GenerationOptions

GREETING = [
    ChatMessage(role="system", content="You are a warm community manager. Answer in one sentence."),
    ChatMessage(role="user", content="A new member named Sam just joined. Welcome them."),
]


def test_streams_a_short_reply(local_chat_model: LlamaCppChatModel) -> None:
    options = GenerationOptions(temperature=0.0, max_tokens=24, seed=1)
    pieces = list(local_chat_model.stream(GREETING, options))
    text = "".join(pieces).strip()
    assert text, "the model produced no text"
    assert len(pieces) >= 3, pieces  # streamed token by token, not in one lump
    usage = local_chat_model.last_usage
    assert usage.completion_tokens == len(pieces) <= 24
    assert usage.prompt_tokens > 10
    assert usage.first_token_seconds is not None
    assert usage.finish_reason in ("stop", "length")


def test_complete_and_stop_sequence(local_chat_model: LlamaCppChatModel) -> None:
    messages = [
        ChatMessage(
            role="user",
            content="Count from 1 to 10 as digits separated by commas. Output only the numbers.",
        )
    ]
    options = GenerationOptions(temperature=0.0, max_tokens=40, seed=1, stop=["6"])
    result = complete(local_chat_model, messages, options)
    assert "4" in result.text, result.text  # it was counting...
    assert "6" not in result.text and "9" not in result.text  # ...and stopped at the stop string
    assert result.model.provider == "local"


def test_threads_share_one_loaded_model_and_do_not_interleave(
    local_chat_model: LlamaCppChatModel, bundled_model_path: Path
) -> None:
    other = LlamaCppChatModel(
        bundled_model_path,
        n_ctx=local_chat_model.n_ctx,
        n_threads=local_chat_model.n_threads,
        name="second handle",
    )
    assert other.load() is local_chat_model.load()  # cached per (path, n_ctx, threads)
    options = GenerationOptions(temperature=0.0, max_tokens=8, seed=3)
    results: list[str] = []
    errors: list[BaseException] = []

    def run(model: LlamaCppChatModel) -> None:
        try:
            results.append(complete(model, GREETING, options).text)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in (local_chat_model, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert len(results) == 2 and all(results)
    assert results[0] == results[1]  # same prompt, greedy: serialised calls agree


def test_prompt_longer_than_context_is_a_clear_error(bundled_model_path: Path) -> None:
    small = LlamaCppChatModel(bundled_model_path, n_ctx=512, n_threads=1, name="tiny ctx")
    long_text = "community " * 700
    with pytest.raises(LLMResponseError, match="MOMENTS_LLM_CONTEXT"):
        list(small.stream([ChatMessage(role="user", content=long_text)], GenerationOptions()))
    key = (str(bundled_model_path), 512, 1, None)
    with local._CACHE_LOCK:
        loaded = local._CACHE.pop(key, None)  # free the extra context for later tests
    if loaded is not None:
        loaded.llama.close()
