"""`build_chat_model(settings)`: the configured `ChatModel`, from `MOMENTS_LLM_*` settings.

- `local` (default): the bundled GGUF (assembled and verified once) or `MOMENTS_LLM_MODEL_PATH`,
  in-process through llama.cpp. Nothing is loaded until the first generation.
- `openai`: any OpenAI-compatible server at `MOMENTS_LLM_BASE_URL`.
"""

from __future__ import annotations

import os

from copilot.llm.base import ChatModel
from copilot.settings import Settings


def build_chat_model(settings: Settings, *, progress: bool = True) -> ChatModel:
    """The chat model the settings ask for. The local path may assemble the bundled GGUF first."""
    if settings.llm_provider == "openai":
        from copilot.llm.openai import OpenAIChatModel

        assert settings.llm_base_url is not None  # the settings validator requires it
        return OpenAIChatModel(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )

    from copilot.llm.local import LlamaCppChatModel
    from copilot.models import ensure_bundled_model

    path = ensure_bundled_model(settings, progress=progress)
    name = path.stem if settings.llm_model_path is not None else settings.llm_model
    return LlamaCppChatModel(
        path=path,
        n_ctx=settings.llm_context,
        n_threads=settings.llm_threads or os.cpu_count() or 1,
        name=name,
        lock_timeout=settings.llm_timeout,
    )
