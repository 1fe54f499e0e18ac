"""`FakeChatModel`: a scripted chat model for tests (simonw/llm's mock model, in our shape).

    fake = FakeChatModel(["Welcome aboard, Sam!"])
    fake.enqueue("A second reply", LLMUnavailableError("boom"))   # an exception is raised on its turn
    text = complete(fake, messages, GenerationOptions()).text
    fake.history[0].messages, fake.history[0].options            # what it was sent

Each call to `stream()` takes the next queued reply and yields it word by word (whitespace kept,
so the joined pieces equal the reply). An empty queue raises `LLMError` naming the call, unless
the fake was built with `default=`. It never touches a real model, so unit tests may use it freely.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from copilot.errors import LLMError
from copilot.types import ChatMessage, GenerationOptions

_PIECES = re.compile(r"\s*\S+|\s+$")

Reply = str | BaseException


class FakeCall(NamedTuple):
    """One call the fake received: the messages and options, as sent."""

    messages: list[ChatMessage]
    options: GenerationOptions


def split_pieces(text: str) -> list[str]:
    """Split text into word pieces, each with its leading whitespace; `"".join()` restores it."""
    return _PIECES.findall(text)


class FakeChatModel:
    """A `ChatModel` that replays queued replies and records every call in `history`."""

    provider = "fake"
    local = True

    def __init__(
        self,
        replies: Sequence[Reply] | None = None,
        name: str = "fake",
        *,
        default: str | None = None,
    ) -> None:
        self.name = name
        self.default = default
        self._queue: deque[Reply] = deque(replies or ())
        self.history: list[FakeCall] = []

    def enqueue(self, *replies: Reply) -> FakeChatModel:
        """Queue replies (strings, or exceptions to raise) for the next calls; returns self."""
        self._queue.extend(replies)
        return self

    @property
    def pending(self) -> int:
        """How many queued replies are left."""
        return len(self._queue)

    @property
    def last(self) -> FakeCall:
        """The most recent call (raises `LLMError` if there was none)."""
        if not self.history:
            raise LLMError("FakeChatModel has not been called yet")
        return self.history[-1]

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        # Record and dequeue eagerly (at call time, not first iteration), like a real request.
        self.history.append(FakeCall(list(messages), options.model_copy()))
        reply = self._next_reply()
        return iter(split_pieces(reply))

    def _next_reply(self) -> str:
        if self._queue:
            reply = self._queue.popleft()
        elif self.default is not None:
            reply = self.default
        else:
            raise LLMError(
                f"FakeChatModel '{self.name}' has no reply queued for call #{len(self.history)}",
                hint="queue one with fake.enqueue('...') or build it with FakeChatModel(default='...')",
            )
        if isinstance(reply, BaseException):
            raise reply
        return reply
