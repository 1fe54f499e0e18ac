"""`moments index`, `moments search`, `moments sources`: the knowledge base from the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from copilot.errors import MomentsError
from copilot.types import MomentType, SnippetKind

if TYPE_CHECKING:
    from rich.console import Console

    from copilot.retrieval import IndexReport, KnowledgeIndex


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _open(community: str | None = None) -> KnowledgeIndex:
    from copilot.retrieval import open_index
    from copilot.settings import get_settings

    index = open_index(get_settings())
    if community:
        index.community_id = community
    return index


def index_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to index (default: the knowledge folder)."),
    ] = None,
    community: Annotated[
        str | None, typer.Option("--community", help="Community id (default: the setting).")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the community's index first, then index.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Index guidelines (Markdown, text, HTML, PDF) and past interactions (JSONL, CSV).

    Unchanged chunks are not embedded again; files removed from an indexed folder leave the
    index. Exit code 0 if anything was indexed (problems are listed), 2 if nothing could be.
    """
    from copilot.settings import get_settings

    try:
        settings = get_settings()
        targets = list(paths or [settings.resolved_knowledge_dir])
        index = _open(community)
        if rebuild:
            index.reset()
        report = _run_index(index, targets, quiet=as_json)
    except MomentsError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        _print_report(report)
    if not report.indexed_anything:
        raise typer.Exit(2)


def _run_index(index: KnowledgeIndex, targets: list[Path], *, quiet: bool) -> IndexReport:
    if quiet:
        return index.index_paths(targets)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=_console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}
        labels = {"load": "Reading files", "embed": "Embedding chunks"}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return index.index_paths(targets, progress=progress)


def _print_report(report: IndexReport) -> None:
    from rich.table import Table

    console = _console()
    table = Table(title=f"Indexed in {report.seconds:.1f} s (community {report.community_id})")
    table.add_column("files seen", justify="right")
    table.add_column("files indexed", justify="right")
    for name in ("added", "updated", "unchanged", "removed"):
        table.add_column(f"chunks {name}", justify="right")
    table.add_row(
        str(report.files_seen),
        str(report.files_indexed),
        str(report.chunks_added),
        str(report.chunks_updated),
        str(report.chunks_unchanged),
        str(report.chunks_removed),
    )
    console.print(table)
    if report.skipped:
        console.print(
            f"skipped {len(report.skipped)} file(s) of other types: " + ", ".join(report.skipped),
            markup=False,
        )
    for source in report.sources_removed:
        console.print(f"removed from the index: {source} (its file is gone)")
    if report.problems:
        console.print(f"[yellow]{len(report.problems)} problem(s):[/yellow]")
        for problem in report.problems:
            console.print(f"  - {problem}", markup=False)
    if not report.indexed_anything:
        typer.secho("Nothing could be indexed.", err=True, fg=typer.colors.RED)


def search_command(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="How many results.")] = 5,
    kind: Annotated[
        SnippetKind | None, typer.Option("--kind", help="guideline or interaction.")
    ] = None,
    moment: Annotated[
        MomentType | None, typer.Option("--moment", help="Only chunks tagged with this moment.")
    ] = None,
    community: Annotated[str | None, typer.Option("--community", help="Community id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Search the knowledge base (what drafting would be grounded on)."""
    try:
        index = _open(community)
        snippets = index.search(query, k=k, kind=kind, moment=moment, community_id=community)
    except MomentsError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in snippets], indent=2))
        return
    if not snippets:
        typer.echo("No results. Has the knowledge base been indexed? Run `moments index`.")
        return
    from rich.table import Table

    table = Table(show_lines=True)
    for column in ("score", "kind", "source / heading", "text"):
        table.add_column(column)
    for snippet in snippets:
        text = " ".join(snippet.text.split())
        text = text if len(text) <= 300 else text[:297] + "..."
        where = snippet.source + (f"\n{snippet.heading}" if snippet.heading else "")
        if snippet.moment:
            where += f"\n(moment: {snippet.moment.value})"
        table.add_row(f"{snippet.score:.3f}", snippet.kind.value, where, text)
    _console().print(table)


sources_app = typer.Typer(
    help="List the indexed sources, or remove one.", invoke_without_command=True
)


@sources_app.callback()
def sources_list(
    ctx: typer.Context,
    community: Annotated[str | None, typer.Option("--community", help="Community id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List indexed sources: kind, number of chunks, when last indexed."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        sources = _open(community).list_sources()
    except MomentsError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in sources], indent=2))
        return
    if not sources:
        typer.echo("The index is empty. Run `moments index`.")
        return
    from rich.table import Table

    table = Table()
    for column in ("source", "kind", "chunks", "last indexed"):
        table.add_column(column)
    for info in sources:
        table.add_row(info.source, info.kind.value, str(info.chunks), info.last_indexed or "")
    _console().print(table)


@sources_app.command("remove")
def sources_remove(
    source: Annotated[str, typer.Argument(help="The source as `moments sources` lists it.")],
    community: Annotated[str | None, typer.Option("--community", help="Community id.")] = None,
) -> None:
    """Remove every chunk of one source from the index."""
    try:
        removed = _open(community).delete_source(source)
    except MomentsError as exc:
        raise _fail(str(exc)) from None
    if not removed:
        raise _fail(f"no indexed source named '{source}' (see `moments sources`)")
    typer.echo(f"Removed {removed} chunk(s) of {source}.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the `moments` app."""
    app.command("index")(index_command)
    app.command("search")(search_command)
    app.add_typer(sources_app, name="sources")
