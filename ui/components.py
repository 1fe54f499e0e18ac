"""Shared widgets: the signed-in client, readable errors, and the cards the review page is made
of (member, thread, citations, tone, prompt, masked data, audit)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from ui.client import MomentsClient, UIError, api_url

T = TypeVar("T")

KEY = "api_key"
ROLE = "api_role"
NAME = "api_name"
FLASH = "flash"

MOMENT_LABELS = {
    "welcome": "Welcome",
    "first_question": "First question",
    "complaint": "Complaint",
    "conflict": "Conflict",
    "crisis": "Crisis",
    "contribution": "Contribution",
    "milestone": "Milestone",
    "question": "Question",
}
URGENCY_ORDER = {"critical": 0, "high": 1, "normal": 2, "low": 3}
URGENCY_BADGE = {
    "critical": ":red-badge[critical]",
    "high": ":orange-badge[high]",
    "normal": ":blue-badge[normal]",
    "low": ":gray-badge[low]",
}
STATUS_BADGE = {
    "pending": ":blue-badge[pending review]",
    "approved": ":green-badge[approved]",
    "published": ":green-badge[published]",
    "rejected": ":gray-badge[rejected]",
    "superseded": ":gray-badge[superseded]",
}
RISK_DIMENSIONS = frozenset({"hostility", "over_promising", "defensiveness"})
SEVERE_FLAGS = frozenset(
    {"over_promising", "blame", "prompt_leak", "hostility", "invented_fact", "fact_lock"}
)


# Session ------------------------------------------------------------------------------------


def signed_in() -> bool:
    return bool(st.session_state.get(KEY))


def client() -> MomentsClient:
    """The signed-in client (one per session, rebuilt if the key or the URL changes)."""
    key = st.session_state.get(KEY)
    url = api_url()
    cached = st.session_state.get("_client")
    if isinstance(cached, MomentsClient) and cached.key == key and cached.base_url == url:
        return cached
    fresh = MomentsClient(url, key)
    st.session_state["_client"] = fresh
    return fresh


def sign_out() -> None:
    for name in (KEY, ROLE, NAME, "_client"):
        st.session_state.pop(name, None)


def is_admin() -> bool:
    return st.session_state.get(ROLE) == "admin"


def attempt(call: Callable[[], T], *, where: Any = None) -> T | None:
    """Run one API call; on `UIError` show it (st.error) and return None."""
    try:
        return call()
    except UIError as exc:
        show_error(exc, where=where)
        return None


def show_error(exc: UIError, *, where: Any = None) -> None:
    target = where if where is not None else st
    if exc.status == 401 and signed_in():
        sign_out()  # the next interaction shows the sign-in page
        target.error(f"{exc.message}\n\nSign in again with a valid key.")
    else:
        target.error(str(exc))


def flash(message: str, kind: str = "success") -> None:
    """A message shown once, at the top of the next run (survives st.rerun)."""
    st.session_state[FLASH] = (kind, message)


def show_flash() -> None:
    item = st.session_state.pop(FLASH, None)
    if item:
        kind, message = item
        getattr(st, kind, st.info)(message)


# Formatting ----------------------------------------------------------------------------------


def moment_label(moment: str | None) -> str:
    return MOMENT_LABELS.get(moment or "", (moment or "unknown").replace("_", " ").capitalize())


def age(hours: float | None) -> str:
    if hours is None:
        return ""
    if hours < 1:
        return f"{max(1, round(hours * 60))} min ago"
    if hours < 48:
        return f"{hours:.0f} h ago"
    return f"{hours / 24:.0f} days ago"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(value: str | None) -> str:
    moment = parse_time(value)
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def tenure(joined_at: str | None, today: date | None = None) -> str:
    """'member for 2 years, 3 months' from an ISO date."""
    if not joined_at:
        return "join date unknown"
    try:
        joined = date.fromisoformat(joined_at[:10])
    except ValueError:
        return "join date unknown"
    days = ((today or date.today()) - joined).days
    if days < 1:
        return "joined today"
    if days < 31:
        return f"member for {days} day{'s' if days != 1 else ''}"
    today_ = today or date.today()
    months = (today_.year - joined.year) * 12 + today_.month - joined.month
    months -= 1 if today_.day < joined.day else 0
    if months < 1:
        return f"member for {days} days"
    if months < 12:
        return f"member for {months} month{'s' if months != 1 else ''}"
    years, rest = divmod(months, 12)
    text = f"member for {years} year{'s' if years != 1 else ''}"
    return text + (f", {rest} month{'s' if rest != 1 else ''}" if rest else "")


def escape_md(text: str) -> str:
    """Text shown as Markdown without being interpreted as Markdown."""
    return re.sub(r"([\\`*_{}\[\]<>#+|~$:])", r"\\\1", text)


def highlight(text: str, spans: Iterable[str], *, markdown: bool = False) -> str:
    """Markdown of `text` with each span marked (red background). Plain text is escaped;
    `markdown=True` keeps the text's own Markdown (a forum post) and escapes only the spans."""
    keep = (lambda t: t) if markdown else escape_md
    marks = sorted({s for s in spans if s and s in text}, key=len, reverse=True)
    if not marks:
        out_text = keep(text)
    else:
        pattern = re.compile("|".join(re.escape(s) for s in marks))
        out, last = [], 0
        for match in pattern.finditer(text):
            out.append(keep(text[last : match.start()]))
            out.append(f":red-background[**{escape_md(match.group(0))}**]")
            last = match.end()
        out.append(keep(text[last:]))
        out_text = "".join(out)
    return out_text if markdown else out_text.replace("\n", "  \n")


# Cards ---------------------------------------------------------------------------------------


def member_card(
    member: dict[str, Any] | None,
    history: dict[str, Any] | None,
    *,
    current_post_id: int | None = None,
) -> None:
    """Who the member is; with `history` (GET /v1/members/{handle}) their earlier posts and
    the replies the team approved for them."""
    with st.container(border=True):
        if not member:
            st.caption("No member profile came with this post.")
            return
        name = member.get("name") or member.get("handle") or "Unknown member"
        handle = member.get("handle")
        st.markdown(f"**{escape_md(name)}**" + (f" · @{escape_md(handle)}" if handle else ""))
        posts = member.get("post_count")
        st.caption(
            " · ".join(
                [
                    tenure(member.get("joined_at")),
                    f"{posts} post{'s' if posts != 1 else ''}"
                    if posts is not None
                    else "post count unknown",
                ]
            )
        )
        tags = [f":violet-badge[{escape_md(r)}]" for r in member.get("roles") or []]
        tags += [f":green-badge[{escape_md(b)}]" for b in member.get("badges") or []]
        if tags:
            st.markdown(" ".join(tags))
        if history is None:
            return
        earlier = [p for p in history.get("posts") or [] if p.get("id") != current_post_id]
        replies = [r for r in history.get("replies") or [] if r.get("post_id") != current_post_id]
        if not earlier:
            st.caption("No earlier posts from this member.")
            return
        st.caption(
            f"Earlier interactions · {len(earlier)} post{'s' * (len(earlier) != 1)}, "
            f"{len(replies)} repl{'ies' if len(replies) != 1 else 'y'} approved"
        )
        for row in earlier[:5]:
            status = row.get("draft_status") or "no draft"
            st.markdown(
                f"- {moment_label(row.get('moment')) if row.get('moment') else 'Post'} · "
                f"{status} · {when(row.get('received_at'))}: "
                f"{escape_md((row.get('title') or row.get('excerpt') or '')[:80])}"
            )
        if replies:
            with st.expander(f"Replies the team approved for them ({len(replies)})"):
                for reply in replies[:5]:
                    st.caption(
                        f"{escape_md(reply.get('title') or reply.get('excerpt', '')[:60])} · "
                        f"{reply.get('status')} · {age(reply.get('age_hours'))}"
                    )
                    st.markdown(escape_md(reply.get("text") or "").replace("\n", "  \n"))


def post_card(post: dict[str, Any]) -> None:
    thread = post.get("thread") or []
    if thread:
        with st.expander(
            f"Thread context ({len(thread)} earlier message{'s' * (len(thread) != 1)})"
        ):
            for message in thread:
                who = message.get("author") or "someone"
                staff = " :blue-badge[staff]" if message.get("is_staff") else ""
                st.markdown(f"**{escape_md(who)}**{staff}")
                st.markdown(escape_md(message.get("text") or ""))
    with st.container(border=True):
        if post.get("title"):
            st.markdown(f"**{escape_md(post['title'])}**")
        st.markdown(escape_md(post.get("text") or "").replace("\n", "  \n"))
        meta = [post.get("category"), post.get("forum"), when(post.get("created_at"))]
        st.caption(" · ".join(m for m in meta if m))


def citations(
    items: list[dict[str, Any]],
    *,
    open_source: Callable[[str], dict[str, Any]] | None = None,
    key: str = "cite",
) -> None:
    """The snippets a draft was grounded on; with `open_source` (GET
    /v1/knowledge/sources/{source}) each can be opened at the document it came from."""
    if not items:
        st.caption("This draft cites no guideline or past reply.")
        return
    for number, item in enumerate(items, start=1):
        kind = item.get("kind") or "snippet"
        where = " › ".join(p for p in (item.get("title"), item.get("heading")) if p)
        label = f"[{number}] {kind} · {item.get('source')}" + (f" › {where}" if where else "")
        with st.expander(label):
            st.caption(
                f"Source: `{item.get('source')}`"
                + (f" · heading: {item.get('heading')}" if item.get("heading") else "")
                + f" · relevance {float(item.get('score') or 0):.2f}"
                + (" · untrusted member text" if kind == "interaction" else "")
            )
            st.markdown(escape_md(item.get("text") or "(no text stored)").replace("\n", "  \n"))
            if open_source is not None and item.get("source"):
                label = (
                    "Open the past interaction" if kind == "interaction" else "Open the guideline"
                )
                if st.toggle(label, key=f"{key}_{number}"):
                    try:
                        document = open_source(str(item["source"]))
                    except UIError as exc:
                        show_error(exc)
                    else:
                        source_document(document, cited=item.get("id"))


def source_document(document: dict[str, Any], *, cited: str | None = None) -> None:
    """A source's text in document order, headings as they change, the cited chunk marked.
    A past-interactions file is shown as the cited interaction only (with who answered)."""
    chunks = document.get("chunks") or []
    if document.get("kind") == "interaction":
        mine = [c for c in chunks if c.get("id") == cited] or chunks[:1]
        st.caption(
            f"One of {len(chunks)} past interaction{'s' * (len(chunks) != 1)} in "
            f"`{document.get('source')}` · untrusted member text"
        )
        for chunk in mine:
            meta = chunk.get("metadata") or {}
            facts = [
                f"{name.replace('_', ' ')}: {meta[name]}"
                for name in ("staff", "reviewer", "outcome", "created_at", "tags")
                if meta.get(name) not in (None, "")
            ]
            if facts:
                st.caption(escape_md(" · ".join(facts)))
            st.markdown(escape_md(chunk.get("text") or "").replace("\n", "  \n"))
        return
    st.caption(
        f"`{document.get('source')}` · {len(chunks)} chunk{'s' * (len(chunks) != 1)}"
        + (" · the cited passage is marked" if cited else "")
    )
    heading: str | None = None
    for chunk in chunks:
        if chunk.get("heading") != heading:
            heading = chunk.get("heading")
            if heading:
                st.markdown(f"**{escape_md(heading.replace(' > ', ' › '))}**")
        text = escape_md(chunk.get("text") or "").replace("\n", "  \n")
        if cited and chunk.get("id") == cited:
            st.markdown(f":orange-badge[cited] :orange-background[{text}]")
        else:
            st.markdown(text)


def tone_frame(card: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name, score in (card.get("scores") or {}).items():
        if name == "overall":
            continue
        risk = name in RISK_DIMENSIONS
        rows.append(
            {
                "dimension": name.replace("_", " "),
                "score": float(score.get("score") or 0),
                "reads": "risk (lower is better)" if risk else "quality (higher is better)",
            }
        )
    return pd.DataFrame(rows, columns=["dimension", "score", "reads"])


def tone_card(card: dict[str, Any] | None, *, live: bool = False) -> None:
    if not card or not card.get("scores"):
        st.caption("No tone card for this text.")
        return
    flags = card.get("flags") or []
    overall = float(card.get("overall") or 0)
    head = st.columns([1, 2])
    head[0].metric("Overall tone", f"{overall:.2f}")
    head[1].caption(
        ("Scored on the edited text. " if live else "Scored on the model's draft. ")
        + f"Scorer {card.get('scorer_version') or ''}."
    )
    for flag in flags:
        evidence = ", ".join(f"“{e}”" for e in flag.get("evidence") or [])
        text = f"**{flag.get('code', '').replace('_', ' ')}**: {flag.get('message')}"
        if evidence:
            text += f"  \nEvidence: {escape_md(evidence)}"
        (st.error if flag.get("code") in SEVERE_FLAGS else st.warning)(text)
    frame = tone_frame(card)
    if not frame.empty:
        chart = (
            alt.Chart(frame)
            .mark_bar(cornerRadiusEnd=3)
            .encode(
                x=alt.X("score:Q", scale=alt.Scale(domain=[0, 1]), title=None),
                y=alt.Y(
                    "dimension:N",
                    sort=None,
                    title=None,
                    axis=alt.Axis(labelOverlap=False, labelLimit=160),
                ),
                color=alt.Color(
                    "reads:N",
                    scale=alt.Scale(
                        domain=["quality (higher is better)", "risk (lower is better)"],
                        range=["#4c78a8", "#e45756"],
                    ),
                    legend=alt.Legend(orient="bottom", title=None),
                ),
                tooltip=["dimension", alt.Tooltip("score:Q", format=".2f"), "reads"],
            )
            .properties(height=alt.Step(22))
        )
        st.altair_chart(chart, width="stretch")
    with st.expander("Evidence behind each score"):
        any_evidence = False
        for name, score in (card.get("scores") or {}).items():
            phrases = score.get("evidence") or []
            if phrases:
                any_evidence = True
                quoted = "; ".join(f"“{e}”" for e in phrases[:6])
                st.markdown(
                    f"**{name.replace('_', ' ')}** ({float(score.get('score') or 0):.2f}): "
                    f"{escape_md(quoted)}"
                )
        if not any_evidence:
            st.caption("No phrase stood out for any dimension.")


def prompt_expander(draft: dict[str, Any]) -> None:
    prompt = draft.get("prompt") or {}
    model = draft.get("model") or {}
    with st.expander("Show the exact prompt"):
        st.caption(
            f"Template `{prompt.get('name')}` · sha256 `{prompt.get('sha')}` · "
            f"model {model.get('provider')}/{model.get('name')}"
        )
        options = model.get("options") or {}
        if options:
            st.caption(
                "Options: " + ", ".join(f"{k}={v}" for k, v in options.items() if v not in ([],))
            )
        messages = prompt.get("messages") or []
        if not messages:
            st.caption("The prompt's messages were not recorded for this draft.")
        for message in messages:
            st.markdown(f"**{message.get('role')}**")
            st.code(message.get("content") or "", language=None, wrap_lines=True)


def masked_table(items: list[dict[str, Any]]) -> None:
    if not items:
        return
    with st.expander(f"Personal data masked before drafting ({len(items)})"):
        st.caption(
            "These were replaced by placeholders before any text reached the model or a log; "
            "the originals are shown to reviewers only."
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "kind": i.get("kind"),
                        "placeholder": i.get("placeholder"),
                        "original": i.get("original"),
                    }
                    for i in items
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def audit_table(entries: list[dict[str, Any]]) -> None:
    if not entries:
        st.caption("No audit entries yet.")
        return
    rows = []
    for entry in sorted(entries, key=lambda e: e.get("at") or ""):
        detail = entry.get("detail") or {}
        summary = ", ".join(
            f"{k}: {v}" for k, v in detail.items() if v not in (None, "", [], {}) and k != "diff"
        )
        rows.append(
            {
                "when": when(entry.get("at")),
                "who": entry.get("actor"),
                "what": str(entry.get("action") or "").removeprefix("draft.").replace("_", " "),
                "detail": summary[:160],
            }
        )
    st.table(pd.DataFrame(rows), hide_index=True, border="horizontal")


def publication_status(publication: dict[str, Any] | None) -> None:
    if not publication:
        st.info("Not published yet.")
        return
    status = publication.get("status")
    post_id = publication.get("external_post_id")
    url = publication.get("url")
    if status == "published":
        text = f"Published to {publication.get('forum')} as post **{post_id}**"
        text += f" · [open on the forum]({url})" if url else ""
        st.success(text)
    elif status == "failed":
        st.error(
            f"Publishing failed after {publication.get('attempts')} attempt(s): "
            f"{publication.get('last_error')}"
        )
    else:
        st.info(f"Publication {status} (attempt {publication.get('attempts')}).")


# Live updates --------------------------------------------------------------------------------


def watch(name: str, probe: Callable[[], Any], shown: Any, *, every: float = 5.0) -> None:
    """Rerun the page when `probe()` differs from what the page `shown`.

    The fragment draws nothing: a fragment that renders elements on a timer can race a page
    switch in the browser ("Bad delta path index"), so the page itself renders everything
    and this only decides when to refresh it."""
    state = f"_watch_{name}"
    st.session_state[state] = shown

    def check() -> None:
        try:
            value = probe()
        except UIError:
            return
        if value != st.session_state.get(state):
            st.session_state[state] = value
            st.rerun(scope="app")

    st.fragment(check, run_every=every, key=f"watch_{name}")()
