"""Index and search the knowledge base over Chroma.

`KnowledgeIndex` keeps guidelines (trusted, written by managers) and past interactions
(untrusted member text) in separate collections per community, `moments-<community>-guidelines`
and `moments-<community>-interactions`: the kind of snippet is a choice of collection, never a
`where` clause (a metadata filter makes a Chroma query ~80x slower at 100k vectors).

Embeddings are always computed by our `Embedder` and passed to Chroma explicitly; Chroma's own
default embedding function (which downloads a model) is never used.

Indexing is incremental. Every chunk's metadata records its source, content hash and a hash of
its other metadata, so the manifest (source -> chunk ids and hashes) is read back from Chroma
itself: unchanged chunks are not embedded again, changed ones are replaced, chunks that
disappeared from a file are deleted, and indexing a folder prunes the sources under it whose
files no longer exist.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
import uuid
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from copilot.embeddings import Embedder, build_embedder
from copilot.errors import IndexError_, InputError
from copilot.knowledge import (
    SUPPORTED_SUFFIXES,
    Chunk,
    InteractionMember,
    InteractionRecord,
    MetaValue,
    Problem,
    display_path,
    interaction_chunk,
    iter_files,
    load_file,
)
from copilot.types import MomentType, Post, Snippet, SnippetKind

if TYPE_CHECKING:
    from copilot.settings import Settings

# Hybrid keyword ranking (BM25 fused with reciprocal rank fusion) is off by default:
# benchmarks/retrieval_quality.py measured recall@5 both ways (see benchmarks/README.md).
DEFAULT_HYBRID = False
EMBED_BATCH = 512
UPSERT_BATCH = 4000
READ_BATCH = 5000
LEARNED_SOURCE = "approved-replies"
RRF_K = 60
QUERY_CACHE_SIZE = 256
KINDS = (SnippetKind.GUIDELINE, SnippetKind.INTERACTION)
_INTERNAL = {"source", "path", "kind", "community_id", "content_hash", "meta_hash", "title"}
_INTERNAL |= {"heading", "moment", "indexed_at"}

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total) with stage "load" (files) or "embed" (chunks)."""


class Retriever(Protocol):
    """What drafting needs from retrieval."""

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        kind: SnippetKind | None = None,
        moment: MomentType | None = None,
        community_id: str | None = None,
    ) -> list[Snippet]: ...


class IndexReport(BaseModel):
    """What one `index_paths` run did."""

    community_id: str = "default"
    files_seen: int = 0
    files_indexed: int = 0
    chunks_added: int = 0
    chunks_updated: int = 0
    chunks_unchanged: int = 0
    chunks_removed: int = 0
    chunks_embedded: int = 0
    sources_removed: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)  # files of other types found in folders
    problems: list[Problem] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def chunks_total(self) -> int:
        return self.chunks_added + self.chunks_updated + self.chunks_unchanged

    @property
    def indexed_anything(self) -> bool:
        """True when at least one file made it into the index (new or unchanged)."""
        return self.files_indexed > 0


class SourceInfo(BaseModel):
    source: str
    kind: SnippetKind
    chunks: int
    last_indexed: str | None = None
    path: str | None = None
    community_id: str = "default"


class IndexStats(BaseModel):
    community_id: str
    backend: str  # "embedded" or "server"
    location: str  # the directory or the URL
    embedder: str
    guidelines: int
    interactions: int
    sources: int
    hybrid: bool


def collection_name(community_id: str, kind: SnippetKind) -> str:
    """Chroma collection for a community and kind (names: 3-512 chars of [a-zA-Z0-9._-])."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", community_id) or "default"
    suffix = "guidelines" if kind is SnippetKind.GUIDELINE else "interactions"
    return f"moments-{safe}-{suffix}"


def _meta_hash(chunk: Chunk, path: str | None) -> str:
    payload = {
        "title": chunk.title,
        "heading": chunk.heading,
        "moment": chunk.moment.value if chunk.moment else None,
        "path": path,
        "extra": chunk.metadata,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _chroma_metadata(chunk: Chunk, path: str | None, now: str) -> dict[str, MetaValue]:
    meta: dict[str, MetaValue] = {
        "source": chunk.source,
        "kind": chunk.kind.value,
        "community_id": chunk.community_id,
        "content_hash": chunk.content_hash,
        "meta_hash": _meta_hash(chunk, path),
        "indexed_at": now,
    }
    for key, optional in (
        ("title", chunk.title),
        ("heading", chunk.heading),
        ("moment", chunk.moment.value if chunk.moment else None),
        ("path", path),
    ):
        if optional:
            meta[key] = optional
    for key, value in chunk.metadata.items():
        if value is not None and key not in meta:
            meta[key] = value
    return meta


def _snippet(id_: str, document: str, meta: dict[str, Any], score: float) -> Snippet:
    moment = str(meta.get("moment", ""))
    return Snippet(
        id=id_,
        text=document,
        source=str(meta.get("source", "")),
        title=meta.get("title"),
        heading=meta.get("heading"),
        kind=SnippetKind(meta.get("kind", SnippetKind.GUIDELINE.value)),
        moment=MomentType(moment) if moment in MomentType._value2member_map_ else None,
        community_id=str(meta.get("community_id", "default")),
        score=max(0.0, min(1.0, score)),
        content_hash=meta.get("content_hash"),
        metadata={k: v for k, v in meta.items() if k not in _INTERNAL},
    )


# BM25 -------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be but by for from has have i if in into is it its me my of on or our "
    "so that the their them they this to was we were what when which who will with you your".split()
)


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


class _BM25:
    """Okapi BM25 over a collection's chunks, in memory (k1=1.5, b=0.75)."""

    def __init__(self, ids: list[str], texts: list[str], metas: list[dict[str, Any]]) -> None:
        self.ids, self.metas = ids, metas
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths = []
        for index, text in enumerate(texts):
            counts = Counter(_tokens(text))
            self.lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self.postings[term].append((index, tf))
        self.avg = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0

    def top(self, query: str, n: int, moment: MomentType | None) -> list[int]:
        scores: dict[int, float] = defaultdict(float)
        total = len(self.ids)
        for term in set(_tokens(query)):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (total - len(posting) + 0.5) / (len(posting) + 0.5))
            for index, tf in posting:
                norm = tf + 1.5 * (0.25 + 0.75 * self.lengths[index] / self.avg)
                scores[index] += idf * tf * 2.5 / norm
        ranked = sorted(scores, key=lambda i: -scores[i])
        if moment is not None:
            ranked = [i for i in ranked if self.metas[i].get("moment") == moment.value]
        return ranked[:n]


# The index --------------------------------------------------------------------------------------


class KnowledgeIndex:
    """Guidelines and past interactions in Chroma; implements `Retriever`."""

    def __init__(
        self,
        client: Any,
        embedder: Embedder,
        *,
        community_id: str = "default",
        knowledge_dir: Path | None = None,
        hybrid: bool = DEFAULT_HYBRID,
        location: str = "",
        backend: str = "embedded",
    ) -> None:
        self.client = client
        self.embedder = embedder
        self.community_id = community_id
        self.knowledge_dir = knowledge_dir.resolve() if knowledge_dir else None
        self.hybrid = hybrid
        self.location = location
        self.backend = backend
        self._collections: dict[str, Any] = {}
        self._bm25: dict[str, _BM25] = {}
        self._query_cache: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.RLock()

    # Collections ------------------------------------------------------------------------------

    def collection(self, kind: SnippetKind, community_id: str | None = None) -> Any:
        """The Chroma collection for a kind (created on first use, cosine space)."""
        name = collection_name(community_id or self.community_id, kind)
        with self._lock:
            cached = self._collections.get(name)
            if cached is not None:
                return cached
            try:
                col = self.client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedder": self.embedder.name, "kind": kind.value},
                )
            except Exception as exc:
                raise self._error(f"cannot open the collection {name}", exc) from exc
            built_with = (col.metadata or {}).get("embedder")
            if built_with and built_with != self.embedder.name:
                raise IndexError_(
                    f"the index at {self.location} was built with the embedder '{built_with}' "
                    f"but the settings give '{self.embedder.name}'",
                    hint="rebuild it with `moments index --rebuild`, or restore "
                    "MOMENTS_EMBEDDING_PROVIDER / MOMENTS_EMBEDDING_MODEL",
                )
            self._collections[name] = col
            return col

    def _error(self, what: str, exc: Exception) -> IndexError_:
        if self.backend == "server":
            hint = (
                f"is the Chroma server at {self.location} running? (`chroma run --path DIR "
                "--port PORT`), or unset MOMENTS_CHROMA_URL to use the embedded index"
            )
        else:
            hint = (
                f"if {self.location} is damaged, move it aside and run `moments index` again "
                "(or set MOMENTS_DATA_DIR to a fresh directory)"
            )
        return IndexError_(f"{what}: {_brief(exc)}", hint=hint)

    def _read_all(self, col: Any, include: list[str]) -> tuple[list[str], list[Any], list[Any]]:
        ids: list[str] = []
        metas: list[Any] = []
        docs: list[Any] = []
        offset = 0
        while True:
            try:
                page = col.get(include=include, limit=READ_BATCH, offset=offset)
            except Exception as exc:
                raise self._error(f"cannot read the collection {col.name}", exc) from exc
            ids += page["ids"]
            metas += page.get("metadatas") or [None] * len(page["ids"])
            docs += page.get("documents") or [None] * len(page["ids"])
            if len(page["ids"]) < READ_BATCH:
                return ids, metas, docs
            offset += READ_BATCH

    def _manifest(
        self, community_id: str
    ) -> dict[str, dict[str, tuple[SnippetKind, dict[str, Any]]]]:
        """source -> {chunk id -> (kind, metadata)}, read back from Chroma."""
        manifest: dict[str, dict[str, tuple[SnippetKind, dict[str, Any]]]] = defaultdict(dict)
        for kind in KINDS:
            ids, metas, _ = self._read_all(self.collection(kind, community_id), ["metadatas"])
            for id_, meta in zip(ids, metas, strict=True):
                meta = meta or {}
                manifest[str(meta.get("source", ""))][id_] = (kind, meta)
        return manifest

    # Indexing ---------------------------------------------------------------------------------

    def source_for(self, path: Path, root: Path | None) -> str:
        """A file's source name: relative to the knowledge dir when inside it, else relative to
        the folder being indexed, else the file name."""
        resolved = path.resolve()
        for base in (self.knowledge_dir, root):
            if base is None:
                continue
            try:
                return resolved.relative_to(base).as_posix()
            except ValueError:
                continue
        return path.name

    def index_paths(
        self,
        paths: Sequence[Path | str],
        *,
        community_id: str | None = None,
        progress: Progress | None = None,
    ) -> IndexReport:
        """Index files and folders incrementally. Bad input becomes `report.problems`."""
        started = time.perf_counter()
        community = community_id or self.community_id
        report = IndexReport(community_id=community)
        files: list[tuple[Path, str]] = []
        prune_dirs: list[Path] = []
        for raw in paths:
            path = Path(raw).expanduser()
            if path.is_dir():
                root = path.resolve()
                prune_dirs.append(root)
                for found in iter_files(path):
                    if found.suffix.lower() in SUPPORTED_SUFFIXES:
                        files.append((found, self.source_for(found, root)))
                    else:
                        report.skipped.append(display_path(found))
            elif path.exists() or path.suffix:
                files.append((path, self.source_for(path, None)))
            else:
                report.problems.append(
                    Problem(
                        file=display_path(path),
                        message="no such file or folder",
                        hint="check the path; `moments index` with no argument indexes the "
                        "default knowledge folder",
                    )
                )
        report.files_seen = len(files)

        loaded: dict[str, tuple[list[Chunk], str]] = {}
        seen: set[str] = set()
        for done, (path, source) in enumerate(files, start=1):
            if progress:
                progress("load", done - 1, len(files))
            result = load_file(path, source=source, community_id=community)
            report.problems += result.problems
            seen.add(source)
            if result.readable:
                if source in loaded:
                    report.problems.append(
                        Problem(
                            file=display_path(path),
                            message=f"another file is also named '{source}'; this one was skipped",
                            hint="index the folders separately or rename one of the files",
                        )
                    )
                    continue
                loaded[source] = (result.chunks, str(path.resolve()))
                if result.chunks:
                    report.files_indexed += 1
        if progress:
            progress("load", len(files), len(files))

        manifest = self._manifest(community)
        to_embed: list[tuple[Chunk, str | None]] = []
        to_refresh: list[tuple[Chunk, str | None]] = []
        to_delete: dict[SnippetKind, list[str]] = defaultdict(list)
        for source, (chunks, path_str) in loaded.items():
            existing = manifest.get(source, {})
            new_ids = set()
            for chunk in chunks:
                new_ids.add(chunk.id)
                old = existing.get(chunk.id)
                if old is None:
                    report.chunks_added += 1
                    to_embed.append((chunk, path_str))
                elif old[1].get("content_hash") != chunk.content_hash:
                    report.chunks_updated += 1
                    to_embed.append((chunk, path_str))
                else:
                    report.chunks_unchanged += 1
                    if old[1].get("meta_hash") != _meta_hash(chunk, path_str):
                        to_refresh.append((chunk, path_str))
            for id_, (kind, _) in existing.items():
                if id_ not in new_ids:
                    to_delete[kind].append(id_)
        for source, chunks_by_id in manifest.items():
            if source in seen or not chunks_by_id:
                continue
            old_path = next(iter(chunks_by_id.values()))[1].get("path")
            if old_path and any(_is_under(Path(old_path), d) for d in prune_dirs):
                report.sources_removed.append(source)
                for id_, (kind, _) in chunks_by_id.items():
                    to_delete[kind].append(id_)

        for kind, ids in to_delete.items():
            self._delete(kind, community, ids)
            report.chunks_removed += len(ids)
        self._refresh_metadata(to_refresh, community)
        report.chunks_embedded = self._embed_and_store(to_embed, community, progress)
        report.seconds = time.perf_counter() - started
        return report

    def _embed_and_store(
        self,
        items: list[tuple[Chunk, str | None]],
        community: str,
        progress: Progress | None,
    ) -> int:
        if not items:
            return 0
        # Longest first, like sentence-transformers does inside one call: batches of similar
        # lengths waste less padding.
        items = sorted(items, key=lambda item: -len(item[0].embedding_text))
        now = datetime.now(UTC).isoformat(timespec="seconds")
        # Store batch n in a background thread while batch n+1 is embedded: Chroma's write
        # (sqlite + HNSW, ~1.5-2 ms a chunk here) then hides behind the model's work.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="moments-upsert") as pool:
            writing: Future[None] | None = None
            for start in range(0, len(items), EMBED_BATCH):
                if progress:
                    progress("embed", start, len(items))
                batch = items[start : start + EMBED_BATCH]
                vectors = self.embedder.embed([chunk.embedding_text for chunk, _ in batch])
                rows = [
                    (chunk, path, vector)
                    for (chunk, path), vector in zip(batch, vectors, strict=True)
                ]
                if writing is not None:
                    writing.result()  # one write in flight; re-raises its IndexError_
                writing = pool.submit(self._store_rows, rows, community, now)
            if writing is not None:
                writing.result()
        if progress:
            progress("embed", len(items), len(items))
        return len(items)

    def _store_rows(
        self,
        rows: list[tuple[Chunk, str | None, list[float]]],
        community: str,
        now: str,
    ) -> None:
        for kind in KINDS:
            of_kind = [row for row in rows if row[0].kind is kind]
            for start in range(0, len(of_kind), UPSERT_BATCH):
                self._upsert(kind, community, of_kind[start : start + UPSERT_BATCH], now)

    def _upsert(
        self,
        kind: SnippetKind,
        community: str,
        rows: Sequence[tuple[Chunk, str | None, Sequence[float]]],
        now: str,
    ) -> None:
        col = self.collection(kind, community)
        try:
            col.upsert(
                ids=[chunk.id for chunk, _, _ in rows],
                embeddings=[_floats(vector) for _, _, vector in rows],
                documents=[chunk.text for chunk, _, _ in rows],
                metadatas=[_chroma_metadata(chunk, path, now) for chunk, path, _ in rows],
            )
        except Exception as exc:
            raise self._error(f"cannot write to the collection {col.name}", exc) from exc
        self._bm25.pop(col.name, None)

    def _refresh_metadata(self, items: list[tuple[Chunk, str | None]], community: str) -> None:
        """Same text, new title/heading/moment/path: re-store with the stored embedding."""
        for kind in KINDS:
            rows = [(c, p) for c, p in items if c.kind is kind]
            if not rows:
                continue
            col = self.collection(kind, community)
            got = col.get(ids=[c.id for c, _ in rows], include=["embeddings", "metadatas"])
            vectors = dict(zip(got["ids"], got["embeddings"], strict=True))
            stamps = {
                i: (m or {}).get("indexed_at", "")
                for i, m in zip(got["ids"], got["metadatas"], strict=True)
            }
            for chunk, path in rows:
                self._upsert(kind, community, [(chunk, path, vectors[chunk.id])], stamps[chunk.id])

    def _delete(self, kind: SnippetKind, community: str, ids: list[str]) -> None:
        col = self.collection(kind, community)
        for start in range(0, len(ids), UPSERT_BATCH):
            try:
                col.delete(ids=ids[start : start + UPSERT_BATCH])
            except Exception as exc:
                raise self._error(f"cannot delete from the collection {col.name}", exc) from exc
        self._bm25.pop(col.name, None)

    # Learning loop ----------------------------------------------------------------------------

    def add_interaction(
        self,
        post: Post | str,
        reply: str,
        *,
        reviewer: str,
        moment: MomentType | None = None,
        edit_ratio: float | None = None,
        interaction_id: str | None = None,
        title: str | None = None,
        outcome: str | None = None,
        community_id: str | None = None,
    ) -> Snippet:
        """Index an approved reply as a past interaction (source "approved-replies").

        Personal data in the post and reply is masked first when `copilot.privacy` exists.
        The same `interaction_id` again replaces the earlier entry.
        """
        member = InteractionMember()
        if isinstance(post, Post):
            member = InteractionMember(handle=post.member.handle, name=post.member.name)
            title = title or post.title
            community_id = community_id or post.community_id
            post_text = post.text
        else:
            post_text = post
        if not post_text.strip() or not reply.strip():
            raise InputError("an approved interaction needs both the post and the reply text")
        post_text, reply = _mask(post_text), _mask(reply)
        community = community_id or self.community_id
        record = InteractionRecord(
            id=interaction_id or f"approved-{uuid.uuid4().hex[:12]}",
            moment=moment,
            title=title,
            post=post_text,
            reply=reply,
            member=member,
            staff=reviewer,
            outcome=outcome,
        )
        extra: dict[str, MetaValue] = {"reviewer": reviewer, "learned": True}
        if edit_ratio is not None:
            extra["edit_ratio"] = round(float(edit_ratio), 4)
        chunk = interaction_chunk(
            record, source=LEARNED_SOURCE, community_id=community, extra=extra
        )
        vector = self.embedder.embed([chunk.embedding_text])[0]
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._upsert(SnippetKind.INTERACTION, community, [(chunk, None, vector)], now)
        return _snippet(chunk.id, chunk.text, _chroma_metadata(chunk, None, now), 1.0)

    # Search -----------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        kind: SnippetKind | None = None,
        moment: MomentType | None = None,
        community_id: str | None = None,
    ) -> list[Snippet]:
        """The k best snippets, score = 1 - cosine distance; both kinds merged by score when
        `kind` is None."""
        if not query.strip() or k <= 0:
            return []
        vector = self._query_vector(query)
        return self.search_by_vector(
            vector, query=query, k=k, kind=kind, moment=moment, community_id=community_id
        )

    def _query_vector(self, query: str) -> list[float]:
        """Embed a query, remembering the last few (drafting searches the same post 3-4 times:
        playbook, general guidelines, examples)."""
        with self._lock:
            cached = self._query_cache.get(query)
            if cached is not None:
                self._query_cache.move_to_end(query)
                return cached
        vector = self.embedder.embed_query(query)
        with self._lock:
            self._query_cache[query] = vector
            while len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return vector

    def search_by_vector(
        self,
        vector: Sequence[float],
        *,
        query: str = "",
        k: int = 5,
        kind: SnippetKind | None = None,
        moment: MomentType | None = None,
        community_id: str | None = None,
    ) -> list[Snippet]:
        """`search` with the query already embedded (`query` is only used by hybrid ranking)."""
        moment = MomentType(moment) if moment else None
        kinds = (SnippetKind(kind),) if kind else KINDS
        results: list[tuple[float, Snippet]] = []
        for each in kinds:
            col = self.collection(each, community_id)
            if self.hybrid and query.strip():
                results += self._hybrid(col, vector, query, k, moment)
            else:
                results += [(s.score, s) for s in self._vector_top(col, vector, k, moment)]
        results.sort(key=lambda pair: -pair[0])
        return [snippet for _, snippet in results[:k]]

    def _query(
        self,
        col: Any,
        vector: Sequence[float],
        n: int,
        where: Any = None,
        include: Sequence[str] = ("documents", "metadatas", "distances"),
    ) -> list[tuple[str, str | None, dict[str, Any] | None, float]]:
        """(id, document, metadata, distance) rows, nearest first."""
        try:
            res = col.query(
                query_embeddings=[_floats(vector)],
                n_results=n,
                where=where,
                include=list(include),
            )
        except Exception as exc:
            raise self._error(f"cannot search the collection {col.name}", exc) from exc
        ids = res["ids"][0]
        docs = (res.get("documents") or [None])[0] or [None] * len(ids)
        metas = (res.get("metadatas") or [None])[0] or [None] * len(ids)
        return list(zip(ids, docs, metas, res["distances"][0], strict=True))

    def _documents(self, col: Any, ids: list[str]) -> dict[str, str]:
        try:
            got = col.get(ids=ids, include=["documents"])
        except Exception as exc:
            raise self._error(f"cannot read the collection {col.name}", exc) from exc
        return {i: d or "" for i, d in zip(got["ids"], got["documents"], strict=True)}

    def _vector_top(
        self, col: Any, vector: Sequence[float], k: int, moment: MomentType | None
    ) -> list[Snippet]:
        if moment is None:
            rows = self._query(col, vector, k)
        else:
            # A `where` filter is 10-80x slower: over-fetch ids and metadata without it, filter
            # here, then read the few documents; fall back to the filter only when the nearest
            # candidates hold too few chunks of this moment.
            fetch = max(20 * k, 100)
            candidates = self._query(col, vector, fetch, include=["metadatas", "distances"])
            chosen = [r for r in candidates if (r[2] or {}).get("moment") == moment.value][:k]
            if len(chosen) < k and len(candidates) == fetch:
                rows = self._query(col, vector, k, where={"moment": moment.value})
            elif chosen:
                docs = self._documents(col, [r[0] for r in chosen])
                rows = [(i, docs.get(i, ""), m, dist) for i, _, m, dist in chosen]
            else:
                rows = []
        return [_snippet(i, d or "", m or {}, 1.0 - dist) for i, d, m, dist in rows[:k]]

    def _hybrid(
        self, col: Any, vector: Sequence[float], query: str, k: int, moment: MomentType | None
    ) -> list[tuple[float, Snippet]]:
        depth = max(4 * k, 20)
        dense = self._vector_top(col, vector, depth, moment)
        bm25 = self._bm25_for(col)
        sparse = [bm25.ids[i] for i in bm25.top(query, depth, moment)]
        fused: dict[str, float] = defaultdict(float)
        for ranking in ([s.id for s in dense], sparse):
            for rank, id_ in enumerate(ranking, start=1):
                fused[id_] += 1.0 / (RRF_K + rank)
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        known = {s.id: s for s in dense}
        missing = [i for i in best if i not in known]
        if missing:
            got = col.get(ids=missing, include=["documents", "metadatas", "embeddings"])
            for id_, doc, meta, emb in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            ):
                score = float(sum(a * b for a, b in zip(vector, emb, strict=False)))
                known[id_] = _snippet(id_, doc or "", meta or {}, score)
        return [(fused[i], known[i]) for i in best if i in known]

    def _bm25_for(self, col: Any) -> _BM25:
        with self._lock:
            cached = self._bm25.get(col.name)
            if cached is None:
                ids, metas, docs = self._read_all(col, ["documents", "metadatas"])
                metas = [m or {} for m in metas]
                texts = [
                    f"{m.get('heading') or m.get('title') or ''} {d or ''}"
                    for d, m in zip(docs, metas, strict=True)
                ]
                cached = self._bm25[col.name] = _BM25(ids, texts, metas)
            return cached

    # Sources ----------------------------------------------------------------------------------

    def list_sources(self, community_id: str | None = None) -> list[SourceInfo]:
        community = community_id or self.community_id
        out = []
        for source, chunks in sorted(self._manifest(community).items()):
            metas = [meta for _, meta in chunks.values()]
            kinds = {kind for kind, _ in chunks.values()}
            out.append(
                SourceInfo(
                    source=source,
                    kind=next(iter(kinds)),
                    chunks=len(chunks),
                    last_indexed=max((str(m.get("indexed_at", "")) for m in metas), default=None)
                    or None,
                    path=metas[0].get("path") if metas else None,
                    community_id=community,
                )
            )
        return out

    def delete_source(self, source: str, community_id: str | None = None) -> int:
        """Remove every chunk of a source; returns how many were removed (0: unknown source)."""
        community = community_id or self.community_id
        removed = 0
        for kind in KINDS:
            col = self.collection(kind, community)
            try:
                got = col.get(where={"source": source}, include=[])
            except Exception as exc:
                raise self._error(f"cannot read the collection {col.name}", exc) from exc
            if got["ids"]:
                self._delete(kind, community, list(got["ids"]))
                removed += len(got["ids"])
        return removed

    def reset(self, community_id: str | None = None) -> None:
        """Drop both collections of a community (for a rebuild with another embedder)."""
        community = community_id or self.community_id
        with self._lock:
            for kind in KINDS:
                name = collection_name(community, kind)
                try:
                    self.client.delete_collection(name)
                except Exception:  # noqa: S110 - absent collection: nothing to drop
                    pass
                self._collections.pop(name, None)
                self._bm25.pop(name, None)

    def stats(self, community_id: str | None = None) -> IndexStats:
        community = community_id or self.community_id
        counts = {kind: self.collection(kind, community).count() for kind in KINDS}
        return IndexStats(
            community_id=community,
            backend=self.backend,
            location=self.location,
            embedder=self.embedder.name,
            guidelines=counts[SnippetKind.GUIDELINE],
            interactions=counts[SnippetKind.INTERACTION],
            sources=len(self._manifest(community)),
            hybrid=self.hybrid,
        )


def _floats(vector: Sequence[float] | Any) -> list[float]:
    """A plain list of floats (numpy rows and float32 items are not accepted by every client)."""
    if hasattr(vector, "tolist"):
        return [float(x) for x in vector.tolist()]
    return [float(x) for x in vector]


def _brief(exc: Exception, limit: int = 300) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


def _is_under(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _mask(text: str) -> str:
    try:
        from copilot.privacy import mask_pii
    except ImportError:
        return text
    masked, _ = mask_pii(text)
    return masked


# Opening ----------------------------------------------------------------------------------------


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def open_client(settings: Settings) -> tuple[Any, str, str]:
    """(client, backend, location) for the settings: a Chroma server by URL, else embedded."""
    import os

    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb

    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=_chroma_settings(),
            )
            client.heartbeat()
        except Exception as exc:
            raise IndexError_(
                f"cannot reach the Chroma server at {settings.chroma_url}: {_brief(exc)}",
                hint="start it (`chroma run --path DIR --port PORT`) or unset MOMENTS_CHROMA_URL "
                "to use the embedded index",
            ) from exc
        return client, "server", settings.chroma_url
    path = settings.chroma_path
    try:
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        client.list_collections()
    except Exception as exc:
        raise IndexError_(
            f"cannot open the vector index at {path}: {_brief(exc)}",
            hint=f"if it is damaged, move {path} aside and run `moments index` again; "
            "check that MOMENTS_DATA_DIR is writable",
        ) from exc
    return client, "embedded", str(path)


def open_index(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    hybrid: bool | None = None,
) -> KnowledgeIndex:
    """The knowledge index the settings describe (nothing is embedded until needed)."""
    client, backend, location = open_client(settings)
    return KnowledgeIndex(
        client,
        embedder or build_embedder(settings),
        community_id=settings.community_id,
        knowledge_dir=settings.resolved_knowledge_dir,
        hybrid=DEFAULT_HYBRID if hybrid is None else hybrid,
        location=location,
        backend=backend,
    )


def iter_snippets(snippets: Iterable[Snippet]) -> list[dict[str, Any]]:
    """Snippets as plain dicts (for --json and the API)."""
    return [s.model_dump(mode="json") for s in snippets]
