"""The learning loop end to end: approve → the worker's learn job → the reply is searchable
as a past interaction in a real (embedded) Chroma index with the fake embedder."""

from __future__ import annotations

from pathlib import Path

from test_store_contract import drafted

from copilot import review
from copilot.embeddings import FakeEmbedder
from copilot.publishing import RecordingPublisher
from copilot.retrieval import open_index
from copilot.settings import load_settings
from copilot.store import open_store
from copilot.types import SnippetKind
from copilot.worker import index_approved, run_worker


def test_an_approved_reply_becomes_a_past_interaction(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", env="test")
    store = open_store(f"sqlite:///{tmp_path / 'moments.db'}")
    index = open_index(settings, embedder=FakeEmbedder())
    draft_id = drafted(store)
    reply = "Sorry about the drop-outs, Sam. Rolling back to LumenOS 3.2 fixes it for now."
    review.approve(store, draft_id, "maya", text=reply)

    stats = run_worker(
        settings,
        once=True,
        store=store,
        drafter=lambda post, options: (_ for _ in ()).throw(AssertionError("no drafting")),
        learner=lambda record: index_approved(index, record),
        publisher=RecordingPublisher(),
        poll=0.01,
    )
    assert stats.learned == 1 and stats.failed == 0
    hits = index.search("hub drop-outs rolling back LumenOS", k=3, kind=SnippetKind.INTERACTION)
    assert any("Rolling back to LumenOS 3.2" in hit.text for hit in hits)
    metadata = next(h.metadata for h in hits if "Rolling back" in h.text)
    assert metadata.get("reviewer") == "maya", metadata
    assert float(metadata.get("edit_ratio", 0)) > 0, metadata
    store.close()
