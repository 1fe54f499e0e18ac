"""Moments classifier quality: per-class precision/recall/F1, macro-F1, confusion, posts/s.

    .venv/bin/python benchmarks/moments_f1.py            # rules on dev and test splits
    .venv/bin/python benchmarks/moments_f1.py --quick    # test split only, fewer timing rounds
    .venv/bin/python benchmarks/moments_f1.py --llm      # + the bundled LLM on the test split
    .venv/bin/python benchmarks/moments_f1.py --data evals/data/moments_blind2.jsonl --llm
    .venv/bin/python benchmarks/moments_f1.py --data evals/data/other.jsonl   # a whole file
    .venv/bin/python benchmarks/moments_f1.py --ids m-230..m-277   # an id range, as a whole
    .venv/bin/python benchmarks/moments_f1.py --method embed   # rules + the learned layer

`--method embed` embeds every scored post with the bundled all-MiniLM-L6-v2 (in memory, nothing
cached on disk; ~30-60 s for 500 posts on CPU) and lets `copilot/data/moments_model.json` decide,
the rules' verdict counting as one vote. Its throughput line is end to end: batch embedding plus
classification, and one post at a time as the API and drafting call it (`embed_query`).

The labelled set is evals/data/moments_labelled.jsonl; the split is fixed by a hash of each id
(60% dev, 40% test). Tune cues on dev only; report test. `--data` scores any JSONL file of the
same format (id, text, optional title/member/thread/created_at, label, optional urgency) as one
set, without a split: that is how a blind batch written after tuning is measured. Throughput is
shown as a ratio against the raw VADER scorer the classifier also runs (the engine underneath).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from copilot.moments import classify_post, classify_post_llm, member_sentiment  # noqa: E402
from copilot.moments_model import embedding_text  # noqa: E402
from copilot.types import Moment, MomentType, Post  # noqa: E402

DATA = REPO / "evals" / "data" / "moments_labelled.jsonl"
LABELS = [kind.value for kind in MomentType]
TRAINED_ON = {"moments_labelled.jsonl", "moments_extra.jsonl"}  # by evals/train_moments.py


def split_of(item_id: str) -> str:
    """'dev' for ~60% of ids, 'test' for the rest; stable across runs and machines."""
    return "dev" if hashlib.sha256(item_id.encode()).digest()[0] < 154 else "test"


def load(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def to_post(item: dict[str, Any]) -> Post:
    return Post(
        text=item["text"],
        title=item.get("title"),
        member=item.get("member", {}),
        thread=item.get("thread", []),
        created_at=item.get("created_at"),
    )


def report(name: str, gold: list[str], pred: list[str]) -> float:
    print(f"\n== {name}: {len(gold)} posts ==")
    print(f"{'class':<15}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>5}")
    f1s = []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label and g != label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        if tp + fn:
            f1s.append(f1)
        print(f"{label:<15}{prec:7.2f}{rec:7.2f}{f1:7.2f}{tp + fn:5d}")
    macro = sum(f1s) / len(f1s) if f1s else 0.0
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / max(1, len(gold))
    print(f"macro-F1 {macro:.3f}   accuracy {accuracy:.3f}")
    short = [label[:5] for label in LABELS]
    print("confusion (rows gold, columns predicted):")
    print(" " * 15 + "".join(f"{s:>6}" for s in short))
    counts = Counter(zip(gold, pred, strict=True))
    for label in LABELS:
        print(f"{label:<15}" + "".join(f"{counts[(label, p)]:>6}" for p in LABELS))
    return macro


def urgency_accuracy(items: list[dict[str, Any]], moments: list[Moment]) -> float | None:
    """Share of posts whose urgency matches, over the posts that carry a gold urgency."""
    pairs = [(i["urgency"], m) for i, m in zip(items, moments, strict=True) if i.get("urgency")]
    if not pairs:
        return None
    return float(sum(m.urgency.value == gold for gold, m in pairs)) / len(pairs)


def in_range(item_id: str, spec: str) -> bool:
    """`spec` is 'FIRST..LAST' (inclusive, ids compared by their number: m-230..m-277)."""
    first, _, last = spec.partition("..")

    def number(value: str) -> int:
        digits = "".join(ch for ch in value if ch.isdigit())
        return int(digits) if digits else -1

    return number(first) <= number(item_id) <= number(last or first)


def embed_all(posts: list[Post]) -> list[list[float]]:
    """The bundled embedder's vectors of `posts` (as `classify_post` would embed them)."""
    from copilot.embeddings import SentenceTransformerEmbedder

    vectors: list[list[float]] = SentenceTransformerEmbedder().embed(
        [embedding_text(post) for post in posts]
    )
    return vectors


def classify_all(posts: list[Post], method: str) -> list[Moment]:
    if method == "rules":
        return [classify_post(post) for post in posts]
    vectors = embed_all(posts)
    return [classify_post(p, vector=v) for p, v in zip(posts, vectors, strict=True)]


def score(
    name: str, chosen: list[dict[str, Any]], errors: bool, method: str = "rules"
) -> list[Moment]:
    """Classify `chosen`, print the report (and the misclassified posts when `errors`)."""
    moments = classify_all([to_post(item) for item in chosen], method)
    label = "rules" if method == "rules" else "rules + embedding model"
    report(f"{label} on {name}", [i["label"] for i in chosen], [m.type.value for m in moments])
    if method == "embed":
        overruled = sum(m.evidence[0].split("rules said ")[-1] != m.type.value for m in moments)
        print(f"the learned layer overruled the rules on {overruled} of {len(moments)} posts")
    urgency = urgency_accuracy(chosen, moments)
    if urgency is not None:
        print(f"urgency accuracy {urgency:.3f}")
    if errors:
        for item, moment in zip(chosen, moments, strict=True):
            if moment.type.value != item["label"]:
                print(
                    f"  {item['id']} gold={item['label']} got={moment.type.value} "
                    f"{item['text'][:70]!r} {moment.evidence[:4]}"
                )
    return moments


def throughput(posts: list[Post], rounds: int) -> None:
    started = time.perf_counter()
    for _ in range(rounds):
        for post in posts:
            classify_post(post)
    ours = rounds * len(posts) / (time.perf_counter() - started)
    from copilot.moments import _compound

    started = time.perf_counter()
    for _ in range(rounds):
        for post in posts:
            _compound(post.text)
    raw = rounds * len(posts) / (time.perf_counter() - started)
    print(
        f"\nthroughput: {ours:,.0f} posts/s (rules); raw VADER {raw:,.0f} posts/s; "
        f"ratio {ours / raw:.2f}x of raw VADER"
    )


def throughput_embedded(posts: list[Post], rounds: int) -> None:
    """Posts/s of the combined classifier: batch (benchmark, training) and one at a time (API)."""
    from copilot.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    classify_post(posts[0], embedder=embedder)  # load the model outside the timing
    started = time.perf_counter()
    for _ in range(rounds):
        classify_all(posts, "embed")
    batch = rounds * len(posts) / (time.perf_counter() - started)
    single = posts[: min(len(posts), 100)]
    started = time.perf_counter()
    for post in single:
        classify_post(post, embedder=embedder)
    one = len(single) / (time.perf_counter() - started)
    print(
        f"throughput (rules + embedding model): {batch:,.0f} posts/s batch-embedded, "
        f"{one:,.0f} posts/s one post at a time (embed_query, 1 torch thread)"
    )


def spread(items: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """At most `limit` items spread over the file (files are often grouped by label)."""
    if not limit or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def run_llm(items: list[dict[str, Any]], label: str = "test") -> None:
    try:
        from copilot.llm.factory import build_chat_model
        from copilot.settings import get_settings
    except ImportError as exc:
        print(f"\n--llm skipped: {exc}")
        return
    model = build_chat_model(get_settings())
    gold, pred, fallbacks = [], [], 0
    started = time.perf_counter()
    for item in items:
        moment = classify_post_llm(to_post(item), model)
        fallbacks += moment.method == "llm-fallback"
        gold.append(item["label"])
        pred.append(moment.type.value)
    seconds = time.perf_counter() - started
    report(f"LLM ({model.name}) on {label}", gold, pred)
    print(
        f"fallbacks to rules: {fallbacks}/{len(items)}; {seconds / max(1, len(items)):.1f} s/post"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="test split only, 1 timing round")
    parser.add_argument("--llm", action="store_true", help="also run the bundled LLM on test")
    parser.add_argument("--errors", action="store_true", help="print misclassified dev posts")
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument("--llm-limit", type=int, default=0, help="at most N test posts for --llm")
    parser.add_argument(
        "--data", type=Path, help="score this JSONL file as a whole (no dev/test split)"
    )
    parser.add_argument("--ids", help="only ids in FIRST..LAST (e.g. m-230..m-277), as a whole")
    parser.add_argument(
        "--method",
        choices=["rules", "embed"],
        default="rules",
        help="rules alone, or rules + the learned layer over the bundled embedder",
    )
    args = parser.parse_args()

    items = load(args.data or DATA)
    if args.method == "embed" and (args.data is None or args.data.name in TRAINED_ON):
        print("NOTE: the learned layer was trained on these posts; this score is in-sample.")
        print("Its cross-validated figures are in evals/train_moments.py's report.")
    if args.data or args.ids:
        chosen = [i for i in items if not args.ids or in_range(i["id"], args.ids)]
        if not chosen:
            parser.error("no posts selected")
        name = args.data.name if args.data else DATA.name
        score(f"{name}{' ' + args.ids if args.ids else ''}", chosen, args.errors, args.method)
        throughput([to_post(i) for i in chosen], rounds=1 if args.quick else 5)
        if args.method == "embed":
            throughput_embedded([to_post(i) for i in chosen], rounds=1)
        if args.llm:
            run_llm(spread(chosen, args.llm_limit), label=name)
        return
    splits = {"dev": [i for i in items if split_of(i["id"]) == "dev"]}
    splits["test"] = [i for i in items if split_of(i["id"]) == "test"]
    names = ("dev", "test") if args.split == "both" else (args.split,)
    for name in ("test",) if args.quick else names:
        score(name, splits[name], args.errors and name == "dev", args.method)
    sentiment_checks = ["not working", "still broken", "thanks but it still fails"]
    print("\nsentiment spot checks:", [member_sentiment(t)[1] for t in sentiment_checks])
    throughput([to_post(i) for i in items], rounds=1 if args.quick else 5)
    if args.method == "embed":
        throughput_embedded([to_post(i) for i in items], rounds=1)
    if args.llm:
        run_llm(spread(splits["test"], args.llm_limit))


if __name__ == "__main__":
    main()
