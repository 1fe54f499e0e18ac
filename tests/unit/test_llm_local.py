"""LlamaCppChatModel and the factory, without loading a real model (the guard forbids it here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot import models
from copilot.guard import RealModelCallForbidden
from copilot.llm import local
from copilot.llm.factory import build_chat_model
from copilot.llm.local import LlamaCppChatModel
from copilot.llm.openai import OpenAIChatModel
from copilot.settings import load_settings
from copilot.types import ChatMessage, GenerationOptions

MESSAGES = [ChatMessage(role="user", content="Hi")]


def test_constructing_is_free_but_using_is_forbidden_in_unit_tests(tmp_path: Path) -> None:
    model = LlamaCppChatModel(tmp_path / "model.gguf", n_ctx=1024, n_threads=1, name="q")
    assert (model.provider, model.name, model.local) == ("local", "q", True)
    with pytest.raises(RealModelCallForbidden):
        model.stream(MESSAGES, GenerationOptions())
    with pytest.raises(RealModelCallForbidden):
        model.load()
    assert local._CACHE == {}


def test_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    assert LlamaCppChatModel(tmp_path / "my-model.Q4_K_M.gguf").name == "my-model.Q4_K_M"


def test_factory_local_uses_the_prepared_model(
    settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = tmp_path / "qwen.gguf"
    monkeypatch.setattr(models, "ensure_bundled_model", lambda settings, progress=True: gguf)
    settings = load_settings(llm_context=2048, llm_threads=2)
    model = build_chat_model(settings)
    assert isinstance(model, LlamaCppChatModel)
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
