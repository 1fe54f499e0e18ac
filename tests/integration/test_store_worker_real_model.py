"""The worker with its default drafter: the real bundled model and the real knowledge index,
one post from the queue to a pending draft in a SQLite (WAL) store."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.publishing import RecordingPublisher
from copilot.settings import load_settings
from copilot.store import open_store
from copilot.types import Member, Post
from copilot.worker import run_worker


@pytest.mark.slow
def test_worker_drafts_a_queued_post_with_the_real_model(
    bundled_model_path: Path, tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", llm_model_path=bundled_model_path, llm_max_tokens=160
    )
    store = open_store(settings)
    store.submit_post(
        Post(
            text="Since the LumenOS 3.3 update my hub drops off the network every evening. "
            "I've restarted it three times. Really frustrating.",
            title="Hub keeps going offline after 3.3",
            member=Member(handle="sam", name="Sam", post_count=2),
            forum="discourse",
            forum_post_id="501",
            topic_id="77",
        ),
        source="test",
    )
    stats = run_worker(
        settings, once=True, publisher=RecordingPublisher(), store=store, handle_signals=False
    )
    assert stats.drafted == 1, stats.errors
    queue = store.list_queue()
    assert len(queue) == 1
    record = store.get_draft(queue[0].id)
    assert len(record.text.split()) >= 10
    assert record.draft.model.provider == "local"
    assert record.draft.prompt.sha and record.draft.prompt.messages
    store.close()
