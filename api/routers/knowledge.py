"""The knowledge index: upload guidelines and past interactions (admin), list and delete
sources (admin for deletes), search (reviewer)."""

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
    SourceDeleted,
    SourcesPublic,
    errors,
)
from copilot.errors import InputError, NotFoundError
from copilot.types import MomentType, SnippetKind

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
