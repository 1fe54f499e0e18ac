"""Eval runs written by `moments eval run`: list them, read one, compare two (the comparison
`moments eval compare` makes: paired cases, bootstrap intervals, cases that moved).

Runs are the JSON files in MOMENTS_EVAL_RUNS_DIR when set, else in `<data dir>/eval-runs`
(where the CLI writes them), `<data dir>/evals/runs` and `./evals/runs`. A file that is not a
run is listed under `problems` with the reason, never an error. Parsed files are cached by
modification time, so listing does not re-read unchanged runs.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import ReviewerKey, SettingsDep
from api.schemas import (
    AUTH_ERRORS,
    EvalComparisonPublic,
    EvalRunPublic,
    EvalRunsPublic,
    EvalRunSummary,
    errors,
)
from copilot.errors import InputError, NotFoundError
from copilot.settings import Settings

router = APIRouter(prefix="/evals", tags=["evals"])


_cache: dict[Path, tuple[int, int, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def run_dirs(settings: Settings) -> list[Path]:
    """Where runs are looked for: MOMENTS_EVAL_RUNS_DIR (default `<data dir>/eval-runs`),
    where `moments eval run` writes them."""
    return [settings.resolved_eval_runs_dir]


def read_run(path: Path) -> dict[str, Any]:
    """One run file as the runner wrote it; InputError naming the problem otherwise."""
    stat = path.stat()
    with _cache_lock:
        cached = _cache.get(path)
    if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name}: not readable JSON ({exc})") from None
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(cases, list):
        raise InputError(f"{path.name}: not a run (no 'cases' list)")
    if not all(isinstance(c, dict) and "id" in c and "passed" in c for c in cases):
        raise InputError(f"{path.name}: not written by `moments eval run` (cases lack id/passed)")
    data.setdefault("run_id", path.stem)
    with _cache_lock:
        if len(_cache) > 500:
            _cache.clear()
        _cache[path] = (stat.st_mtime_ns, stat.st_size, data)
    return data


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def summarise(path: Path, run: dict[str, Any]) -> EvalRunSummary:
    cases = run["cases"]
    summary = run.get("summary") if isinstance(run.get("summary"), dict) else {}
    return EvalRunSummary(
        run_id=str(run["run_id"]),
        file=path.name,
        suite=str(run.get("suite") or ""),
        model=str(run.get("model") or ""),
        started_at=_time(run.get("started_at")),
        seconds=_number(run.get("seconds")),
        judge=bool(run.get("judge")),
        prompt_sha=str(run["prompt_sha"]) if run.get("prompt_sha") else None,
        scorer_version=str(run["scorer_version"]) if run.get("scorer_version") else None,
        cases=len(cases),
        passed=sum(1 for c in cases if c.get("passed")),
        failed=sum(1 for c in cases if not c.get("passed")),
        summary={str(k): float(v) for k, v in (summary or {}).items() if _number(v) is not None},
        higher_is_worse=[str(d) for d in run.get("higher_is_worse") or []],
    )


def load_runs(settings: Settings) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
    """Every run found (oldest first) and the files skipped, with why."""
    runs: list[tuple[Path, dict[str, Any]]] = []
    problems: list[str] = []
    seen: set[Path] = set()
    for folder in run_dirs(settings):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            try:
                runs.append((path, read_run(path)))
            except InputError as exc:
                problems.append(exc.message)
            except OSError as exc:
                problems.append(f"{path.name}: cannot read ({exc})")
    runs.sort(key=lambda item: (str(item[1].get("started_at") or ""), item[0].name))
    return runs, problems


def find_run(settings: Settings, run_id: str) -> tuple[Path, dict[str, Any]]:
    runs, _ = load_runs(settings)
    for path, run in runs:
        if str(run["run_id"]) == run_id or path.stem == run_id:
            return path, run
    raise NotFoundError(
        f"No eval run '{run_id}'.",
        hint="GET /v1/evals/runs lists the runs; `moments eval run` makes one",
    )


@router.get(
    "/runs",
    summary="Eval runs (oldest first): suite, model, pass counts and mean score per dimension",
    response_model=EvalRunsPublic,
    responses=AUTH_ERRORS,
)
async def list_runs(settings: SettingsDep, _caller: ReviewerKey) -> EvalRunsPublic:
    runs, problems = await run_in_threadpool(load_runs, settings)
    return EvalRunsPublic(
        runs=[summarise(path, run) for path, run in runs],
        problems=problems,
        folders=[str(f) for f in run_dirs(settings)],
    )


@router.get(
    "/runs/{run_id}",
    summary="One eval run with every case's result",
    response_model=EvalRunPublic,
    responses={**AUTH_ERRORS, **errors(404)},
)
async def get_run(run_id: str, settings: SettingsDep, _caller: ReviewerKey) -> EvalRunPublic:
    path, run = await run_in_threadpool(find_run, settings, run_id)
    agreement = _number(run.get("classifier_agreement"))
    return EvalRunPublic(
        **summarise(path, run).model_dump(),
        results=list(run["cases"]),
        classifier_agreement=agreement,
    )


def _compare(settings: Settings, a: str, b: str) -> dict[str, Any]:
    from evals.compare import compare_runs

    _, run_a = find_run(settings, a)
    _, run_b = find_run(settings, b)
    try:
        result: dict[str, Any] = compare_runs(run_a, run_b)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"Runs '{a}' and '{b}' cannot be compared: a case lacks {exc}.",
            hint="compare runs written by `moments eval run`",
        ) from None
    return result


@router.get(
    "/compare",
    summary="Compare two runs: per-dimension change with 95% bootstrap intervals, cases that "
    "regressed or improved",
    response_model=EvalComparisonPublic,
    responses={**AUTH_ERRORS, **errors(400, 404)},
)
async def compare(
    settings: SettingsDep,
    _caller: ReviewerKey,
    a: Annotated[str, Query(min_length=1, description="The baseline run's id")],
    b: Annotated[str, Query(min_length=1, description="The candidate run's id")],
) -> EvalComparisonPublic:
    result = await run_in_threadpool(_compare, settings, a, b)
    return EvalComparisonPublic.model_validate(result)
