"""`moments crisis`: incident facts (YAML) in, fact-locked statements for every channel out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from copilot.errors import MomentsError

if TYPE_CHECKING:
    from rich.text import Text

    from copilot.llm.base import ChatModel
    from copilot.types import Statement, StatementSet


def _build_model() -> ChatModel:
    """The configured chat model (a seam tests replace)."""
    from copilot.llm.factory import build_chat_model
    from copilot.settings import get_settings

    return build_chat_model(get_settings())


def _print_human(result: StatementSet) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    for channel, statement in result.statements.items():
        body = _highlighted(statement)
        limit_note = f"{len(statement.text)} chars, {statement.attempts} model call(s)"
        if statement.violations:
            body.append("\n\nViolations:\n", style="bold red")
            for violation in statement.violations:
                span = f' "{violation.span}"' if violation.span else ""
                body.append(f"  - {violation.code}: {violation.message}{span}\n", style="red")
        style = "red" if statement.violations else "green"
        title = Text(f"{channel} ({result.stage})", style=f"bold {style}")
        console.print(Panel(body, title=title, subtitle=limit_note, border_style=style))
    bad = sum(1 for s in result.statements.values() if s.violations)
    summary = "all statements pass the fact-lock" if not bad else f"{bad} statement(s) need review"
    console.print(Text(summary, style="bold red" if bad else "bold green"))


def _highlighted(statement: Statement) -> Text:
    from rich.text import Text

    text = Text(statement.text)
    for violation in statement.violations:
        if violation.span:
            text.highlight_words([violation.span], style="bold white on red", case_sensitive=False)
    return text


def crisis(
    facts: Annotated[
        Path,
        typer.Option("--facts", help="YAML file of incident facts (see knowledge/incidents/)."),
    ],
    stage: Annotated[str, typer.Option("--stage", help="initial | update | resolved")] = "initial",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of panels.")] = False,
) -> None:
    """Draft fact-locked crisis statements (forum, banner, email, social) from incident facts."""
    from copilot.crisis import draft_statements, load_facts_file
    from copilot.factlock import STAGES

    try:
        if stage not in STAGES:
            raise MomentsError(f"unknown stage '{stage}'; use one of {', '.join(STAGES)}")
        incident = load_facts_file(facts, stage=stage)
        result = draft_statements(incident, model=_build_model(), stage=stage)
    except MomentsError as exc:
        typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    if as_json:
        payload = {
            "stage": result.stage,
            "statements": {
                channel: {
                    "text": statement.text,
                    "violations": [v.model_dump() for v in statement.violations],
                    "attempts": statement.attempts,
                }
                for channel, statement in result.statements.items()
            },
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        _print_human(result)


def register(app: typer.Typer) -> None:
    """Add `moments crisis` to the app."""
    app.command("crisis")(crisis)
