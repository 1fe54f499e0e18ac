"""Server-side commands: API keys and the background worker (and `serve`, below).

moments keys create --role plugin|reviewer|admin [--name N]   prints the key once
moments keys list
moments keys revoke ID
moments worker [--once] [--concurrency 1] [--poll 1.0]
moments serve [--host H] [--port P] [--reload] [--workers N] [--access-log]
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from copilot.errors import MomentsError

keys_app = typer.Typer(
    help="API keys for forum plugins, reviewers and admins.", no_args_is_help=True
)


def _error(exc: MomentsError) -> typer.Exit:
    typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="plugin, reviewer or admin.")],
    name: Annotated[str | None, typer.Option("--name", help="Who or what uses the key.")] = None,
) -> None:
    """Create an API key. The key is printed once; only its sha256 is stored."""
    from copilot.store import open_store
    from copilot.store_records import ROLES

    if role not in ROLES:
        raise _error(MomentsError(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}."))
    try:
        store = open_store()
        record, plaintext = store.create_api_key(role, name or role)
        store.close()
    except MomentsError as exc:
        raise _error(exc) from None
    typer.echo(
        f"Created key {record.id} ({record.role}, {record.name}). Copy it now, it is not shown again:"
    )
    typer.echo(plaintext)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (never the keys themselves)."""
    from rich.console import Console
    from rich.table import Table

    from copilot.store import open_store

    try:
        store = open_store()
        keys = store.list_api_keys()
        store.close()
    except MomentsError as exc:
        raise _error(exc) from None
    table = Table("id", "name", "role", "prefix", "created", "last used", "revoked")
    for key in keys:
        table.add_row(
            str(key.id),
            key.name,
            key.role,
            key.prefix + "…",
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "-",
            key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "-",
        )
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (moments keys list).")],
) -> None:
    """Revoke an API key; requests with it fail from now on."""
    from copilot.store import open_store

    try:
        store = open_store()
        record = store.revoke_api_key(key_id)
        store.close()
    except MomentsError as exc:
        raise _error(exc) from None
    typer.echo(f"Revoked key {record.id} ({record.role}, {record.name}).")


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run until the queue is empty, then exit.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=16, help="Claim loops in threads.")
    ] = 1,
    poll: Annotated[
        float, typer.Option("--poll", min=0.05, help="Seconds between polls when idle.")
    ] = 1.0,
    lease: Annotated[
        float, typer.Option("--lease", min=1, help="Seconds a claimed job stays leased.")
    ] = 300.0,
    worker_id: Annotated[
        str | None, typer.Option("--id", help="Worker id (default: host-pid-random).")
    ] = None,
) -> None:
    """Draft replies in the background: claim queued posts, draft, store for review."""
    from copilot.settings import get_settings
    from copilot.worker import run_worker

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        stats = run_worker(
            get_settings(),
            once=once,
            worker_id=worker_id,
            concurrency=concurrency,
            poll=poll,
            lease_seconds=lease,
        )
    except MomentsError as exc:
        raise _error(exc) from None
    typer.echo(
        f"Worker {stats.worker_id}: {stats.claimed} claimed, {stats.drafted} drafted, "
        f"{stats.learned} learned, {stats.failed} failed, {stats.lost_leases} lost leases, "
        f"{stats.published} published."
    )


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to bind (default MOMENTS_API_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port (default MOMENTS_API_PORT)."),
    ] = None,
    reload: Annotated[
        bool, typer.Option("--reload", help="Restart on code changes (development).")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=32, help="Uvicorn worker processes.")
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request (off by default: GET /v1/metrics counts them per route).",
        ),
    ] = False,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs). Drafting runs in `moments worker`.

    Uses uvloop and httptools when installed (uvicorn's fast event loop and HTTP parser):
    with them the webhook path spends markedly less CPU per request (benchmarks/README.md)."""
    import importlib.util

    import uvicorn

    from copilot.settings import get_settings

    try:
        settings = get_settings()
    except MomentsError as exc:
        raise _error(exc) from None
    bind_host = host or settings.api_host
    bind_port = port or settings.api_port
    typer.echo(f"Moments API on http://{bind_host}:{bind_port} (docs: /docs, health: /v1/health)")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        reload=reload,
        workers=None if reload else workers,
        log_level="info",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "auto",
        http="httptools" if importlib.util.find_spec("httptools") else "auto",
        access_log=access_log,
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the `moments` app."""
    app.add_typer(keys_app, name="keys")
    app.command("worker")(worker)
    # ---- `serve` (API helper) ------------------------------------------------------------
    app.command("serve")(serve)
    # ---- end `serve` ----------------------------------------------------------------------
