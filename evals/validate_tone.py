"""Agreement of the tone scorers with the hand-labelled replies (evals/data/labelled_replies.jsonl).

For each dimension: Spearman rho between the scorer and the rubric label, and accuracy at the
rubric level (scores binned to 0/1/2 at 1/3 and 2/3; overall to 1..5 at OVERALL_CUTS), on the dev
half, the test half, or all. VADER's compound score is the baseline ((c + 1) / 2 for
"good" dimensions, (1 - c) / 2 for hostility, over_promising, defensiveness).

    .venv/bin/python -m evals.validate_tone [--split test|dev|all] [--json] [--hard]
"""

# ruff: noqa: T201 - a report script: printing is its job
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

from copilot.tone import DIMENSIONS, HIGHER_IS_WORSE, score_reply
from copilot.types import Member, MomentType

DATA = Path(__file__).resolve().parent / "data" / "labelled_replies.jsonl"


def load(path: Path = DATA, split: str = "test") -> list[dict[str, Any]]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [r for r in rows if split == "all" or r["split"] == split]


def member_of(row: dict[str, Any]) -> Member:
    m = dict(row.get("member") or {"name": row.get("member_name")})
    if m.get("joined_at"):
        m["joined_at"] = date.fromisoformat(m["joined_at"])
    return Member(**m)


OVERALL_CUTS = (0.3, 0.5, 0.75, 0.9)  # overall -> 1..5; set on the dev half, fixed since


def to_level(dim: str, score: float) -> int:
    """Bin a [0, 1] score to the rubric level: thirds for 0/1/2, OVERALL_CUTS for 1..5."""
    if dim == "overall":
        return 1 + sum(score >= c for c in OVERALL_CUTS)
    return 0 if score < 1 / 3 else 1 if score < 2 / 3 else 2


def evaluate(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    ours: dict[str, list[float]] = {d: [] for d in DIMENSIONS}
    base: dict[str, list[float]] = {d: [] for d in DIMENSIONS}
    gold: dict[str, list[int]] = {d: [] for d in DIMENSIONS}
    for r in rows:
        card = score_reply(
            r["text"], post=r["post"], member=member_of(r), moment=MomentType(r["moment"])
        )
        c = vader.polarity_scores(r["text"])["compound"]
        for d in DIMENSIONS:
            ours[d].append(card.scores[d].score)
            base[d].append((1 - c) / 2 if d in HIGHER_IS_WORSE else (c + 1) / 2)
            gold[d].append(int(r["labels"][d]))
    out: dict[str, dict[str, float]] = {}
    for d in DIMENSIONS:

        def rho(xs: list[float], ys: list[int]) -> float:
            v = spearmanr(xs, ys).statistic
            return float(v) if v == v else 0.0

        acc = sum(to_level(d, s) == g for s, g in zip(ours[d], gold[d], strict=True)) / len(rows)
        vacc = sum(to_level(d, s) == g for s, g in zip(base[d], gold[d], strict=True)) / len(rows)
        out[d] = {
            "rho": round(rho(ours[d], gold[d]), 3),
            "acc": round(acc, 3),
            "vader_rho": round(rho(base[d], gold[d]), 3),
            "vader_acc": round(vacc, 3),
        }
    return out


def hard_cases(rows: list[dict[str, Any]]) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    lines = []
    for r in rows:
        if r["hard_case"] not in {
            "sarcasm",
            "apology_vader_negative",
            "defensive_polite",
            "warm_forbidden_promise",
            "polite_cold",
        }:
            continue
        card = score_reply(
            r["text"], post=r["post"], member=member_of(r), moment=MomentType(r["moment"])
        )
        c = vader.polarity_scores(r["text"])["compound"]
        flags = ",".join(f.code for f in card.flags) or "-"
        lines.append(
            f"{r['id']:<8} {r['hard_case']:<24} vader {c:+.2f}  empathy {card.scores['empathy'].score:.2f}  hostility {card.scores['hostility'].score:.2f}  overall {card.overall:.2f} (label {r['labels']['overall']}/5)  flags {flags}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Validate the tone scorers against the labelled replies."
    )
    ap.add_argument("--split", choices=["dev", "test", "all"], default="test")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--hard", action="store_true", help="also list the hard cases with VADER's view"
    )
    args = ap.parse_args(argv)
    rows = load(split=args.split)
    res = evaluate(rows)
    if args.json:
        print(json.dumps({"split": args.split, "n": len(rows), "dimensions": res}, indent=1))
        return 0
    print(
        f"split: {args.split}  ({len(rows)} replies)   Spearman rho / level accuracy; VADER compound baseline"
    )
    print(f"{'dimension':<22}{'rho':>7}{'acc':>7}   {'vader rho':>9}{'vader acc':>10}")
    for d, v in res.items():
        print(
            f"{d:<22}{v['rho']:>7.2f}{v['acc']:>7.2f}   {v['vader_rho']:>9.2f}{v['vader_acc']:>10.2f}"
        )
    if args.hard:
        print("\nhard cases:")
        print("\n".join(hard_cases(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
