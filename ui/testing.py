"""Test helpers for the UI: the real API served by uvicorn in a background thread on a free
loopback port (over a SQLite store, a fake model and a fake-embedder index), and seed data.

    stack = start_stack(tmp_path)          # stack.url, stack.keys, stack.store, stack.forum
    draft_id = seed_draft(stack)           # a submitted post drafted by the fake drafter
    ...
    stack.close()
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from api.testing import free_port as free_port  # re-exported: UI tests import it here
from copilot.types import (
    ChatMessage,
    Citation,
    Draft,
    DraftOptions,
    MaskedItem,
    Member,
    ModelInfo,
    Moment,
    MomentType,
    Post,
    PromptRef,
    SnippetKind,
    ThreadMessage,
    Urgency,
)

FORUM_KEY = "discourse-api-key-for-ui-tests"


class ServedApp:
    """A FastAPI app under uvicorn in a daemon thread; `stop()` shuts it down."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        import uvicorn

        self.port = port or free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="ui-test-api")
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test API did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Stack:
    """The API for UI tests: its URL, one key per role, the store, the fake forum."""

    url: str
    keys: dict[str, str]
    store: Any
    settings: Any
    app: Any
    forum: Any
    served: ServedApp
    model: Any
    extras: list[Any] = field(default_factory=list)

    def close(self) -> None:
        self.served.stop()
        publisher = self.app.state.publisher
        if publisher is not None and hasattr(publisher, "close"):
            publisher.close()
        self.forum.close()
        self.store.close()


def start_stack(folder: Path, *, with_index: bool = True, model: Any = None) -> Stack:
    """The real API over SQLite in `folder`, a FakeChatModel, a FakeEmbedder index and a
    loopback Discourse that publications really go to over HTTP."""
    from api.testing import LoopbackDiscourse, build_harness
    from copilot.llm.fake import FakeChatModel
    from copilot.publishing import DiscoursePublisher

    forum = LoopbackDiscourse()
    publisher = DiscoursePublisher(
        forum.url, FORUM_KEY, "moments-bot", timeout=5.0, sleep=lambda _s: None
    )
    fake_model = model or FakeChatModel(default="We are looking into this and will update you.")
    index = None
    if with_index:
        from copilot.embeddings import FakeEmbedder
        from copilot.retrieval import open_index
        from copilot.settings import load_settings

        index_settings = load_settings(env="test", data_dir=folder / "data")
        index = open_index(index_settings, embedder=FakeEmbedder())
    harness = build_harness(
        folder,
        model=fake_model,
        index=index,
        publisher=publisher,
        discourse_url=forum.url,
        discourse_api_key=FORUM_KEY,
    )
    served = ServedApp(harness.app)
    return Stack(
        url=served.url,
        keys=harness.keys,
        store=harness.store,
        settings=harness.settings,
        app=harness.app,
        forum=forum,
        served=served,
        model=fake_model,
    )


def sample_post(**overrides: Any) -> Post:
    values: dict[str, Any] = {
        "title": "Hub offline after the LumenOS 3.3 update",
        "text": "Since updating to 3.3 last night my Hub keeps dropping offline every hour. "
        "I rely on it for my porch lights. Email me at sam@example.com if you need logs.",
        "member": Member(
            handle="samr",
            name="Sam Rivera",
            joined_at=date(2024, 5, 1),
            post_count=42,
            roles=["member"],
            badges=["Early adopter"],
        ),
        "thread": [
            ThreadMessage(author="jo", text="Same here on 3.3, rolled back to 3.2 for now."),
        ],
        "forum": "discourse",
        "forum_post_id": "1842",
        "topic_id": "311",
        "post_number": 1,
        "category": "Support",
    }
    values.update(overrides)
    return Post(**values)


def rich_draft(post: Post, options: DraftOptions) -> Draft:
    """A deterministic drafter with everything the review page shows: citations, variants,
    the real tone card (the scorer is deterministic and fast), masked data, the prompt."""
    from copilot.tone import score_reply

    name = post.member.display_name or "there"
    suffix = f" ({options.instruction})" if options.instruction else ""
    text = (
        f"Hi {name}, I'm sorry the 3.3 update has your Hub dropping offline{suffix}. "
        "Rolling back to 3.2 from Settings > Firmware brings it back while we investigate."
    )
    return Draft(
        moment=Moment(
            type=MomentType.COMPLAINT,
            urgency=Urgency.HIGH,
            sentiment=-0.5,
            sentiment_label="negative",
            signals=["long_time_member"],
        ),
        text=text,
        variants=[
            text,
            f"Thanks for flagging this, {name}. Rolling back to 3.2 is the quickest fix for now.",
        ],
        citations=[
            Citation(
                id="g-1",
                source="knowledge/guidelines/playbook-negative-feedback.md",
                title="Playbook: negative feedback",
                heading="Acknowledge, own, next step",
                kind=SnippetKind.GUIDELINE,
                score=0.82,
                text="Acknowledge the problem in the member's words, own it, give one next step.",
            ),
            Citation(
                id="i-7",
                source="knowledge/interactions/past-replies.jsonl",
                title="Hub reboot loop after 3.2",
                kind=SnippetKind.INTERACTION,
                score=0.64,
                text="Member: my hub reboots. Reply: sorry about that — here is the rollback.",
            ),
        ],
        tone=score_reply(text, post=post.text, member=post.member, moment=MomentType.COMPLAINT),
        prompt=PromptRef(
            name="reply.complaint",
            sha="ab" * 32,
            messages=[
                ChatMessage(role="system", content="You are a community manager for Lumen Makers."),
                ChatMessage(role="user", content="<member_post untrusted>...</member_post>"),
            ],
        ),
        model=ModelInfo(provider="fake", name="ui-test-drafter"),
        masked=[MaskedItem(kind="email", placeholder="[EMAIL_1]", original="sam@example.com")],
    )


def seed_draft(stack: Stack, post: Post | None = None, *, drafter: Any = None) -> int:
    """Submit a post through the store and run the worker once with `drafter` (default
    `rich_draft`); the id of the draft it made. Each call is a new forum post unless `post`
    says otherwise."""
    from copilot.worker import run_worker

    if post is None:
        post = sample_post(forum_post_id=f"ui-{uuid.uuid4().hex[:10]}")
    submitted = stack.store.submit_post(post, source="api-key:1")
    run_worker(
        stack.settings,
        once=True,
        store=stack.store,
        drafter=drafter or rich_draft,
        learner=lambda _record: None,
        publisher=stack.app.state.publisher,
        poll=0.01,
    )
    draft_id = stack.store.draft_for_job(submitted.job_id)
    if draft_id is None:
        raise RuntimeError(f"the worker made no draft for job {submitted.job_id}")
    return int(draft_id)
