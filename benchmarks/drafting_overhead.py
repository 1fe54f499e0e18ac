"""Drafting overhead: wall time of `draft_reply` against raw llama.cpp generating the same
tokens from the same rendered prompt (temperature 0, so both produce the same text).

    .venv/bin/python benchmarks/drafting_overhead.py [--quick]

Prints, per post: draft seconds, raw seconds, ratio, tokens, stage timings; then the total ratio
(goal ≤ 1.10), time to first streamed token and the model's tokens/s on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from copilot.drafting import draft_reply, stream_reply  # noqa: E402
from copilot.llm.factory import build_chat_model  # noqa: E402
from copilot.llm.local import LlamaCppChatModel  # noqa: E402
from copilot.retrieval import open_index  # noqa: E402
from copilot.settings import REPO_ROOT, load_settings  # noqa: E402
from copilot.types import Draft, Member, Post  # noqa: E402

POSTS = [
    Post(
        title="Hub dead after update",
        text="The 3.3 update bricked my Lumen Hub. It only blinks red and support hasn't answered in four days.",
        member=Member(name="Sam Kowalski", joined_at=date(2024, 2, 1), post_count=14),
    ),
    Post(
        text="Hi all! I'm Priya, just unboxed my first Lumen Hub for my balcony garden lights.",
        member=Member(name="Priya", post_count=1),
    ),
    Post(
        title="MQTT bridge plugin",
        text="I wrote an MQTT bridge plugin that exposes every scene as a switch in Home Assistant. Code and docs are on my repo, feedback welcome!",
        member=Member(name="Tomás", post_count=230, joined_at=date(2022, 6, 1)),
    ),
    Post(
        text="How do I move my scenes from one hub to a new one without redoing everything?",
        member=Member(name="Grace", post_count=40),
    ),
]


def raw_seconds(model: LlamaCppChatModel, draft: Draft, max_tokens: int) -> tuple[float, int]:
    """Replay every generation the draft made, straight through llama_cpp."""
    llama = model.load()
    messages = [m.model_dump() for m in draft.prompt.messages]
    calls = [messages[:2]] + ([messages] if draft.attempts > 1 else [])
    total, tokens = 0.0, 0
    for call in calls:
        llama.reset()  # cold KV cache, as the draft had
        started = time.perf_counter()
        out = llama.create_chat_completion(
            messages=call,
            temperature=0.0,
            max_tokens=max_tokens,
            stop=["<|im_end|>", "<|endoftext|>"],
            seed=0,
        )
        total += time.perf_counter() - started
        tokens += out["usage"]["completion_tokens"]
    return total, tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="two posts instead of four")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="moments-bench-"))
    cache = Path(os.environ.get("MOMENTS_TEST_CACHE") or REPO_ROOT / ".moments-test-cache")
    settings = load_settings(data_dir=cache if cache.exists() else data, llm_temperature=0.0)
    model = build_chat_model(settings)
    assert isinstance(model, LlamaCppChatModel)
    index = open_index(load_settings(data_dir=data))
    index.index_paths([REPO_ROOT / "knowledge"])
    posts = POSTS[:2] if args.quick else POSTS
    # warm up: load the model and the embedder once, outside the measurement
    draft_reply(posts[0], model=model, retriever=index, settings=settings)

    total_draft = total_raw = 0.0
    print(f"{'post':<28} {'draft s':>8} {'raw s':>7} {'ratio':>6} {'tok':>5}  stages")
    for post in posts:
        # measure the draft, then replay exactly the generations it made (first attempt, and the
        # revision when there was one) straight through llama.cpp: same prompts, same tokens
        model.load().reset()  # cold KV cache: no prompt prefix reused from the previous run
        started = time.perf_counter()
        draft = draft_reply(post, model=model, retriever=index, settings=settings)
        draft_s = time.perf_counter() - started
        raw_s, tokens = raw_seconds(model, draft, draft.model.options.max_tokens)
        total_draft += draft_s
        total_raw += raw_s
        stages = " ".join(f"{k}={v:.3f}" for k, v in draft.timings.items())
        label = (post.title or post.text)[:27]
        print(
            f"{label:<28} {draft_s:8.2f} {raw_s:7.2f} {draft_s / raw_s:6.2f} {tokens:5d}  {stages}"
        )
    print(
        f"\ndrafting overhead ratio (draft_reply / raw llama.cpp, same prompt and tokens): "
        f"{total_draft / total_raw:.3f}  (goal ≤ 1.10)"
    )

    usage = model.last_usage  # of the last draft's last generation
    if usage.seconds and usage.completion_tokens:
        decode = usage.completion_tokens / max(
            1e-9, usage.seconds - (usage.first_token_seconds or 0)
        )
        print(
            f"local model decode speed: {decode:.1f} tokens/s; prompt {usage.prompt_tokens} tokens"
        )

    def first_streamed(cold: bool) -> float:
        if cold:
            model.load().reset()  # nothing of this prompt in the KV cache
        started = time.perf_counter()
        for item in stream_reply(posts[-1], model=model, retriever=index, settings=settings):
            if isinstance(item, str):
                return time.perf_counter() - started
        return float("nan")

    cold_first = first_streamed(cold=True)
    warm_first = first_streamed(cold=False)
    print(
        f"time to first streamed token: cold {cold_first:.2f} s, prompt prefix cached "
        f"{warm_first:.2f} s (includes classify, retrieve, render and prompt processing)"
    )


if __name__ == "__main__":
    main()
