"""Tokens/s and time to first token of the local model: our adapter vs raw llama-cpp-python.

Both sides use the same loaded `llama_cpp.Llama` (the adapter's process-wide cache), the same
messages, greedy sampling and the same `max_tokens`, so the ratio isolates the adapter's own
cost (message conversion, locking, streaming plumbing). Prompt KV-cache reuse is equalised by a
warm-up call and by alternating raw/adapter runs.

    python benchmarks/llm_speed.py --quick          # 48 tokens, 1 round (~1 minute on 2 cores)
    python benchmarks/llm_speed.py --max-tokens 128 --rounds 3
    python benchmarks/llm_speed.py --model-path /models/other.gguf
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot.llm.base import complete
from copilot.llm.local import LlamaCppChatModel
from copilot.types import ChatMessage, GenerationOptions

MESSAGES = [
    ChatMessage(
        role="system",
        content="You are Maya, the community lead of Lumen Makers. You write warm, specific replies.",
    ),
    ChatMessage(
        role="user",
        content=(
            "A member writes: 'My Lumen Hub lost all its scenes after the LumenOS 3.3 update and "
            "I had guests coming over. Really frustrating.' Write a detailed, empathetic reply of "
            "about 200 words with the steps to restore scenes from Lumen Cloud backup."
        ),
    ),
]


@dataclass
class Run:
    tokens: int
    seconds: float
    ttft: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    @property
    def decode_tokens_per_second(self) -> float:
        decode = self.seconds - self.ttft
        return (self.tokens - 1) / decode if decode > 0 and self.tokens > 1 else 0.0


def raw_run(llama: Any, max_tokens: int) -> Run:
    """Stream straight from llama_cpp.Llama.create_chat_completion."""
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    for chunk in llama.create_chat_completion(
        messages=[m.model_dump() for m in MESSAGES],
        temperature=0.0,
        top_p=0.95,
        max_tokens=max_tokens,
        seed=1,
        stream=True,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            if first is None:
                first = time.perf_counter() - started
            tokens += 1
    return Run(tokens, time.perf_counter() - started, first or 0.0)


def adapter_run(model: LlamaCppChatModel, max_tokens: int) -> Run:
    options = GenerationOptions(temperature=0.0, top_p=0.95, max_tokens=max_tokens, seed=1)
    result = complete(model, MESSAGES, options)
    return Run(result.pieces, result.seconds, result.first_piece_seconds or 0.0)


class _ScriptedLlama:
    """Yields pre-built chunks instantly: isolates the adapter's per-token plumbing cost."""

    n_tokens = 0

    def __init__(self, tokens: int) -> None:
        self.chunks = [
            {"choices": [{"delta": {"content": f" w{i}"}, "finish_reason": None}]}
            for i in range(tokens)
        ]

    def create_chat_completion(self, **_: Any) -> Any:
        return iter(self.chunks)

    def close(self) -> None:
        pass


def plumbing_overhead(tokens: int = 50_000) -> tuple[float, float]:
    """Microseconds per token: raw chunk loop vs our adapter, on a scripted engine (no model)."""
    import threading

    from copilot.llm import local

    engine = _ScriptedLlama(tokens)
    started = time.perf_counter()
    count = 0
    for chunk in engine.create_chat_completion():
        if chunk["choices"][0]["delta"].get("content"):
            count += 1
    raw_us = (time.perf_counter() - started) / tokens * 1e6

    path = Path("/nonexistent/scripted.gguf")
    key = (str(path), 512, 1, None)
    local._CACHE[key] = local._Loaded(engine, threading.Lock(), 0.0)  # type: ignore[arg-type]
    try:
        model = LlamaCppChatModel(path, n_ctx=512, n_threads=1, name="scripted")
        started = time.perf_counter()
        pieces = sum(1 for _ in model.stream(MESSAGES, GenerationOptions(max_tokens=tokens)))
        ours_us = (time.perf_counter() - started) / tokens * 1e6
    finally:
        local._CACHE.pop(key, None)
    assert pieces == count == tokens
    return raw_us, ours_us


def resolve_model_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    from copilot.models import ensure_bundled_model
    from copilot.settings import get_settings

    return ensure_bundled_model(get_settings(), progress=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="48 tokens, 1 round")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument(
        "--plumbing-only", action="store_true", help="only the no-model per-token overhead"
    )
    parser.add_argument("--model-path", help="a GGUF (default: the prepared bundled model)")
    args = parser.parse_args()
    max_tokens, rounds = (48, 1) if args.quick else (args.max_tokens, args.rounds)

    raw_us, ours_us = plumbing_overhead()
    print(
        f"plumbing per token (scripted engine, no model): raw {raw_us:.2f} us, "
        f"adapter {ours_us:.2f} us (ratio {ours_us / raw_us:.2f}; "
        f"vs ~120000 us per decoded token of the 1.5B model on 2 cores)"
    )
    if args.plumbing_only:
        return

    path = resolve_model_path(args.model_path)
    model = LlamaCppChatModel(path, n_ctx=args.n_ctx, n_threads=args.threads, name=path.stem)
    started = time.perf_counter()
    llama = model.load()  # the very object the adapter generates with
    load_seconds = time.perf_counter() - started
    print(f"model: {path.name}  threads: {args.threads}  n_ctx: {args.n_ctx}")
    print(f"load: {load_seconds:.2f} s   max_tokens: {max_tokens}   rounds: {rounds}")

    adapter_run(model, 4)  # warm-up: prompt into the KV cache, pages into memory
    raw: list[Run] = []
    ours: list[Run] = []
    for _ in range(rounds):
        raw.append(raw_run(llama, max_tokens))
        ours.append(adapter_run(model, max_tokens))

    def med(runs: list[Run], attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in runs))

    print()
    print(f"{'':24}{'raw llama_cpp':>16}{'our adapter':>16}{'ratio':>10}")
    for label, attr, fmt in (
        ("tokens generated", "tokens", "{:.0f}"),
        ("tokens/s (end to end)", "tokens_per_second", "{:.2f}"),
        ("tokens/s (decode only)", "decode_tokens_per_second", "{:.2f}"),
        ("time to first token, s", "ttft", "{:.3f}"),
        ("total seconds", "seconds", "{:.2f}"),
    ):
        a, b = med(raw, attr), med(ours, attr)
        ratio = f"{b / a:.3f}" if a else "-"
        print(f"{label:24}{fmt.format(a):>16}{fmt.format(b):>16}{ratio:>10}")
    print()
    print(
        "ratio = adapter / raw (1.000 means no overhead; for time-to-first-token lower is better)"
    )
    usage = model.last_usage
    print(
        f"last adapter call: prompt_tokens={usage.prompt_tokens} "
        f"completion_tokens={usage.completion_tokens} finish={usage.finish_reason}"
    )


if __name__ == "__main__":
    main()
