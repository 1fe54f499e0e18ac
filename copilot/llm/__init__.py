"""LLM adapters behind the `ChatModel` protocol. See `copilot.llm.base`."""

from copilot.llm.base import ChatModel, Completion, complete

__all__ = ["ChatModel", "Completion", "complete"]
