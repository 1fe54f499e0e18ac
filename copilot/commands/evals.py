"""`moments eval …`: tone evals. `eval score` scores a file of replies with the tone scorers;
`eval run` drafts and checks a suite of cases (evals/suites/*.yaml); `eval compare` compares
two runs with bootstrap confidence intervals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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


@eval_app.command("run")
def run(
    suite: Annotated[str, typer.Argument(help="A suite YAML file, or a bundled suite name.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="scripted (reference replies), fake, a bundled model name, a GGUF path, or "
            "with the openai provider a server model name. Default: MOMENTS_LLM_MODEL.",
        ),
    ] = None,
    prompt_version: Annotated[
        str | None,
        typer.Option("--prompt-version", help="Refuse to run unless the prompts' sha starts so."),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=32, help="Cases in parallel.")] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the run JSON + HTML.")
    ] = None,
    cases: Annotated[
        str | None, typer.Option("--cases", help="Only these case ids (comma-separated).")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Draft every case again.")] = False,
    judge: Annotated[
        bool, typer.Option("--judge", help="Add LLM-judge scores (same model) beside the scores.")
    ] = False,
) -> None:
    """Draft every case of SUITE, score it, check its assertions; write JSON + HTML.

    Exit code 0 when every assertion held, 1 when any failed, 2 for bad input.
    """
    from copilot.errors import MomentsError

    try:
        report = _run_suite(suite, model, prompt_version, jobs, out, cases, no_cache, judge)
    except MomentsError as exc:
        typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    if report["failed"]:
        raise typer.Exit(1)


def _run_suite(
    suite_name: str,
    model_name: str | None,
    prompt_version: str | None,
    jobs: int,
    out: Path | None,
    case_ids: str | None,
    no_cache: bool,
    judge: bool,
) -> dict[str, Any]:
    from copilot.settings import get_settings
    from evals.runner import open_retriever, resolve_model, run_suite, write_run
    from evals.suite import load_suite

    settings = get_settings()
    suite = load_suite(suite_name)
    if case_ids:
        suite = suite.select([i.strip() for i in case_ids.split(",") if i.strip()])
    # Check the prompt pin before loading anything heavy.
    from evals.runner import check_prompt_version

    check_prompt_version(settings, prompt_version)
    model_for, name, settings = resolve_model(model_name, settings)
    retriever = open_retriever(settings, echo=lambda m: typer.echo(m, err=True))
    done = 0

    def progress(result: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        mark = "ok " if result["passed"] else "FAIL"
        typer.echo(
            f"[{done}/{len(suite.cases)}] {mark} {result['id']}"
            f"{' (cached)' if result['cached'] else ''}",
            err=True,
        )

    report = run_suite(
        suite,
        model_for=model_for,
        retriever=retriever,
        settings=settings,
        model_name=name,
        jobs=jobs,
        use_cache=not no_cache,
        judge=judge,
        prompt_version=prompt_version,
        progress=progress,
    )
    json_path, html_path = write_run(report, out or settings.resolved_eval_runs_dir)
    _print_run(report)
    typer.echo(f"Run written to {json_path}")
    typer.echo(f"Report:        {html_path}")
    return report


def _print_run(report: dict[str, Any]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from copilot.tone import DIMENSIONS, HIGHER_IS_WORSE

    probe = Console()
    console = Console(width=max(probe.width, 140)) if not probe.is_terminal else probe
    table = Table(
        title=f"{report['suite']} × {report['model']} (prompt {report['prompt_sha'][:12]})",
        box=box.SIMPLE,
        pad_edge=False,
    )
    table.add_column("id", overflow="fold", max_width=34)
    table.add_column("moment", no_wrap=True)
    table.add_column("result", no_wrap=True)
    for _, header in _TABLE_DIMS[:6]:
        table.add_column(header, justify="right", no_wrap=True)
    for case in report["cases"]:
        scores = case.get("scores") or {}
        table.add_row(
            case["id"],
            case["moment"],
            "[green]pass[/]" if case["passed"] else "[red]FAIL[/]",
            *[f"{scores[d]:.2f}" if d in scores else "-" for d, _ in _TABLE_DIMS[:6]],
        )
    console.print(table)
    summary = report.get("summary") or {}
    if summary:
        console.print(
            "Mean per dimension: "
            + "; ".join(
                f"{d}{'↓' if d in HIGHER_IS_WORSE else ''} {summary[d]:.2f}" for d in DIMENSIONS
            )
        )
    failed = [c for c in report["cases"] if not c["passed"]]
    for case in failed:
        console.print(f"[red]FAIL[/] {case['id']}: " + "; ".join(case["failures"]))
    agree = sum(1 for c in report["cases"] if c.get("classified_as") == c["moment"])
    console.print(
        f"{report['passed']} passed, {report['failed']} failed of {len(report['cases'])} "
        f"in {report['seconds']:.1f} s ({sum(1 for c in report['cases'] if c['cached'])} cached); "
        f"classifier agreed with the suite's moment on {agree} of {len(report['cases'])}."
    )


@eval_app.command("compare")
def compare(
    run_a: Annotated[Path, typer.Argument(help="The baseline run JSON.")],
    run_b: Annotated[Path, typer.Argument(help="The new run JSON.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML comparison report here.")
    ] = None,
) -> None:
    """Per-dimension mean deltas (B − A) with 95% bootstrap CIs; regressed and improved cases."""
    from copilot.errors import MomentsError
    from evals.compare import compare_runs
    from evals.report import render_compare_html
    from evals.runner import load_run

    try:
        result = compare_runs(load_run(run_a), load_run(run_b))
    except MomentsError as exc:
        typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    if html is not None:
        html.write_text(render_compare_html(result), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    _print_compare(result)


def _print_compare(result: dict[str, Any]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    probe = Console()
    console = Console(width=max(probe.width, 120)) if not probe.is_terminal else probe
    table = Table(
        title=f"A {result['run_a']}  vs  B {result['run_b']} ({result['paired_cases']} cases)",
        box=box.SIMPLE,
        pad_edge=False,
    )
    for header in ("dimension", "mean A", "mean B", "B − A", "95% CI", "change"):
        table.add_column(header, justify="left" if header in ("dimension", "change") else "right")
    for dim, d in result["dimensions"].items():
        colour = {"better": "green", "worse": "red"}.get(d["direction"], "")
        change = f"[{colour}]{d['direction']}[/]" if colour else d["direction"]
        table.add_row(
            dim + (" ↓" if d["higher_is_worse"] else ""),
            f"{d['mean_a']:.3f}",
            f"{d['mean_b']:.3f}",
            f"{d['delta']:+.3f}",
            f"[{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]",
            change,
        )
    console.print(table)
    console.print(f"Passed: {result['passed_a']} → {result['passed_b']}")
    for title, items in (("Regressed", result["regressed"]), ("Improved", result["improved"])):
        console.print(f"{title} ({len(items)}):")
        for item in items:
            console.print(f"  {item['id']}: " + "; ".join(item["why"]))


def register(app: typer.Typer) -> None:
    """Add `moments eval …` to the app."""
    app.add_typer(eval_app, name="eval")
