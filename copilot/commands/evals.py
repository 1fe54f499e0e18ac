"""`moments eval …`: tone evals. `eval score` scores a file of replies with the tone scorers.

Other eval commands (`eval run`, `eval compare`) register on the same `eval_app`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from evals.score import ScoreReport

eval_app = typer.Typer(
    name="eval",
    help="Tone evals: score replies, run suites, compare runs.",
    no_args_is_help=True,
)

# Columns shown in the human table (every dimension is in --json and in the averages line).
_TABLE_DIMS = (
    ("overall", "overall"),
    ("empathy", "empathy"),
    ("politeness", "polite"),
    ("warmth", "warm"),
    ("personalization", "personal"),
    ("clarity", "clear"),
    ("guideline_compliance", "guide"),
    ("hostility", "hostile↓"),
    ("over_promising", "promise↓"),
    ("defensiveness", "defens↓"),
)


@eval_app.command("score")
def score(
    file: Annotated[
        Path, typer.Argument(help="CSV or JSONL with `text` (+ id, post, member_name, moment).")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line: id, scores, flags, evidence.")
    ] = False,
) -> None:
    """Score each reply in FILE on every tone dimension and the guardrails.

    Exit code 0 if every row was scored, 1 if some rows were bad (they are named on stderr
    with file and line; the others are still scored), 2 if the file could not be read.
    """
    from copilot.errors import MomentsError
    from evals.score import score_file

    try:
        report = score_file(file)
    except MomentsError as exc:
        typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    for err in report.errors:
        typer.secho(f"Error: {err}", err=True, fg=typer.colors.RED)
    if as_json:
        for row in report.rows:
            typer.echo(json.dumps(row.to_json(), ensure_ascii=False))
    else:
        _print_table(report)
    if report.errors:
        typer.secho(
            f"{len(report.errors)} bad row(s) skipped, {len(report.rows)} scored.",
            err=True,
            fg=typer.colors.YELLOW,
        )
        raise typer.Exit(1)


def _print_table(report: ScoreReport) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from copilot.tone import DIMENSIONS, HIGHER_IS_WORSE, SCORER_VERSION

    probe = Console()
    console = Console(width=max(probe.width, 140)) if not probe.is_terminal else probe
    table = Table(
        title=f"Tone scores: {report.path} ({SCORER_VERSION})", box=box.SIMPLE, pad_edge=False
    )
    table.add_column("id", overflow="fold", max_width=16)
    table.add_column("moment", no_wrap=True)
    for _, header in _TABLE_DIMS:
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("flags", overflow="fold")
    for row in report.rows:
        cells = [f"{row.card.scores[d].score:.2f}" for d, _ in _TABLE_DIMS]
        flags = ", ".join(f.code for f in row.card.flags) or "-"
        table.add_row(row.id, row.moment.value if row.moment else "-", *cells, flags)
    avg = report.averages()
    if avg:
        table.add_section()
        table.add_row(
            f"average ({len(report.rows)})", "", *[f"{avg[d]:.2f}" for d, _ in _TABLE_DIMS], ""
        )
    console.print(table)
    if avg:
        parts = [
            f"{d}{' (lower is better)' if d in HIGHER_IS_WORSE else ''} {avg[d]:.2f}"
            for d in DIMENSIONS
        ]
        console.print("Averages: " + "; ".join(parts))
        counts = report.flag_counts()
        console.print(
            "Flags: " + (", ".join(f"{k} x{v}" for k, v in counts.items()) if counts else "none")
        )
    else:
        console.print("No rows scored.")


def register(app: typer.Typer) -> None:
    """Add `moments eval …` to the app."""
    app.add_typer(eval_app, name="eval")
