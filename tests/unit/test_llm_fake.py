"""FakeChatModel: queue, history, defaults, scripted failures."""

from __future__ import annotations

import pytest

from copilot.errors import LLMError, LLMUnavailableError
from copilot.llm import ChatModel, FakeChatModel, complete
from copilot.llm.fake import split_pieces
from copilot.types import ChatMessage, GenerationOptions

MESSAGES = [ChatMessage(role="user", content="Hi")]


def test_is_a_chat_model() -> None:
    fake = FakeChatModel()
    assert isinstance(fake, ChatModel)
    assert (fake.provider, fake.name, fake.local) == ("fake", "fake", True)


def test_replies_in_queue_order_and_records_history() -> None:
    fake = FakeChatModel(["first reply"], name="scripted")
    fake.enqueue("second  reply\nwith lines ")
    opts = GenerationOptions(max_tokens=50, seed=3)
    assert complete(fake, MESSAGES, opts).text == "first reply"
    pieces = list(fake.stream([*MESSAGES, ChatMessage(role="assistant", content="x")], opts))
    assert "".join(pieces) == "second  reply\nwith lines "
    assert pieces == ["second", "  reply", "\nwith", " lines", " "]  # word by word
    assert len(fake.history) == 2
    messages, options = fake.history[0]
    assert messages == MESSAGES and options.seed == 3
    assert fake.last.messages[-1].content == "x"
    assert fake.pending == 0


def test_history_keeps_a_copy_of_what_was_sent() -> None:
    fake = FakeChatModel(["ok"])
    sent = list(MESSAGES)
    list(fake.stream(sent, GenerationOptions()))
    sent.append(ChatMessage(role="user", content="later"))
    assert fake.history[0].messages == MESSAGES


def test_empty_queue_raises_a_clear_error() -> None:
    fake = FakeChatModel()
    with pytest.raises(LLMError, match="no reply queued for call #1"):
        fake.stream(MESSAGES, GenerationOptions())
    assert len(fake.history) == 1  # the call is still recorded


def test_default_reply_when_queue_is_empty() -> None:
    fake = FakeChatModel(["queued"], default="fallback")
    opts = GenerationOptions()
    assert complete(fake, MESSAGES, opts).text == "queued"
    assert complete(fake, MESSAGES, opts).text == "fallback"
    assert complete(fake, MESSAGES, opts).text == "fallback"


def test_queued_exception_is_raised_on_its_turn() -> None:
    fake = FakeChatModel().enqueue(LLMUnavailableError("server down"), "recovered")
    with pytest.raises(LLMUnavailableError, match="server down"):
        complete(fake, MESSAGES, GenerationOptions())
    assert complete(fake, MESSAGES, GenerationOptions()).text == "recovered"


def test_last_without_calls_raises() -> None:
    with pytest.raises(LLMError):
        _ = FakeChatModel().last


@pytest.mark.parametrize("text", ["", "one", "  lead and trail  ", "a\n\nb\tc"])
def test_split_pieces_round_trips(text: str) -> None:
    assert "".join(split_pieces(text)) == text
