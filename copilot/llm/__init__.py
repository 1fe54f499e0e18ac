"""LLM adapters behind the `ChatModel` protocol. See `copilot.llm.base`.

`FakeChatModel` is cheap to import; the real adapters load lazily through their modules
(`copilot.llm.local`, `copilot.llm.openai`) or `build_chat_model()` in `copilot.llm.factory`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from copilot.llm.base import ChatModel, Completion, complete
from copilot.llm.fake import FakeCall, FakeChatModel

if TYPE_CHECKING:
    from copilot.llm.factory import build_chat_model
    from copilot.llm.local import LlamaCppChatModel
    from copilot.llm.openai import OpenAIChatModel

__all__ = [
    "ChatModel",
    "Completion",
    "FakeCall",
    "FakeChatModel",
    "LlamaCppChatModel",
    "OpenAIChatModel",
    "build_chat_model",
    "complete",
]

_LAZY = {
    "LlamaCppChatModel": "copilot.llm.local",
    "OpenAIChatModel": "copilot.llm.openai",
    "build_chat_model": "copilot.llm.factory",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'copilot.llm' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
