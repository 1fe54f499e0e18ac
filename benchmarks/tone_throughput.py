"""Tone scorer throughput: replies/s for ~120-word replies on one core, vs VADER alone.

    .venv/bin/python benchmarks/tone_throughput.py [--quick] [--n N]

Texts are built from the labelled replies (evals/data) by joining replies of one post until
~120 words, so they look like real drafts. Single process, single thread; prints replies/s for
`score_reply` (full card: all dimensions + guardrails, with post, member and moment), for VADER's
`polarity_scores` on the same texts, and the ratio. Goal: >= 500 replies/s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from copilot.tone import score_reply  # noqa: E402
from copilot.types import Member, MomentType  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "evals" / "data" / "labelled_replies.jsonl"


def build_texts() -> list[tuple[str, str, Member, MomentType]]:
    rows = [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines() if x.strip()]
    out = []
    for i, r in enumerate(rows):
        words = r["text"].split()
        j = i + 1
        while len(words) < 115:
            words += rows[j % len(rows)]["text"].split()
            j += 1
        text = " ".join(words[:125])
        m = dict(r["member"])
        if m.get("joined_at"):
            m["joined_at"] = date.fromisoformat(m["joined_at"])
        out.append((text, r["post"], Member(**m), MomentType(r["moment"])))
    return out


def rate(fn, items, n: int, repeats: int) -> float:  # type: ignore[no-untyped-def]
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for k in range(n):
            fn(items[k % len(items)])
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer replies, one repeat")
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    n, repeats = (300, 1) if args.quick else (args.n, 3)
    items = build_texts()
    avg_words = statistics.mean(len(t.split()) for t, *_ in items)
    vader = SentimentIntensityAnalyzer()
    # warm-up: lexicon and politeness weights load once
    score_reply(items[0][0], post=items[0][1], member=items[0][2], moment=items[0][3])
    vader.polarity_scores(items[0][0])

    ours = rate(
        lambda it: score_reply(it[0], post=it[1], member=it[2], moment=it[3]), items, n, repeats
    )
    bare = rate(lambda it: score_reply(it[0]), items, n, repeats)
    base = rate(lambda it: vader.polarity_scores(it[0]), items, n, repeats)
    print(
        f"texts: {len(items)} distinct, {avg_words:.0f} words on average; {n} calls x {repeats} (median)"
    )
    print(f"VADER polarity_scores:                  {base:8.0f} replies/s (baseline)")
    print(
        f"score_reply (text only):                {bare:8.0f} replies/s  ratio to VADER {bare / base:.2f}"
    )
    print(
        f"score_reply (post + member + moment):   {ours:8.0f} replies/s  ratio to VADER {ours / base:.2f}"
    )
    print(f"goal >= 500 replies/s: {'met' if ours >= 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
