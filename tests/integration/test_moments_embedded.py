"""The moments classifier with its learned layer on the real bundled all-MiniLM-L6-v2.

Posts written for this test (not in the training or blind sets), one clear case per moment, in
communities the labelled set barely covers; plus the calm-question crisis the rules alone miss.
"""

from __future__ import annotations

from datetime import date

import pytest

from copilot.embeddings import SentenceTransformerEmbedder
from copilot.moments import classify_post
from copilot.moments_model import load_model
from copilot.types import Member, MomentType, Post

REGULAR = Member(handle="kestrel", joined_at=date(2023, 5, 2), post_count=240)
NEW = Member(handle="tamsin", joined_at=date(2026, 3, 9), post_count=0)
T = MomentType

POSTS: dict[str, tuple[MomentType, Post]] = {
    "welcome": (
        T.WELCOME,
        Post(
            text="Hello everyone! I'm Tamsin, a beekeeper from Cornwall who just joined. "
            "Looking forward to learning from you all.",
            member=NEW,
        ),
    ),
    "first_question": (
        T.FIRST_QUESTION,
        Post(
            text="Hi, first time here. How do I change the email address on my account?",
            member=NEW,
        ),
    ),
    "complaint": (
        T.COMPLAINT,
        Post(
            text="Third week waiting for my refund and support keeps sending the same canned "
            "reply. Really disappointed with how this has been handled.",
            member=REGULAR,
        ),
    ),
    "conflict": (
        T.CONFLICT,
        Post(
            text="@marlow you clearly didn't read my post before jumping in to mock it. "
            "Stop twisting my words every single thread.",
            member=REGULAR,
        ),
    ),
    "milestone": (
        T.MILESTONE,
        Post(
            text="Our little chess club turned five today! 200 members and counting. "
            "Thank you all for every game.",
            member=REGULAR,
        ),
    ),
    "contribution": (
        T.CONTRIBUTION,
        Post(
            text="I wrote a small script that converts your training logs to CSV so you can "
            "chart them in a spreadsheet. Code and instructions are on my GitHub, feedback "
            "welcome.",
            member=REGULAR,
        ),
    ),
    "calm_crisis": (
        T.CRISIS,
        Post(
            text="Is anyone else seeing other people's order history when they log in? "
            "I can see names and addresses that are not mine.",
            member=REGULAR,
        ),
    ),
}


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_the_shipped_model_loads_and_matches_the_bundled_embedder(
    embedder: SentenceTransformerEmbedder,
) -> None:
    model = load_model()
    assert model.embedder == embedder.name
    assert model.dimension == len(embedder.embed_query("probe"))


@pytest.mark.parametrize("case", sorted(POSTS))
def test_clear_posts_across_moments(case: str, embedder: SentenceTransformerEmbedder) -> None:
    expected, post = POSTS[case]
    moment = classify_post(post, embedder=embedder)
    assert moment.method == "rules+embed", moment.evidence[:2]
    assert moment.type is expected, moment.evidence[:2]
    assert moment.scores[expected.value] == max(moment.scores.values())
