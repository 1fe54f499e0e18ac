"""`moments`: the command line. The composition root of the product.

Each area registers its commands from `copilot.commands.<area>`; heavy imports happen inside
the commands, so `moments --help` is instant. Every `MomentsError` ends as one readable line
on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import sys

import typer

from copilot.commands import crisis, drafting, evals, knowledge, models, server, stack
from copilot.errors import MomentsError

app = typer.Typer(
    name="moments",
    help="Moments: a response copilot for community managers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for area in (models, knowledge, drafting, crisis, evals, server, stack):
    area.register(app)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error line to stderr and return the Exit to raise."""
    typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def main() -> None:
    try:
        app()
    except MomentsError as exc:
        typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("Interrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
