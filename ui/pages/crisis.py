"""Crisis statements: incident facts in, one statement per channel out (forum, banner, email,
social), fact-locked. Generation runs in a background thread while a fragment polls it, so the
page stays usable during the minute or two the local model needs."""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import streamlit as st

from ui.client import MomentsClient, UIError
from ui.components import (
    attempt,
    client,
    escape_md,
    highlight,
    show_error,
    show_flash,
    watch,
)

CHANNELS = ["forum", "banner", "email", "social"]
SOCIAL_LIMIT = 280
STATUS_BADGE = {
    "pending": ":blue-badge[awaiting approval]",
    "approved": ":green-badge[approved]",
    "rejected": ":gray-badge[rejected]",
}
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="moments-ui-crisis")

api = client()
st.title("Crisis statements")
st.caption(
    "Write down what is known. Facts, times and limits go in verbatim; the model writes only the "
    "human framing, and every statement is checked against the facts before you see it."
)
show_flash()


def lines(text: str) -> list[str]:
    return [line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t")]


def start(job: str, call: Any) -> None:
    """Run a slow API call in the background; `generation_progress` picks up the result."""
    st.session_state["crisis_job"] = (job, _EXECUTOR.submit(call))


def current_incident() -> dict[str, Any] | None:
    incident: dict[str, Any] | None = st.session_state.get("incident")
    return incident


def generation_progress() -> None:
    """While statements are drafted in the background: a status box, and a watcher that
    refreshes the page when they are ready."""
    pending = st.session_state.get("crisis_job")
    if not pending:
        return
    job, future = pending
    assert isinstance(future, Future)
    if not future.done():
        with st.status(f"Drafting the {job} statements …", expanded=True):
            st.write(
                "The model writes each channel in turn (a minute or two on the local model). "
                "You can keep working on other pages."
            )
        watch("crisis_job", future.done, False, every=2)
        return
    st.session_state.pop("crisis_job", None)
    try:
        st.session_state["incident"] = future.result()
    except UIError as exc:
        show_error(exc)


def facts_form() -> None:
    with st.form("incident_facts"):
        st.subheader("Incident facts")
        a, b = st.columns(2)
        title = a.text_input("Title *", placeholder="Lumen Cloud sync outage")
        started_at = b.text_input("Started at *", placeholder="14:05 UTC on 3 March")
        what = st.text_area("What happened *", height=80)
        affected = st.text_input(
            "Who or what is affected *", placeholder="Remote access and scene backup"
        )
        c1, c2, c3 = st.columns(3)
        known = c1.text_area("Known (one per line)", height=110)
        unknown = c2.text_area("Not known yet (one per line)", height=110)
        actions = c3.text_area("Actions taken (one per line)", height=110)
        d1, d2, d3 = st.columns(3)
        workaround = d1.text_input("Workaround")
        next_update = d2.text_input("Next update at *", placeholder="16:00 UTC")
        contact = d3.text_input("Contact", placeholder="status.lumen.example")
        e1, e2 = st.columns(2)
        products = e1.text_area("Products (one per line)", height=80)
        commitments = e2.text_area("Approved commitments (one per line)", height=80)
        harmed = st.checkbox("Members were harmed (the statements apologise)", value=True)
        incident_id = st.text_input("Incident id (optional)", placeholder="chosen for you if empty")
        submitted = st.form_submit_button("Draft statements", type="primary")
    if not submitted:
        return
    missing = [
        name
        for name, value in (
            ("title", title),
            ("what happened", what),
            ("started at", started_at),
            ("affected", affected),
            ("next update at", next_update),
        )
        if not value.strip()
    ]
    if missing:
        st.error(f"Fill in: {', '.join(missing)}.")
        return
    facts = {
        "title": title.strip(),
        "what_happened": what.strip(),
        "started_at": started_at.strip(),
        "affected": affected.strip(),
        "known": lines(known),
        "unknown": lines(unknown),
        "actions_taken": lines(actions),
        "workaround": workaround.strip() or None,
        "next_update_at": next_update.strip() or None,
        "contact": contact.strip() or None,
        "products": lines(products),
        "commitments": lines(commitments),
        "members_harmed": harmed,
    }
    worker = MomentsClient(api.base_url, api.key)  # its own connection, for the thread
    start("initial", lambda: worker.create_incident(facts, incident_id=incident_id.strip() or None))
    st.rerun()


def statement_card(incident_id: str, statement: dict[str, Any], editable: bool) -> None:
    channel = statement["channel"]
    text = statement.get("text") or ""
    violations = statement.get("violations") or []
    with st.container(border=True):
        st.markdown(
            f"**{channel.capitalize()}** {STATUS_BADGE.get(statement.get('status', ''), '')}"
        )
        if channel == "social":
            over = len(text) > SOCIAL_LIMIT
            st.caption(
                (":red[" if over else "")
                + f"{len(text)} / {SOCIAL_LIMIT} characters"
                + ("]" if over else "")
            )
        else:
            st.caption(f"{len(text)} characters")
        shown = re.sub(r"(?m)^#{1,3} ", "#### ", text) if channel == "forum" else text
        st.markdown(
            highlight(shown, [v.get("span", "") for v in violations], markdown=channel == "forum")
        )
        for violation in violations:
            span = f" — “{violation['span']}”" if violation.get("span") else ""
            st.error(
                f"**{violation.get('code', '').replace('_', ' ')}**: "
                f"{violation.get('message')}{span}"
            )
        if not violations:
            st.caption(":green[:material/check: Every fact checked against the incident facts.]")
        if statement.get("status") == "rejected" and statement.get("reason"):
            st.caption(f"Rejected by {statement.get('reviewer')}: {statement['reason']}")
        if statement.get("status") == "approved":
            st.caption(f"Approved by {statement.get('reviewer')}")
        if not editable or statement.get("status") != "pending":
            return
        key = f"stmt_{statement['id']}"
        with st.expander("Edit before approving"):
            edited = st.text_area("Text", value=text, key=key, height=180)
        a, b = st.columns(2)
        if a.button("Approve", key=f"{key}_approve", type="primary", width="stretch"):
            changed = edited.strip() if edited.strip() != text.strip() else None
            if attempt(lambda: api.approve_statement(incident_id, channel, changed)):
                refresh(incident_id)
        with b.popover("Reject", width="stretch"):
            reason = st.text_input("Reason (required)", key=f"{key}_reason")
            if st.button("Reject this statement", key=f"{key}_reject"):
                if not reason.strip():
                    st.error("A reason is required to reject a statement.")
                elif attempt(lambda: api.reject_statement(incident_id, channel, reason.strip())):
                    refresh(incident_id)


def refresh(incident_id: str) -> None:
    incident = attempt(lambda: api.get_incident(incident_id))
    if incident:
        st.session_state["incident"] = incident
        st.rerun()


def show_incident(incident: dict[str, Any]) -> None:
    incident_id = incident["id"]
    stage = incident.get("stage")
    facts = incident.get("facts") or {}
    st.subheader(f"{facts.get('title') or incident_id}")
    st.caption(f"Incident `{incident_id}` · stage **{stage}** · started {facts.get('started_at')}")
    statements = incident.get("statements") or []
    current = [s for s in statements if s.get("stage") == stage]
    latest: dict[str, dict[str, Any]] = {}
    for statement in current:
        latest[statement["channel"]] = statement
    ordered = [latest[c] for c in CHANNELS if c in latest]
    for row in range(0, len(ordered), 2):
        columns = st.columns(2)
        for column, statement in zip(columns, ordered[row : row + 2], strict=False):
            with column:
                statement_card(incident_id, statement, editable=True)
    earlier = [s for s in statements if s.get("stage") != stage]
    if earlier:
        with st.expander(f"Earlier stages ({len(earlier)} statements)"):
            for statement in earlier:
                st.markdown(
                    f"**{statement.get('stage')} · {statement['channel']}** · {statement.get('status')}"
                )
                st.markdown(escape_md(statement.get("text") or ""))

    st.subheader("Follow-up from the same facts")
    with st.form(f"followup_{incident_id}"):
        stage_choice = st.radio(
            "Stage",
            ["update", "resolved"],
            horizontal=True,
            format_func=lambda s: {"update": "Progress update", "resolved": "Resolved"}[s],
        )
        progress = st.text_area("Progress since the last statement (one per line)", height=80)
        new_known = st.text_area("Newly known (one per line)", height=80)
        a, b, c = st.columns(3)
        next_update = a.text_input("Next update at", placeholder="17:00 UTC")
        resolved_at = b.text_input("Resolved at (for the resolution)", placeholder="16:40 UTC")
        root_cause = c.text_input("Confirmed root cause (optional)")
        go = st.form_submit_button("Draft the follow-up", type="primary")
    if go:
        changes: dict[str, Any] = {}
        if lines(progress):
            changes["progress"] = lines(progress)
        if lines(new_known):
            changes["known"] = lines(new_known)
        for name, value in (
            ("next_update_at", next_update),
            ("resolved_at", resolved_at),
            ("root_cause", root_cause),
        ):
            if value.strip():
                changes[name] = value.strip()
        if stage_choice == "resolved" and "resolved_at" not in changes:
            st.error("Say when it was resolved (Resolved at).")
        else:
            worker = MomentsClient(api.base_url, api.key)
            start(stage_choice, lambda: worker.update_incident(incident_id, stage_choice, changes))
            st.rerun()


generation_progress()


def incident_label(item: dict[str, Any]) -> str:
    waiting = int(item.get("pending") or 0)
    return f"{item.get('title') or item['id']} · {item.get('stage')}" + (
        f" · {waiting} awaiting approval" if waiting else ""
    )


with st.sidebar:
    st.caption("Incidents")
    incidents = attempt(lambda: api.list_incidents(limit=50)) or []
    if not incidents:
        st.caption("No incidents yet.")
    else:
        labels = {item["id"]: incident_label(item) for item in incidents}
        open_id = (current_incident() or {}).get("id")
        chosen = st.selectbox(
            "Open an incident",
            list(labels),
            index=list(labels).index(open_id) if open_id in labels else None,
            format_func=lambda incident_id: labels[incident_id],
            key="open_incident_id",
            placeholder="Choose an incident",
        )
        if st.button("Open incident", key="open_incident", disabled=chosen is None) and chosen:
            refresh(str(chosen))
    if current_incident() and st.button("Start a new incident", key="new_incident"):
        st.session_state.pop("incident", None)
        st.rerun()

incident = current_incident()
if incident:
    show_incident(incident)
elif not st.session_state.get("crisis_job"):
    facts_form()
