"""The LLM option of the moments classifier with the real bundled model, built by the factory."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from copilot.llm.base import ChatModel
from copilot.moments import classify_post_llm
from copilot.types import Member, MomentType, Post, ThreadMessage

POSTS = {
    MomentType.CRISIS: Post(
        title="Cloud down?",
        text="Is Lumen Cloud down? All 3 of my hubs went offline 20 minutes ago and my "
        "neighbours' too. Remote access fails with error 503.",
        member=Member(handle="rob", joined_at=date(2024, 1, 1), post_count=150),
        thread=[ThreadMessage(author="amy", text="Same here, offline in Vienna")],
        created_at=datetime(2026, 3, 10),
    ),
    MomentType.WELCOME: Post(
        text="Hi everyone! I'm Priya from Pune, I just joined and installed my first Lumen Hub. "
        "Happy to be here and looking forward to learning from you all.",
        member=Member(handle="priya_k", joined_at=date(2026, 3, 8), post_count=1),
        created_at=datetime(2026, 3, 10),
    ),
    MomentType.CONTRIBUTION: Post(
        title="Scene export to YAML",
        text="I wrote a Python script that exports all your Lumen scenes to YAML so you can keep "
        "them in git. Source on GitHub under MIT, pull requests welcome!",
        member=Member(handle="yuri", joined_at=date(2023, 3, 3), post_count=190),
        created_at=datetime(2026, 3, 10),
    ),
}


@pytest.fixture(scope="module")
def factory_model(bundled_model_path: Path, test_cache_dir: Path) -> ChatModel:
    """The chat model exactly as the app builds it (`build_chat_model`), on the shared cache."""
    from copilot.llm.factory import build_chat_model
    from copilot.settings import load_settings

    settings = load_settings(data_dir=test_cache_dir, llm_provider="local")
    return build_chat_model(settings, progress=False)


def test_bundled_model_classifies_three_clear_posts(factory_model: ChatModel) -> None:
    results = {expected: classify_post_llm(post, factory_model) for expected, post in POSTS.items()}
    answered = [m for m in results.values() if m.method.startswith("llm:")]
    # The small model must produce usable JSON most of the time; the rules cover the rest.
    assert len(answered) >= 2, [(m.method, m.evidence[:1]) for m in results.values()]
    correct = [expected for expected, m in results.items() if m.type is expected]
    assert len(correct) >= 2, {e.value: (m.type.value, m.evidence[:1]) for e, m in results.items()}
    assert results[MomentType.CRISIS].type is MomentType.CRISIS
    for moment in results.values():
        assert moment.method.startswith("llm:") or moment.method == "llm-fallback"
        assert 0.0 <= moment.confidence <= 1.0
