"""Agreement of the tone scorers with the hand-labelled replies (evals/data/labelled_replies.jsonl).

For each dimension: Spearman rho between the scorer and the rubric label, and accuracy at the
rubric level (scores binned to 0/1/2 at 1/3 and 2/3; overall to 1..5 at OVERALL_CUTS), on the dev
half, the test half, or all. VADER's compound score is the baseline ((c + 1) / 2 for
"good" dimensions, (1 - c) / 2 for hostility, over_promising, defensiveness).

    .venv/bin/python -m evals.validate_tone [--split test|dev|all] [--json] [--hard]

External corpora (any CSV with a text column and a numeric label), e.g. the Stanford Politeness
StackExchange requests or EPITOME's emotional-reactions file:

    .venv/bin/python -m evals.validate_tone --external stack-exchange.annotated.csv \
        --dimension politeness --text-col Request --label-col "Normalized Score"
    .venv/bin/python -m evals.validate_tone --external emotional-reactions-reddit.csv \
        --dimension emotional_reactions --text-col response_post --label-col level \
        --post-col seeker_post
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


def evaluate_external(
    path: Path, *, dimension: str, text_col: str, label_col: str, post_col: str | None
) -> dict[str, Any]:
    """Spearman rho (and top-vs-bottom-quartile accuracy) of one scorer on an external CSV."""
    import csv

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    ours: list[float] = []
    base: list[float] = []
    gold: list[float] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                label = float(row[label_col])
            except (KeyError, ValueError):
                continue
            text = row.get(text_col) or ""
            post = row.get(post_col) if post_col else None
            ours.append(score_reply(text, post=post).scores[dimension].score)
            c = vader.polarity_scores(text)["compound"]
            base.append((1 - c) / 2 if dimension in HIGHER_IS_WORSE else (c + 1) / 2)
            gold.append(label)
    if not gold:
        raise SystemExit(f"{path}: no rows with a numeric '{label_col}' and a '{text_col}' column")
    srt = sorted(gold)
    lo, hi = srt[len(srt) // 4], srt[(3 * len(srt)) // 4]
    ext = [(o, b, g >= hi) for o, b, g in zip(ours, base, gold, strict=True) if g <= lo or g >= hi]

    def quartile_acc(idx: int) -> float:
        if not ext:
            return 0.0
        cut = sorted(x[idx] for x in ext)[len(ext) // 2]  # median split: balanced classes
        return sum((x[idx] >= cut) == x[2] for x in ext) / len(ext)

    return {
        "n": len(gold),
        "dimension": dimension,
        "rho": round(float(spearmanr(ours, gold).statistic), 3),
        "vader_rho": round(float(spearmanr(base, gold).statistic), 3),
        "quartile_accuracy_median_cut": round(quartile_acc(0), 3),
        "vader_quartile_accuracy_median_cut": round(quartile_acc(1), 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Validate the tone scorers against the labelled replies."
    )
    ap.add_argument("--split", choices=["dev", "test", "all"], default="test")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--hard", action="store_true", help="also list the hard cases with VADER's view"
    )
    ap.add_argument("--external", type=Path, help="a CSV with a text and a label column")
    ap.add_argument("--dimension", default="politeness", choices=list(DIMENSIONS))
    ap.add_argument("--text-col", default="text")
    ap.add_argument("--label-col", default="label")
    ap.add_argument("--post-col", default=None)
    args = ap.parse_args(argv)
    if args.external:
        res_ext = evaluate_external(
            args.external,
            dimension=args.dimension,
            text_col=args.text_col,
            label_col=args.label_col,
            post_col=args.post_col,
        )
        print(json.dumps(res_ext, indent=1))
        return 0
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
