"""The knowledge index: upload guidelines and past interactions (admin), list and delete
sources (admin for deletes), read a source's full text and search (reviewer)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import AdminKey, IndexDep, ReviewerKey, SettingsDep
from api.schemas import (
    AUTH_ERRORS,
    Blank,
    IndexReportPublic,
    SearchResults,
    SnippetPublic,
    SourceChunkPublic,
    SourceDeleted,
    SourcesPublic,
    SourceTextPublic,
    errors,
)
from copilot.errors import IndexError_, InputError, NotFoundError
from copilot.types import MomentType, SnippetKind

_INTERNAL_META = frozenset(
    {"source", "kind", "community_id", "content_hash", "meta_hash", "title", "heading", "moment"}
)

router = APIRouter(prefix="/knowledge", tags=["knowledge"])

ALLOWED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".jsonl", ".csv")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def as_dict(value: Any) -> dict[str, Any]:
    """Any report the index returns (pydantic model, dataclass or dict) as JSON-able data."""
    if hasattr(value, "model_dump"):
        dumped: dict[str, Any] = value.model_dump(mode="json")
        return dumped
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, dict):
        return value
    return {"value": value}


def safe_name(filename: str | None) -> str:
    name = Path(filename or "").name
    stem = _SAFE.sub("-", name).strip("-.")
    if not stem or not name.lower().endswith(ALLOWED_SUFFIXES):
        raise InputError(
            f"'{filename}' is not a supported document.",
            hint=f"upload one of: {', '.join(ALLOWED_SUFFIXES)}",
        )
    return stem


def _problems(report: dict[str, Any]) -> list[str]:
    problems = report.get("problems") or []
    return [
        ": ".join(str(v) for v in p.values() if v) if isinstance(p, dict) else str(p)
        for p in problems
    ]


@router.post(
    "",
    summary="Upload documents (guidelines, playbooks, past interactions) into the index",
    response_model=IndexReportPublic,
    responses={**AUTH_ERRORS, **errors(400, 413, 503)},
)
async def upload_knowledge(
    files: Annotated[list[UploadFile], File(description="Markdown, text, HTML, PDF, JSONL, CSV")],
    settings: SettingsDep,
    index: IndexDep,
    _caller: AdminKey,
) -> IndexReportPublic:
    """Files are kept under the data directory's `uploads/` (so re-indexing and deleting by
    source work) and indexed; the report lists the problems of files that could not be read."""
    folder = settings.resolved_data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for upload in files:
        path = folder / safe_name(upload.filename)
        path.write_bytes(await upload.read())
        paths.append(path)
    report = as_dict(await run_in_threadpool(index.index_paths, paths))
    return IndexReportPublic(report=report, problems=_problems(report))


@router.get(
    "/sources",
    summary="Indexed sources, with chunk counts, and index statistics",
    response_model=SourcesPublic,
    responses=AUTH_ERRORS,
)
def list_sources(index: IndexDep, _caller: ReviewerKey) -> SourcesPublic:
    sources = [
        as_dict(s) if not isinstance(s, str) else {"source": s} for s in index.list_sources()
    ]
    return SourcesPublic(sources=sources, stats=as_dict(index.stats()))


@router.delete(
    "/sources/{source:path}",
    summary="Remove every chunk of a source from the index",
    response_model=SourceDeleted,
    responses={**AUTH_ERRORS, **errors(404)},
)
def delete_source(source: str, index: IndexDep, _caller: AdminKey) -> SourceDeleted:
    deleted = index.delete_source(source)
    count = int(deleted) if isinstance(deleted, int | bool) else 0
    if count == 0:
        raise NotFoundError(
            f"No chunks from source '{source}' are in the index.",
            hint="GET /v1/knowledge/sources lists the sources",
        )
    return SourceDeleted(source=source, deleted=count)


def _natural(text: str | None) -> list[tuple[int, int | str]]:
    """Sort key that puts "Section 2" before "Section 10"."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text or "")]


def _file_order(path: str | None, source: str, community: str) -> dict[str, int]:
    """Chunk id -> position, by loading the source's file again (when it is still there)."""
    if not path or not Path(path).is_file():
        return {}
    from copilot.knowledge import load_file

    loaded = load_file(Path(path), source=source, community_id=community)
    return {chunk.id: number for number, chunk in enumerate(loaded.chunks)}


def read_source(index: Any, source: str, community: str | None) -> SourceTextPublic:
    """Every chunk of `source`, in document order (NotFoundError when it has none)."""
    community_id = community or index.community_id
    for kind in (SnippetKind.GUIDELINE, SnippetKind.INTERACTION):
        col = index.collection(kind, community_id)
        try:
            got = col.get(where={"source": source}, include=["documents", "metadatas"])
        except Exception as exc:  # Chroma raises many types; say which collection failed
            raise IndexError_(
                f"cannot read the collection {col.name}: {exc}",
                hint="check the index with GET /v1/ready",
            ) from exc
        if not got["ids"]:
            continue
        rows = list(zip(got["ids"], got["documents"], got["metadatas"], strict=True))
        path = next((m.get("path") for _, _, m in rows if m and m.get("path")), None)
        order = _file_order(path, source, community_id)
        rows.sort(
            key=lambda r: (
                order.get(r[0], len(order)),
                _natural(str((r[2] or {}).get("heading") or "")),
                str((r[2] or {}).get("created_at") or ""),
                r[0],
            )
        )
        chunks = [
            SourceChunkPublic(
                id=id_,
                text=document or "",
                title=(meta or {}).get("title"),
                heading=(meta or {}).get("heading"),
                moment=(meta or {}).get("moment"),
                metadata={k: v for k, v in (meta or {}).items() if k not in _INTERNAL_META},
            )
            for id_, document, meta in rows
        ]
        return SourceTextPublic(
            source=source,
            kind=kind,
            community_id=community_id,
            title=next((c.title for c in chunks if c.title), None),
            chunks=chunks,
        )
    raise NotFoundError(
        f"No chunks from source '{source}' are in the index.",
        hint="GET /v1/knowledge/sources lists the sources",
    )


@router.get(
    "/sources/{source:path}",
    summary="A source's full text: its chunks in document order, with their headings",
    response_model=SourceTextPublic,
    responses={**AUTH_ERRORS, **errors(404, 503)},
)
def get_source(
    source: str,
    index: IndexDep,
    _caller: ReviewerKey,
    community: Annotated[str | None, Blank] = None,
) -> SourceTextPublic:
    """Open a citation at its origin: every chunk of the guideline or past-interaction file it
    came from (a citation's `id` is one of these chunks' ids). Chunks are ordered as in the
    file when the file is still where it was indexed from, else by heading."""
    return read_source(index, source, community)


@router.get(
    "/search",
    summary="Search the index as drafting does",
    response_model=SearchResults,
    responses=AUTH_ERRORS,
)
def search_knowledge(
    index: IndexDep,
    _caller: ReviewerKey,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    kind: Annotated[SnippetKind | None, Blank] = None,
    moment: Annotated[MomentType | None, Blank] = None,
) -> SearchResults:
    snippets = index.search(q, k=k, kind=kind, moment=moment)
    return SearchResults(query=q, results=[SnippetPublic(**s.model_dump()) for s in snippets])
