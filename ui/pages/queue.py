"""The review queue: what is waiting, most urgent and oldest first; new drafts appear by
themselves. Also: draft a reply to a post that did not come through the forum."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import streamlit as st

from ui.client import UIError
from ui.components import (
    MOMENT_LABELS,
    STATUS_BADGE,
    URGENCY_BADGE,
    URGENCY_ORDER,
    age,
    attempt,
    client,
    escape_md,
    moment_label,
    show_error,
    show_flash,
    tone_card,
    watch,
)

REFRESH = 5.0  # seconds between checks for new drafts
STATUSES = ["pending", "approved", "published", "rejected", "superseded"]

st.title("Review queue")
show_flash()

api = client()

# Filters --------------------------------------------------------------------------------------

cols = st.columns(4)
status = cols[0].selectbox("Status", STATUSES, key="q_status")
moment = cols[1].selectbox(
    "Moment",
    [None, *MOMENT_LABELS],
    format_func=lambda m: "All moments" if m is None else moment_label(m),
    key="q_moment",
)
urgency = cols[2].selectbox(
    "Urgency",
    [None, *URGENCY_ORDER],
    format_func=lambda u: "Any urgency" if u is None else u,
    key="q_urgency",
)
community = cols[3].text_input("Community", key="q_community", placeholder="all communities")


def sort_key(row: dict[str, Any]) -> tuple[int, float]:
    """Most urgent first, then oldest first."""
    return (URGENCY_ORDER.get(row.get("urgency", ""), 9), -float(row.get("age_hours") or 0))


def open_draft(draft_id: int) -> None:
    st.session_state["draft_id"] = draft_id
    st.switch_page("pages/review.py", query_params={"draft": str(draft_id)})


def queue_row(row: dict[str, Any]) -> None:
    with st.container(border=True):
        left, right = st.columns([6, 1], vertical_alignment="center")
        title = row.get("title") or row.get("excerpt", "")[:80] or f"Post {row.get('post_id')}"
        who = row.get("member_name") or row.get("member_handle") or "unknown member"
        badges = [
            f":violet-badge[{moment_label(row.get('moment'))}]",
            URGENCY_BADGE.get(row.get("urgency", ""), row.get("urgency", "")),
        ]
        if row.get("status") != "pending":
            badges.append(STATUS_BADGE.get(row.get("status", ""), row.get("status", "")))
        if row.get("flagged"):
            flags = ", ".join(f.replace("_", " ") for f in row.get("flags") or [])
            badges.append(f":red-badge[:material/flag: {flags or 'flagged'}]")
        left.markdown(f"**{escape_md(title)}** " + " ".join(badges))
        left.caption(
            f"{escape_md(who)} · {age(row.get('age_hours'))} · tone "
            f"{float(row.get('tone_overall') or 0):.2f} · draft #{row['id']}"
        )
        left.markdown(escape_md((row.get("excerpt") or "")[:200]))
        if right.button("Open", key=f"open_{row['id']}", width="stretch"):
            open_draft(int(row["id"]))


def signature(rows: list[dict[str, Any]], counts: dict[str, Any]) -> tuple[Any, ...]:
    """What the page shows, in short: a change means the page should refresh."""
    return (counts.get("total"), tuple((r["id"], r.get("status"), r.get("version")) for r in rows))


def fetch() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    counts = api.counts(status=status, community=community or None)
    rows = api.list_drafts(
        status=status, community=community or None, moment=moment, urgency=urgency, limit=200
    )
    return rows, counts


def show_queue(rows: list[dict[str, Any]], counts: dict[str, Any]) -> None:
    by_moment = counts.get("by_moment") or {}
    metrics = st.columns(6)
    metrics[0].metric(f"{status.capitalize()} drafts", counts.get("total", 0))
    for column, (name, number) in zip(
        metrics[1:], sorted(by_moment.items(), key=lambda kv: -kv[1]), strict=False
    ):
        column.metric(moment_label(name), number)
    by_urgency = counts.get("by_urgency") or {}
    if by_urgency:
        st.caption(
            "By urgency: "
            + " · ".join(
                f"{u} {by_urgency[u]}"
                for u in sorted(by_urgency, key=lambda u: URGENCY_ORDER.get(u, 9))
            )
            + " · new drafts appear by themselves"
        )
    st.divider()
    if not rows:
        if status == "pending" and not (moment or urgency or community):
            st.info(
                "Nothing is waiting for review. New drafts appear here by themselves as the "
                "worker prepares them (`moments worker`, or `moments up`)."
            )
        else:
            st.info("No drafts match these filters.")
        return
    for row in sorted(rows, key=sort_key):
        queue_row(row)


try:
    rows, counts = fetch()
except UIError as exc:
    show_error(exc)
else:
    show_queue(rows, counts)
    watch("queue", lambda: signature(*fetch()), signature(rows, counts), every=REFRESH)

# Draft a reply to a post that did not come through a webhook ------------------------------------


def job_progress(job_id: int) -> None:
    try:
        job = api.get_job(job_id)
    except UIError as exc:
        show_error(exc)
        return
    state = job.get("status")
    if state == "done" and job.get("draft_id"):
        st.success(f"Draft #{job['draft_id']} is ready.")
        if st.button("Open the draft", key="open_new_draft", type="primary"):
            st.session_state.pop("new_post_job", None)
            open_draft(int(job["draft_id"]))
    elif state == "failed":
        st.error(f"Drafting failed: {job.get('last_error')}")
    else:
        waiting = "Waiting for a worker" if state == "queued" else "The worker is drafting"
        st.progress(0.15 if state == "queued" else 0.6, text=f"{waiting} (job {job_id}) …")
        st.caption("You can keep reviewing; the draft also appears in the queue when ready.")
        watch("new_post_job", lambda: api.get_job(job_id).get("status"), state, every=2)


def stream_here(post: dict[str, Any]) -> None:
    """Draft interactively over the API's event stream: tokens as the model writes them,
    then the final draft's tone card. Nothing is saved; queue the post to review it."""
    final: dict[str, Any] = {}

    def tokens() -> Iterator[str]:
        for event, payload in api.stream_draft(post):
            if event == "token":
                yield str(payload)
            elif event == "draft":
                final.update(payload)

    try:
        with st.container(border=True):
            written = st.write_stream(tokens())
    except UIError as exc:
        show_error(exc)
        return
    if not final:
        return
    if str(final.get("text", "")).strip() != str(written).strip():
        st.info("After cleaning and the guardrail checks, the final draft reads:")
        st.markdown(escape_md(str(final.get("text", ""))).replace("\n", "  \n"))
    tone_card(final.get("tone"))
    st.caption("Not saved. Queue the post to review, approve and publish a reply.")


with st.expander("Draft a reply to a new post"):
    with st.form("new_post"):
        title = st.text_input("Title")
        text = st.text_area("The member's post", height=120)
        c1, c2, c3 = st.columns(3)
        name = c1.text_input("Member name")
        handle = c2.text_input("Handle")
        joined = c3.text_input("Joined (YYYY-MM-DD)")
        b1, b2 = st.columns(2)
        sent = b1.form_submit_button("Queue a draft", type="primary", width="stretch")
        streamed = b2.form_submit_button(
            "Draft it here now (streamed, not saved)",
            width="stretch",
            help="Watch the model write; the queued path drafts in the background instead.",
        )
    if sent or streamed:
        if not text.strip():
            st.error("Paste the member's post first.")
        else:
            member: dict[str, Any] = {"name": name or None, "handle": handle or None}
            if joined.strip():
                member["joined_at"] = joined.strip()
            post = {"text": text, "title": title or None, "member": member, "forum": "manual"}
            if streamed:
                stream_here(post)
            else:
                result = attempt(lambda: api.submit_post(post))
                if result:
                    st.session_state["new_post_job"] = result.get("job_id")
    if st.session_state.get("new_post_job"):
        job_progress(int(st.session_state["new_post_job"]))
