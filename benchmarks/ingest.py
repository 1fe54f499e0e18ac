"""Ingest throughput: `KnowledgeIndex.index_paths` vs raw `SentenceTransformer.encode`.

    .venv/bin/python benchmarks/ingest.py [--chunks 20000] [--quick] [--overhead-chunks 20000]

1. The default knowledge base (knowledge/): chunks/s of a fresh `index_paths` (read, chunk,
   embed, store in embedded Chroma) vs `encode` of the same texts with the same model.
2. A generated Markdown corpus of --chunks sections (one chunk each): the same comparison.
   Ratio = ours / raw throughput; goal >= 0.85.
3. Pipeline overhead without the model: `index_paths` on a --overhead-chunks corpus with an
   embedder that costs nothing (vectors precomputed), i.e. everything we add around `encode`
   (files, chunking, manifest, Chroma upserts), then a second run (the incremental no-op).

The model is loaded before timing. --quick: 1,000 generated chunks, 5,000 for the overhead.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from copilot.embeddings import SentenceTransformerEmbedder  # noqa: E402
from copilot.knowledge import iter_files, load_file  # noqa: E402
from copilot.retrieval import open_index  # noqa: E402
from copilot.settings import load_settings  # noqa: E402

WORDS = (
    "hub firmware update scene light bulb app cloud sync remote access backup plugin mqtt home "
    "assistant store order refund ticket delivery pairing zigbee wifi router schedule dimmer "
    "member community forum thanks sorry welcome question answer release version rollback "
    "outage status incident workaround guide docs translation contribution milestone years "
    "warm honest specific next step own acknowledge listen personal name kind patient clear"
).split()


def generate_corpus(folder: Path, chunks: int, seed: int = 7) -> None:
    """Markdown files of 10 sections each; every section is 40-120 words (one chunk)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for file_no in range(0, chunks, 10):
        lines = [f"# Generated guide {file_no // 10}", ""]
        for section in range(min(10, chunks - file_no)):
            lines += [f"## Section {section}: {rng.choice(WORDS)} {rng.choice(WORDS)}", ""]
            words = [rng.choice(WORDS) for _ in range(rng.randint(40, 120))]
            lines += [" ".join(words).capitalize() + ".", ""]
        (folder / f"guide-{file_no // 10:05d}.md").write_text("\n".join(lines), "utf-8")


def texts_of(folder: Path) -> list[str]:
    texts = []
    for path in iter_files(folder):
        texts += [c.embedding_text for c in load_file(path, source=path.name).chunks]
    return texts


def raw_encode(embedder: SentenceTransformerEmbedder, texts: list[str]) -> float:
    model = embedder.model
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started


def ours(embedder: object, folder: Path, data: Path) -> tuple[float, int]:
    settings = load_settings(data_dir=data, knowledge_dir=folder)
    index = open_index(settings, embedder=embedder)  # type: ignore[arg-type]
    started = time.perf_counter()
    report = index.index_paths([folder])
    return time.perf_counter() - started, report.chunks_embedded


class PrecomputedEmbedder:
    """Costs (almost) nothing: random unit vectors, as if precomputed. Isolates the pipeline's
    own overhead. (Identical vectors would be a pathological case for Chroma's HNSW.)"""

    name = "precomputed-384"
    dimension = 384

    def __init__(self) -> None:
        import numpy as np

        self._rng = np.random.default_rng(3)

    def embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        vectors = self._rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        result: list[list[float]] = vectors.tolist()
        return result

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]


def compare(label: str, folder: Path, embedder: SentenceTransformerEmbedder, tmp: Path) -> None:
    texts = texts_of(folder)
    # interleave raw and ours so background load on the machine hits both alike
    raw_s = raw_encode(embedder, texts)
    our_s, embedded = ours(embedder, folder, tmp / f"data-{label}")
    raw_s = (raw_s + raw_encode(embedder, texts)) / 2
    raw_rate, our_rate = len(texts) / raw_s, embedded / our_s
    print(
        f"{label:<28} {len(texts):>7} {raw_rate:>10.1f} {our_rate:>10.1f} "
        f"{our_rate / raw_rate:>7.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20000)
    parser.add_argument("--overhead-chunks", type=int, default=20000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--overhead-only", action="store_true", help="only part 3 (no model)")
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    args = parser.parse_args()
    if args.quick:
        args.chunks, args.overhead_chunks = 1000, 5000

    tmp = Path(tempfile.mkdtemp(prefix="moments-ingest-"))
    try:
        if not args.overhead_only:
            embedder = SentenceTransformerEmbedder()
            started = time.perf_counter()
            embedder.embed(["warm up"])
            print(f"model load + first embed: {time.perf_counter() - started:.1f} s (not timed)")
            print(f"\n{'corpus':<28} {'chunks':>7} {'raw c/s':>10} {'ours c/s':>10} {'ratio':>7}")
            compare("default knowledge base", args.knowledge, embedder, tmp)
            generated = tmp / "generated"
            generate_corpus(generated, args.chunks)
            compare(f"generated ({args.chunks} chunks)", generated, embedder, tmp)

        overhead_dir = tmp / "overhead"
        generate_corpus(overhead_dir, args.overhead_chunks, seed=11)
        seconds, n = ours(PrecomputedEmbedder(), overhead_dir, tmp / "data-overhead")
        again, _ = ours(PrecomputedEmbedder(), overhead_dir, tmp / "data-overhead")
        print(
            f"\npipeline overhead without the model, {n} chunks: {seconds:.1f} s "
            f"({1000 * seconds / n:.2f} ms/chunk; read + chunk + manifest + Chroma upsert)"
        )
        print(f"incremental re-run of the same {n} chunks (nothing changed): {again:.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
