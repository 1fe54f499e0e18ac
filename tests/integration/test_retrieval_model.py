"""Retrieval with the real bundled all-MiniLM-L6-v2 and an embedded Chroma.

Uses the repo's default knowledge base (knowledge/) when it is there, and checks recall on a
few labelled queries; the incremental and CLI checks use a small folder of their own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.embeddings import SentenceTransformerEmbedder, build_embedder
from copilot.retrieval import KnowledgeIndex, open_index
from copilot.settings import REPO_ROOT, load_settings, reset_settings
from copilot.types import MomentType, SnippetKind

KNOWLEDGE = REPO_ROOT / "knowledge"
HAS_KB = (KNOWLEDGE / "guidelines").is_dir() and any((KNOWLEDGE / "guidelines").glob("*.md"))


class CountingEmbedder:
    """The real bundled model, counting the texts it embeds."""

    def __init__(self) -> None:
        self.inner = SentenceTransformerEmbedder()
        self.name = self.inner.name
        self.dimension = self.inner.dimension
        self.texts = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.texts += len(texts)
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def default_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeIndex]:
    if not HAS_KB:
        pytest.skip("knowledge/ has no guidelines yet")
    data = tmp_path_factory.mktemp("data")
    index = open_index(load_settings(data_dir=data, knowledge_dir=KNOWLEDGE))
    report = index.index_paths([KNOWLEDGE])
    assert report.problems == [], report.problems
    yield index


def test_bundled_embedder_is_offline_normalised_and_semantic() -> None:
    embedder = build_embedder(load_settings())
    assert isinstance(embedder, SentenceTransformerEmbedder)
    refund, money_back, pairing = embedder.embed(
        [
            "How do I get a refund for my order?",
            "I want my money back for the hub I bought",
            "The bulb will not pair with the hub over Zigbee",
        ]
    )
    assert len(refund) == embedder.dimension == 384
    assert math.isclose(sum(x * x for x in refund), 1.0, rel_tol=1e-4)

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cos(refund, money_back) > cos(refund, pairing) + 0.1
    # one thread for queries, torch's default for batches: equal up to float rounding
    assert embedder.embed_query("refund") == pytest.approx(embedder.embed(["refund"])[0], abs=1e-5)


@pytest.mark.parametrize(
    ("query", "kind", "expect"),
    [
        (
            "member angry their hub bricked after an overnight firmware update",
            SnippetKind.GUIDELINE,
            "playbook-negative-feedback.md",
        ),
        ("how do we announce an outage on social media", SnippetKind.GUIDELINE, "crisis"),
        (
            "two regulars trading insults in a thread about Zigbee versus Wi-Fi",
            SnippetKind.GUIDELINE,
            "playbook-member-conflict.md",
        ),
        (
            "someone released a plugin, how do we thank them properly",
            SnippetKind.GUIDELINE,
            "playbook-recognising-contributions.md",
        ),
    ],
)
def test_default_knowledge_base_recall(
    default_index: KnowledgeIndex, query: str, kind: SnippetKind, expect: str
) -> None:
    hits = default_index.search(query, k=5, kind=kind)
    assert len(hits) == 5
    assert any(expect in Path(h.source).name for h in hits), [h.source for h in hits]
    assert all(0.0 <= h.score <= 1.0 for h in hits)


def test_default_knowledge_base_interactions_and_moments(default_index: KnowledgeIndex) -> None:
    stats = default_index.stats()
    assert stats.guidelines > 20 and stats.interactions > 10
    hits = default_index.search(
        "my hub keeps rebooting since the update and nobody answers", k=5, moment="complaint"
    )
    assert hits and {h.moment for h in hits} == {MomentType.COMPLAINT}
    examples = default_index.search("welcome a new member", k=3, kind=SnippetKind.INTERACTION)
    assert all(h.metadata.get("interaction_id") for h in examples)
    assert all(h.text.startswith("Member post:") for h in examples)


def test_incremental_reindex_with_the_real_model(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "refunds.md").write_text(
        "# Refund policy\n\n## How\n\nRefunds go through the store's support ticket within 30 "
        "days of delivery.\n\n## Who decides\n\nThe store team decides, never a moderator.\n",
        encoding="utf-8",
    )
    (kb / "pairing.md").write_text(
        "# Pairing\n\nHold the button for five seconds until the light blinks blue.\n", "utf-8"
    )
    embedder = CountingEmbedder()
    index = open_index(load_settings(data_dir=tmp_path / "data"), embedder=embedder)
    assert index.index_paths([kb]).chunks_added == 3
    assert embedder.texts == 3
    assert index.index_paths([kb]).chunks_embedded == 0 and embedder.texts == 3
    (kb / "pairing.md").unlink()
    report = index.index_paths([kb])
    assert report.sources_removed == ["pairing.md"]
    top = index.search("can a moderator promise me my money back?", k=1)[0]
    assert top.source == "refunds.md" and top.heading == "Refund policy > Who decides"


def test_cli_index_and_search_with_the_real_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot.cli import app

    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "welcome.md").write_text(
        "# Welcoming newcomers\nMoment: welcome\n\n## Do\n\nGreet them by name and point to the "
        "getting started guide.\n",
        encoding="utf-8",
    )
    for key in list(__import__("os").environ):
        if key.startswith("MOMENTS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MOMENTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MOMENTS_KNOWLEDGE_DIR", str(kb))
    reset_settings()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["index"]).exit_code == 0
        result = runner.invoke(app, ["search", "say hello to a new member", "--json"])
        assert result.exit_code == 0, result.output
        hits = json.loads(result.output)
        assert hits[0]["source"] == "welcome.md" and hits[0]["moment"] == "welcome"
        assert hits[0]["score"] > 0.3
    finally:
        reset_settings()
