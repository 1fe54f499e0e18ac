"""Liveness (`/health`), readiness (`/ready`, each dependency reported) and metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response

from api import VERSION
from api.deps import ReviewerKey, SettingsDep, StoreDep, get_index
from api.limits import RequestMetrics
from api.schemas import (
    AUTH_ERRORS,
    HealthPublic,
    MetricsPublic,
    ReadyCheck,
    ReadyPublic,
    RouteMetrics,
)
from copilot.settings import Settings
from copilot.store import Store

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Liveness: the process answers (HEAD works too, for load balancers)",
    response_model=HealthPublic,
)
def health() -> HealthPublic:
    return HealthPublic(version=VERSION)


@router.head("/health", include_in_schema=False)
def health_head() -> None:
    return None


def _check_store(store: Store) -> ReadyCheck:
    try:
        ok = store.health()
    except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
        return ReadyCheck(name="database", ok=False, detail=f"unreachable: {exc}")
    return ReadyCheck(name="database", ok=ok, detail="reachable" if ok else "health check failed")


def _check_index(request: Request) -> ReadyCheck:
    try:
        index = get_index(request)
        stats = index.stats()
    except Exception as exc:  # noqa: BLE001
        return ReadyCheck(name="index", ok=False, detail=f"cannot open: {exc}")
    return ReadyCheck(name="index", ok=True, detail=f"open: {stats}")


def _check_model(request: Request, settings: Settings) -> ReadyCheck:
    model = request.app.state.model
    if model is not None:
        return ReadyCheck(name="model", ok=True, detail=f"loaded: {model.provider}/{model.name}")
    if settings.llm_provider == "openai":
        return ReadyCheck(
            name="model",
            ok=True,
            detail=f"OpenAI-compatible server {settings.llm_base_url}, model {settings.llm_model}",
        )
    try:
        from copilot.models import model_status

        selected = [s for s in model_status(settings) if s.selected]
    except Exception as exc:  # noqa: BLE001
        return ReadyCheck(name="model", ok=False, detail=f"cannot check: {exc}")
    if not selected:
        return ReadyCheck(name="model", ok=False, detail="no model selected")
    status = selected[-1]
    if status.assembled:
        return ReadyCheck(name="model", ok=True, detail=f"{status.name} at {status.path}")
    if status.installable:
        return ReadyCheck(
            name="model",
            ok=True,
            detail=f"{status.name}: packages installed; assembled on first use "
            "(or run `moments models prepare`)",
        )
    return ReadyCheck(
        name="model",
        ok=False,
        detail=f"{status.name}: missing packages {', '.join(status.missing_packages[:3])}; "
        f"{status.install_hint}",
    )


@router.get(
    "/ready",
    summary="Readiness: database, index and model, each reported",
    response_model=ReadyPublic,
    responses={503: {"model": ReadyPublic, "description": "A dependency is not ready"}},
)
def ready(
    request: Request, response: Response, store: StoreDep, settings: SettingsDep
) -> ReadyPublic:
    checks = [_check_store(store), _check_index(request), _check_model(request, settings)]
    result = ReadyPublic(ready=all(c.ok for c in checks), checks=checks)
    if not result.ready:
        response.status_code = 503
    return result


def status_counts(store: Store) -> dict[str, dict[str, int]]:
    """Rows per status of jobs, drafts and publications: three GROUP BY queries.
    (Read-only over the store's tables; the store has no counting method of its own yet.)"""
    from sqlalchemy import func, select

    from copilot.store_models import DraftRow, JobRow, PublicationRow

    counts: dict[str, dict[str, int]] = {}
    with store.engine.connect() as connection:
        for name, table in (
            ("jobs", JobRow),
            ("drafts", DraftRow),
            ("publications", PublicationRow),
        ):
            rows = connection.execute(
                select(table.status, func.count()).group_by(table.status)
            ).all()
            counts[name] = {str(status): int(n) for status, n in rows}
    return counts


@router.get(
    "/metrics",
    summary="Counts of jobs, drafts and publications; request counts and latency per route",
    response_model=MetricsPublic,
    responses=AUTH_ERRORS,
)
def metrics(request: Request, store: StoreDep, _caller: ReviewerKey) -> MetricsPublic:
    recorder: RequestMetrics = request.app.state.metrics
    counts = status_counts(store)
    return MetricsPublic(
        uptime_seconds=round(time.time() - recorder.started, 1),
        jobs=counts["jobs"],
        drafts=counts["drafts"],
        publications=counts["publications"],
        requests={k: RouteMetrics(**v) for k, v in recorder.snapshot().items()},
    )
