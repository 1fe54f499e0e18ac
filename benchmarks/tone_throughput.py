"""Tone scorer throughput: replies/s for ~120-word replies on one core, vs VADER alone.

    .venv/bin/python benchmarks/tone_throughput.py [--quick] [--n N]

Texts are built from the labelled replies (evals/data) by joining consecutive replies until
~120 words, so they look like real drafts. Single process, single thread; prints replies per
CPU-second (what one core delivers; stable on a shared machine) and per wall-clock second for
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


def rate(fn, items, n: int, repeats: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(replies per CPU-second of this process, replies per wall-clock second), medians.

    CPU time is what one core delivers; wall time also counts waiting for a shared CPU.
    """
    cpu_rates, wall_rates = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        for k in range(n):
            fn(items[k % len(items)])
        cpu_rates.append(n / max(time.process_time() - c0, 1e-9))
        wall_rates.append(n / (time.perf_counter() - t0))
    return statistics.median(cpu_rates), statistics.median(wall_rates)


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
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"texts: {len(items)} distinct, {avg_words:.0f} words on average; {n} calls x {repeats} (median); load average {load:.1f}"
    )
    print(f"{'':40}{'per CPU-s':>10}{'wall /s':>10}{'ratio to VADER':>16}")
    print(f"{'VADER polarity_scores (baseline)':40}{base[0]:>10.0f}{base[1]:>10.0f}{1.0:>16.2f}")
    print(
        f"{'score_reply (text only)':40}{bare[0]:>10.0f}{bare[1]:>10.0f}{bare[0] / base[0]:>16.2f}"
    )
    print(
        f"{'score_reply (post + member + moment)':40}{ours[0]:>10.0f}{ours[1]:>10.0f}{ours[0] / base[0]:>16.2f}"
    )
    print(
        f"goal >= 500 replies per CPU-second on one core: {'met' if ours[0] >= 500 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
