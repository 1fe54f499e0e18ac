"""Recall@5 of the knowledge index on labelled queries: vector-only vs hybrid (BM25 + RRF).

    .venv/bin/python benchmarks/retrieval_quality.py [--k 5] [--queries FILE] [--verbose]

Indexes the default knowledge base (knowledge/) with the bundled all-MiniLM-L6-v2 into a
temporary embedded Chroma, then runs every query of benchmarks/data/retrieval_queries.yaml
against the collection its `kind` names. A query is a hit when any of its `expect` targets (a
guideline file name or an interaction id) is among the top k. Goal: recall@5 >= 0.9.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from copilot.retrieval import KnowledgeIndex, open_index  # noqa: E402
from copilot.settings import load_settings  # noqa: E402
from copilot.types import Snippet, SnippetKind  # noqa: E402


def target_of(snippet: Snippet) -> str:
    if snippet.kind is SnippetKind.INTERACTION:
        return str(snippet.metadata.get("interaction_id", ""))
    return Path(snippet.source).name


def evaluate(
    index: KnowledgeIndex, queries: list[dict[str, object]], k: int, verbose: bool
) -> tuple[float, float, list[str]]:
    """(recall@k, MRR@k, misses)."""
    hits, reciprocal, misses = 0, [], []
    for item in queries:
        expect = {str(e) for e in item["expect"]}  # type: ignore[attr-defined]
        kind = SnippetKind(str(item["kind"])) if item.get("kind") else None
        results = index.search(str(item["query"]), k=k, kind=kind)
        targets = [target_of(s) for s in results]
        rank = next((i for i, t in enumerate(targets, start=1) if t in expect), None)
        if rank:
            hits += 1
            reciprocal.append(1.0 / rank)
        else:
            reciprocal.append(0.0)
            misses.append(f"{item['query']!r}: expected {sorted(expect)}, got {targets}")
        if verbose:
            print(f"  {'HIT ' if rank else 'MISS'} {rank or '-'}  {item['query']}")
    return hits / len(queries), statistics.fmean(reciprocal), misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument(
        "--queries", type=Path, default=REPO / "benchmarks" / "data" / "retrieval_queries.yaml"
    )
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--quick", action="store_true", help="same run (it is already short)")
    args = parser.parse_args()

    queries = yaml.safe_load(args.queries.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), knowledge_dir=args.knowledge)
        index = open_index(settings, hybrid=False)
        started = time.perf_counter()
        report = index.index_paths([args.knowledge])
        print(
            f"indexed {report.chunks_total} chunks from {report.files_indexed} files "
            f"in {time.perf_counter() - started:.1f} s ({len(report.problems)} problems)"
        )
        by_kind: dict[str, int] = {}
        for item in queries:
            by_kind[str(item.get("kind"))] = by_kind.get(str(item.get("kind")), 0) + 1
        print(f"{len(queries)} labelled queries {by_kind}, k={args.k}")
        results = {}
        for hybrid in (False, True):
            index.hybrid = hybrid
            name = "hybrid (vector + BM25, RRF)" if hybrid else "vector only"
            if args.verbose:
                print(name)
            results[name] = evaluate(index, queries, args.k, args.verbose)
        print()
        print(f"{'ranking':<30} {'recall@' + str(args.k):>10} {'MRR@' + str(args.k):>8}")
        for name, (recall, mrr, _) in results.items():
            print(f"{name:<30} {recall:>10.3f} {mrr:>8.3f}")
        (vec, _, vec_miss), (hyb, _, hyb_miss) = results.values()
        print(
            f"\nhybrid / vector recall ratio: {hyb / vec if vec else float('nan'):.3f} (goal 0.9 absolute)"
        )
        for name, (_, _, misses) in results.items():
            if misses:
                print(f"\nmisses, {name}:")
                for miss in misses:
                    print(f"  - {miss}")


if __name__ == "__main__":
    main()
