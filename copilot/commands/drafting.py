"""`moments draft`: draft a reply to a member's post with the configured model."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from copilot.errors import InputError


def draft_to_json(draft: Any) -> dict[str, Any]:
    """The `--json` shape of a draft (also used by the eval runner)."""
    data: dict[str, Any] = draft.model_dump(mode="json")
    data["moment_detail"] = data["moment"]
    data["moment"] = draft.moment.type.value
    data["urgency"] = draft.moment.urgency.value
    return data


def _read_post_text(text: str | None, post_file: Path | None) -> str:
    if post_file is not None:
        if str(post_file) == "-":
            return sys.stdin.read()
        try:
            return post_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(
                f"{post_file}: no such file. Pass the post as text or an existing --post-file."
            ) from None
        except UnicodeDecodeError:
            raise InputError(
                f"{post_file}: not UTF-8 text. Save it as UTF-8 and try again."
            ) from None
    if text is None:
        raise InputError(
            "Give the member's post as an argument or with --post-file FILE (- for stdin)."
        )
    return text


def register(app: typer.Typer) -> None:
    @app.command("draft")
    def draft(
        text: Annotated[str | None, typer.Argument(help="The member's post.")] = None,
        post_file: Annotated[
            Path | None,
            typer.Option("--post-file", help="Read the post from a file (- for stdin)."),
        ] = None,
        title: Annotated[str | None, typer.Option(help="Topic title.")] = None,
        member_name: Annotated[str | None, typer.Option("--member-name")] = None,
        member_handle: Annotated[str | None, typer.Option("--member-handle")] = None,
        member_joined: Annotated[
            str | None, typer.Option("--member-joined", help="Join date, YYYY-MM-DD.")
        ] = None,
        member_posts: Annotated[int | None, typer.Option("--member-posts", min=0)] = None,
        member_role: Annotated[
            list[str] | None, typer.Option("--member-role", help="Repeatable.")
        ] = None,
        community: Annotated[
            str | None, typer.Option(help="Community id (default: MOMENTS_COMMUNITY_ID).")
        ] = None,
        variants: Annotated[int, typer.Option(min=1, max=3, help="Number of versions (1-3).")] = 1,
        warmth: Annotated[str, typer.Option(help="low | medium | high")] = "high",
        formality: Annotated[str, typer.Option(help="casual | neutral | formal")] = "neutral",
        length: Annotated[str, typer.Option(help="short | medium | long")] = "medium",
        instruction: Annotated[
            str | None, typer.Option(help='A reviewer instruction, e.g. "shorter".')
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the draft as JSON.")] = False,
        stream: Annotated[
            bool, typer.Option("--stream", help="Print the text as it is generated.")
        ] = False,
    ) -> None:
        """Draft a reply to a member's post, grounded in the knowledge base, with a tone card."""
        from pydantic import ValidationError

        from copilot.drafting import draft_reply, stream_reply
        from copilot.llm.factory import build_chat_model
        from copilot.retrieval import open_index
        from copilot.settings import get_settings
        from copilot.types import DraftOptions, Member, Post

        settings = get_settings()
        body = _read_post_text(text, post_file)
        joined: date | None = None
        if member_joined:
            try:
                joined = date.fromisoformat(member_joined)
            except ValueError:
                raise InputError(
                    f"--member-joined '{member_joined}' is not a date; use YYYY-MM-DD, e.g. 2024-05-01."
                ) from None
        try:
            options = DraftOptions(
                variants=variants,
                warmth=warmth,  # type: ignore[arg-type]
                formality=formality,  # type: ignore[arg-type]
                length=length,  # type: ignore[arg-type]
                instruction=instruction,
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InputError(f"--{err['loc'][0]}: {err['msg']}") from None
        post = Post(
            text=body,
            title=title,
            member=Member(
                name=member_name,
                handle=member_handle,
                joined_at=joined,
                post_count=member_posts,
                roles=member_role or [],
            ),
            community_id=community or settings.community_id,
        )
        if not post.text.strip():
            raise InputError("The post is empty; there is nothing to reply to.")
        index = open_index(settings)
        model = build_chat_model(settings)
        if stream and not as_json:
            final = None
            for piece in stream_reply(
                post, model=model, retriever=index, options=options, settings=settings
            ):
                if isinstance(piece, str):
                    typer.echo(piece, nl=False)
                else:
                    final = piece
            typer.echo("")
            if final is not None:
                if final.attempts > 1:
                    typer.secho(
                        "\n— regenerated after a guardrail flag; final text:\n", fg="yellow"
                    )
                    typer.echo(final.text)
                _print_summary(final)
            return
        result = draft_reply(post, model=model, retriever=index, options=options, settings=settings)
        if as_json:
            typer.echo(json.dumps(draft_to_json(result), indent=2, ensure_ascii=False))
            return
        typer.echo(result.text)
        for i, variant in enumerate(result.variants, start=2):
            typer.secho(f"\n— variant {i}\n", fg="cyan")
            typer.echo(variant)
        _print_summary(result)


def _print_summary(draft: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    m = draft.moment
    console.print(
        f"\n[bold]Moment[/]: {m.type.value} · urgency {m.urgency.value} · sentiment {m.sentiment_label}"
        + (f" · signals: {', '.join(m.signals)}" if m.signals else "")
    )
    table = Table(title="Tone card", show_lines=False)
    table.add_column("dimension")
    table.add_column("score", justify="right")
    table.add_column("evidence")
    for name, score in draft.tone.scores.items():
        table.add_row(name, f"{score.score:.2f}", "; ".join(score.evidence[:3]))
    console.print(table)
    for flag in draft.tone.flags:
        console.print(f"[red]flag[/] {flag.code}: {flag.message} {flag.evidence[:3]}")
    for warning in draft.warnings:
        console.print(f"[yellow]warning[/] {warning}")
    if draft.citations:
        console.print("[bold]Sources[/]:")
        for i, c in enumerate(draft.citations, start=1):
            console.print(
                f"  [{i}] {c.kind.value}: {c.source}" + (f" › {c.heading}" if c.heading else "")
            )
    console.print(
        f"[dim]prompt {draft.prompt.name} sha {draft.prompt.sha[:12]} · model {draft.model.provider}:{draft.model.name} · "
        f"{sum(draft.timings.values()):.1f}s · attempts {draft.attempts}[/]"
    )
