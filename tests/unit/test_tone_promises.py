"""Promises a draft may not make, found in real bundled-model output, and the official routes
that must not be mistaken for them."""

from __future__ import annotations

import pytest

from copilot.tone import score_reply


@pytest.mark.parametrize(
    "text",
    [
        # verbatim from a bundled-model draft for a firmware complaint
        "We're working on fixing this issue as soon as possible, and we'll provide you with a "
        "replacement or refund once it's available.",
        "We will refund you in full.",
        "We will compensate everyone affected.",
        "I'll get you a free replacement hub.",
        "We can offer you a full refund right away.",
    ],
)
def test_refund_and_replacement_promises_are_flagged(text: str) -> None:
    card = score_reply(text)
    assert card.scores["over_promising"].score >= 0.5
    assert any(f.code == "over_promising" for f in card.flags)


@pytest.mark.parametrize(
    "text",
    [
        "I can point you to the refund form: open a store ticket within 30 days of delivery.",
        "We can offer a refund process through the store ticket; the store team decides.",
        "The store team can look at a replacement request through your ticket.",
    ],
)
def test_pointing_to_the_official_route_is_not_a_promise(text: str) -> None:
    card = score_reply(text)
    assert not any(f.code == "over_promising" for f in card.flags)


@pytest.mark.parametrize(
    "text",
    [
        # verbatim from a bundled-model draft: the staff member's own follow-up, not an outcome
        "I'll check back in this thread tomorrow morning to see how it went.",
        "I'll report back here tomorrow with what the firmware team says.",
    ],
)
def test_a_staff_follow_up_time_is_not_a_promised_outcome(text: str) -> None:
    card = score_reply(text)
    assert not any(f.code == "over_promising" for f in card.flags)


def test_the_service_being_back_at_a_time_is_still_a_promise() -> None:
    card = score_reply("Cloud sync will be back tomorrow morning.")
    assert any(f.code == "over_promising" for f in card.flags)
