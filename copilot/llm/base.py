"""The `ChatModel` role: one method to implement, `stream()`.

Adapters: `LlamaCppChatModel` (in-process, the bundled GGUF; `copilot.llm.local`),
`OpenAIChatModel` (any OpenAI-compatible server; `copilot.llm.openai`) and `FakeChatModel`
(scripted, for tests; `copilot.llm.fake`). `complete()` turns a stream into a `Completion`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from copilot.types import ChatMessage, GenerationOptions, ModelInfo


@runtime_checkable
class ChatModel(Protocol):
    """A chat model. `local` is True when text never leaves this machine (no masking needed)."""

    provider: str
    name: str
    local: bool

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        """Yield the reply as text pieces (tokens or chunks), in order."""
        ...


@dataclass
class Completion:
    text: str
    model: ModelInfo
    pieces: int = 0  # streamed pieces; one per token for the local and OpenAI adapters
    seconds: float = 0.0
    first_piece_seconds: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


def complete(
    model: ChatModel, messages: Sequence[ChatMessage], options: GenerationOptions
) -> Completion:
    """Run `model.stream()` to the end and time it."""
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    for piece in model.stream(messages, options):
        if first is None:
            first = time.perf_counter() - started
        parts.append(piece)
    return Completion(
        text="".join(parts).strip(),
        model=ModelInfo(provider=model.provider, name=model.name, options=options),
        pieces=len(parts),
        seconds=time.perf_counter() - started,
        first_piece_seconds=first,
    )
