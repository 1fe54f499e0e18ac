"""Search latency of `KnowledgeIndex` vs a raw Chroma `collection.query`, at 10k and 100k chunks.

    .venv/bin/python benchmarks/search.py [--sizes 10000 100000] [--queries 100] [--quick]

The store holds synthetic unit vectors (384 dimensions, clustered like real topics) with
realistic documents and metadata; the guidelines collection gets N of them, the interactions
collection N/10. Query embeddings are precomputed, so the first rows compare the same work:

  raw query            collection.query(query_embeddings=[q], n_results=5)
  ours, one kind       index.search_by_vector(q, k=5, kind=guideline)      ratio to raw
  ours, both kinds     index.search_by_vector(q, k=5)  (two collections, merged)
  raw where=moment     collection.query(..., where={"moment": m})
  ours, moment         index.search_by_vector(q, k=5, kind=guideline, moment=m)  (over-fetch)
  ours + embedding     index.search(text, k=5, kind=guideline) with the bundled model

Goal: p95 <= 30 ms at 100k (excluding the query embedding), overhead ratio <= 1.3.
--quick: 10k only, 50 queries.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from copilot.embeddings import SentenceTransformerEmbedder  # noqa: E402
from copilot.knowledge import Chunk, chunk_id, sha256_text  # noqa: E402
from copilot.retrieval import KnowledgeIndex, open_index  # noqa: E402
from copilot.settings import load_settings  # noqa: E402
from copilot.types import MomentType, SnippetKind  # noqa: E402

DIM = 384
MOMENTS = list(MomentType)


class StaticEmbedder:
    """Named like the bundled model so the index accepts it; never called for the store."""

    name = SentenceTransformerEmbedder().name
    dimension = DIM

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("the benchmark stores precomputed vectors")

    def embed_query(self, text: str) -> list[float]:
        raise RuntimeError("the benchmark passes query vectors")


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def clustered(rng: np.random.Generator, n: int, centres: np.ndarray) -> np.ndarray:
    picks = rng.integers(0, len(centres), n)
    return unit(centres[picks] + 0.6 * rng.standard_normal((n, DIM)) / np.sqrt(DIM)).astype(
        np.float32
    )


def fill(index: KnowledgeIndex, kind: SnippetKind, n: int, rng: np.random.Generator) -> None:
    centres = unit(rng.standard_normal((200, DIM)))
    vectors = clustered(rng, n, centres)
    batch = 4000
    for start in range(0, n, batch):
        rows = []
        for i in range(start, min(n, start + batch)):
            text = f"Synthetic {kind.value} chunk {i} about hubs, scenes and replies. " * 6
            heading = f"Doc {i // 10} > Section {i % 10}"
            rows.append(
                (
                    Chunk(
                        id=chunk_id(f"doc-{i // 10}.md", heading, 0),
                        text=text,
                        source=f"doc-{i // 10}.md",
                        title=f"Doc {i // 10}",
                        heading=heading,
                        kind=kind,
                        moment=MOMENTS[i % len(MOMENTS)],
                        content_hash=sha256_text(text),
                    ),
                    None,
                    vectors[i],
                )
            )
        index._upsert(kind, index.community_id, rows, "2026-01-01T00:00:00+00:00")


def timed(
    variants: list[tuple[str, Callable[[np.ndarray], object]]], queries: np.ndarray
) -> list[list[float]]:
    """Milliseconds per call for each variant, interleaved query by query so that background
    load on a shared machine hits every variant alike."""
    for q in queries[:10]:  # warm-up
        for _, fn in variants:
            fn(q)
    out: list[list[float]] = [[] for _ in variants]
    for q in queries:
        for slot, (_, fn) in enumerate(variants):
            started = time.perf_counter()
            fn(q)
            out[slot].append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def run_size(n: int, n_queries: int, tmp: Path, texts: list[str], real: object) -> None:
    rng = np.random.default_rng(n)
    settings = load_settings(data_dir=tmp / f"data-{n}")
    index = open_index(settings, embedder=StaticEmbedder(), hybrid=False)  # type: ignore[arg-type]
    started = time.perf_counter()
    fill(index, SnippetKind.GUIDELINE, n, rng)
    fill(index, SnippetKind.INTERACTION, max(n // 10, 100), rng)
    print(
        f"\n{n:,} guideline chunks (+{max(n // 10, 100):,} interactions) stored in "
        f"{time.perf_counter() - started:.0f} s"
    )
    col = index.collection(SnippetKind.GUIDELINE)
    queries = clustered(rng, n_queries, unit(rng.standard_normal((200, DIM))))
    moment = MomentType.COMPLAINT

    def raw(q: np.ndarray) -> object:
        return col.query(
            query_embeddings=[q.tolist()],
            n_results=5,
            include=["documents", "metadatas", "distances"],
        )

    def raw_where(q: np.ndarray) -> object:
        return col.query(
            query_embeddings=[q.tolist()],
            n_results=5,
            where={"moment": moment.value},
            include=["documents", "metadatas", "distances"],
        )

    index.embedder = real  # type: ignore[assignment]
    position = iter(range(10**9))

    def with_embedding(_: np.ndarray) -> object:
        i = next(position)  # a new text every time: the index caches query embeddings
        return index.search(f"{texts[i % len(texts)]} (#{i})", k=5, kind=SnippetKind.GUIDELINE)

    variants: list[tuple[str, Callable[[np.ndarray], object]]] = [
        ("raw collection.query", raw),
        ("ours, one kind", lambda q: index.search_by_vector(q, k=5, kind=SnippetKind.GUIDELINE)),
        ("ours, both kinds", lambda q: index.search_by_vector(q, k=5)),
        ("raw query where=moment", raw_where),
        (
            "ours, moment (over-fetch)",
            lambda q: index.search_by_vector(q, k=5, kind=SnippetKind.GUIDELINE, moment=moment),
        ),
        ("ours + query embedding", with_embedding),
    ]
    rows = [
        (name, values) for (name, _), values in zip(variants, timed(variants, queries), strict=True)
    ]
    base = statistics.median(rows[0][1])
    base95 = pct(rows[0][1], 95)
    print(f"{'search (k=5)':<28} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10} {'p95 ratio':>10}")
    for name, values in rows:
        p50, p95 = statistics.median(values), pct(values, 95)
        print(f"{name:<28} {p50:>8.2f} {p95:>8.2f} {p50 / base:>10.2f} {p95 / base95:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.queries = [10000], 50
    real = SentenceTransformerEmbedder()
    real.embed(["warm up"])
    texts = [
        f"member upset that the hub {w} after the update, what do we say"
        for w in ("froze", "rebooted", "lost scenes", "went offline", "bricked", "got slow")
    ] * 50
    tmp = Path(tempfile.mkdtemp(prefix="moments-search-"))
    try:
        for n in args.sizes:
            run_size(n, args.queries, tmp, texts, real)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
