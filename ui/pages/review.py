"""Review one draft: the member's post and who they are, the draft (editable, re-scored live),
its citations, variants and tone card, the exact prompt; approve, edit, reject, regenerate,
publish; then the publication and the audit trail."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from ui.client import MomentsClient, UIError
from ui.components import (
    STATUS_BADGE,
    URGENCY_BADGE,
    attempt,
    audit_table,
    citations,
    client,
    escape_md,
    flash,
    masked_table,
    member_card,
    moment_label,
    post_card,
    prompt_expander,
    publication_status,
    show_error,
    show_flash,
    tone_card,
    watch,
)

QUICK_INSTRUCTIONS = ["warmer", "shorter", "more formal", "mention the workaround"]

api = client()


def selected_draft() -> int | None:
    raw = st.query_params.get("draft") or st.session_state.get("draft_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def conflict_message(exc: UIError, draft_id: int) -> str:
    """A 409 said plainly: who got there first, and what state the draft is in now."""
    try:
        now = api.get_draft(draft_id)
    except UIError:
        return str(exc)
    status, reviewer = now.get("status"), now.get("reviewer")
    if status in ("approved", "published", "rejected") and reviewer:
        return f"Already {status} by {reviewer}. {exc.message}"
    if status == "superseded":
        return f"This draft was replaced by draft #{now.get('superseded_by_id')}. {exc.message}"
    return f"Someone changed this draft while you were reviewing it (now {status}). {exc.message}"


def act(draft_id: int, call: Any, done: str) -> dict[str, Any] | None:
    """Run a review action; a 409 becomes a readable message; success reruns the page."""
    try:
        result: dict[str, Any] = call()
    except UIError as exc:
        if exc.status == 409:
            st.error(conflict_message(exc, draft_id))
        else:
            show_error(exc)
        return None
    flash(done)
    st.session_state.pop(f"seen_{draft_id}", None)
    return result


HISTORY_SECONDS = 60.0


def member_history(post: dict[str, Any]) -> dict[str, Any] | None:
    """The member's profile, posts and approved replies (GET /v1/members/{handle}), kept for
    a minute per member so typing in the draft does not re-fetch it. None when unknown."""
    handle = (post.get("member") or {}).get("handle")
    if not handle:
        return None
    community = post.get("community_id")
    cache_key = f"history_{community}_{handle}"
    cached = st.session_state.get(cache_key)
    if cached is None or time.monotonic() - cached[0] > HISTORY_SECONDS:
        try:
            history: dict[str, Any] | None = api.member(handle, community=community)
        except UIError:
            history = None
        cached = (time.monotonic(), history)
        st.session_state[cache_key] = cached
    result: dict[str, Any] | None = cached[1]
    return result


def open_source(source: str, community: str | None) -> dict[str, Any]:
    """A cited source's full text (GET /v1/knowledge/sources/{source}), kept for a minute."""
    cache_key = f"source_{community}_{source}"
    cached = st.session_state.get(cache_key)
    if cached is None or time.monotonic() - cached[0] > HISTORY_SECONDS:
        cached = (time.monotonic(), api.source(source, community=community))
        st.session_state[cache_key] = cached
    document: dict[str, Any] = cached[1]
    return document


def rescore(draft: dict[str, Any], text_key: str, tone_key: str, client_: MomentsClient) -> None:
    """on_change of the text area: score the edited text (POST /v1/tone)."""
    text = (st.session_state.get(text_key) or "").strip()
    if not text:
        st.session_state.pop(tone_key, None)
        return
    member = (draft.get("post") or {}).get("member") or {}
    try:
        st.session_state[tone_key] = client_.score_tone(
            text,
            post=(draft.get("post") or {}).get("text"),
            member_name=member.get("name") or member.get("handle"),
            moment=draft.get("moment"),
        )
        st.session_state.pop(tone_key + "_error", None)
    except UIError as exc:
        st.session_state[tone_key + "_error"] = str(exc)


def final_text_tone(draft: dict[str, Any]) -> dict[str, Any] | None:
    """The tone card of an edited, decided draft's final text (scored once per version)."""
    key = f"final_tone_{draft['id']}_{draft.get('version')}"
    if key not in st.session_state:
        member = (draft.get("post") or {}).get("member") or {}
        try:
            st.session_state[key] = api.score_tone(
                draft.get("text", ""),
                post=(draft.get("post") or {}).get("text"),
                member_name=member.get("name") or member.get("handle"),
                moment=draft.get("moment"),
            )
        except UIError:
            st.session_state[key] = None
    card: dict[str, Any] | None = st.session_state[key]
    return card


def use_variant(text_key: str, variant: str) -> None:
    st.session_state[text_key] = variant


def regeneration_progress(draft_id: int) -> None:
    job_id = st.session_state.get(f"regen_job_{draft_id}")
    if not job_id:
        return
    try:
        job = api.get_job(int(job_id))
    except UIError as exc:
        show_error(exc)
        return
    state = job.get("status")
    if state == "done" and job.get("draft_id"):
        new_id = int(job["draft_id"])
        st.success(f"The regenerated draft #{new_id} is ready.")
        if st.button("Open the new draft", key=f"open_regen_{draft_id}", type="primary"):
            st.session_state.pop(f"regen_job_{draft_id}", None)
            st.session_state["draft_id"] = new_id
            st.query_params["draft"] = str(new_id)
            st.rerun()
    elif state == "failed":
        st.error(f"Regeneration failed: {job.get('last_error')}")
    else:
        st.progress(
            0.2 if state == "queued" else 0.6,
            text=f"Regenerating (job {job_id}, {state}) … you can keep working.",
        )
        watch(f"regen_{draft_id}", lambda: api.get_job(int(job_id)).get("status"), state, every=2)


def approve_actions(draft: dict[str, Any], text_key: str, seen: dict[str, Any]) -> None:
    """Approve as drafted / with edits / save edits. The reviewer acts on the version they saw
    (`expected_version`): a change by someone else in between is a 409, said plainly."""
    draft_id, version = int(draft["id"]), int(seen["version"])
    edited_text = (st.session_state.get(text_key) or "").strip()
    edited = bool(edited_text) and edited_text != str(seen["text"]).strip()
    c1, c2, c3 = st.columns(3)
    approved: dict[str, Any] | None = None
    if c1.button(
        "Approve",
        key=f"approve_{draft_id}",
        help="Approve the text as drafted.",
        type="secondary" if edited else "primary",
        width="stretch",
    ):
        approved = act(
            draft_id,
            lambda: api.approve(draft_id, expected_version=version),
            f"Draft #{draft_id} approved.",
        )
    if c2.button(
        "Approve with edits",
        key=f"approve_edits_{draft_id}",
        type="primary" if edited else "secondary",
        disabled=not edited,
        width="stretch",
    ):
        approved = act(
            draft_id,
            lambda: api.approve(draft_id, text=edited_text, expected_version=version),
            f"Draft #{draft_id} approved with your edits.",
        )
    if c3.button(
        "Save edits",
        help="Save your text as a new version; the draft stays pending.",
        key=f"save_{draft_id}",
        disabled=not edited,
        width="stretch",
    ):
        if act(
            draft_id,
            lambda: api.edit(draft_id, edited_text, expected_version=version),
            "Edits saved as a new version.",
        ):
            st.rerun()
    publish_after = st.toggle(
        "Publish to the forum right after approving",
        value=True,
        key=f"publish_after_{draft_id}",
        help="Off: approve now and publish later from this page.",
    )
    if approved is not None:
        if publish_after:
            try:
                publication = api.publish(draft_id)
                flash(f"Approved and published as post {publication.get('external_post_id')}.")
            except UIError as exc:
                flash(
                    f"Approved, but publishing failed: {exc.message} You can retry from this page.",
                    "warning",
                )
        st.rerun()


def other_actions(draft: dict[str, Any], seen: dict[str, Any]) -> None:
    """Reject with a reason, or regenerate with an instruction, side by side."""
    draft_id, version = int(draft["id"]), int(seen["version"])
    reject_box, regen_box = st.columns(2)
    with reject_box.container(border=True):
        st.markdown("**Reject**")
        reason = st.text_input(
            "Reason (required; it teaches the team what went wrong)", key=f"reason_{draft_id}"
        )
        if st.button("Reject draft", key=f"reject_{draft_id}"):
            if not reason.strip():
                st.error("A reason is required to reject a draft.")
            elif act(
                draft_id,
                lambda: api.reject(draft_id, reason.strip(), expected_version=version),
                f"Draft #{draft_id} rejected.",
            ):
                st.rerun()
    with regen_box.container(border=True):
        st.markdown("**Regenerate**")
        quick = st.pills(
            "Quick instructions",
            QUICK_INSTRUCTIONS,
            selection_mode="multi",
            key=f"quick_{draft_id}",
        )
        custom = st.text_input(
            "Instruction", key=f"instruction_{draft_id}", placeholder="e.g. thank them for the logs"
        )
        if st.button("Regenerate", key=f"regen_{draft_id}"):
            instruction = "; ".join([*(quick or []), *([custom.strip()] if custom.strip() else [])])
            queued = attempt(lambda: api.regenerate(draft_id, instruction or None))
            if queued:
                st.session_state[f"regen_job_{draft_id}"] = queued.get("job_id")
        regeneration_progress(draft_id)


def approved_actions(draft: dict[str, Any]) -> None:
    draft_id = int(draft["id"])
    publication = draft.get("publication")
    publication_status(publication)
    if draft["status"] == "approved" and (
        publication is None or publication.get("status") in ("failed", "pending")
    ):
        label = "Retry publishing" if publication else "Publish to the forum"
        if st.button(label, key=f"publish_{draft_id}", type="primary"):
            if act(draft_id, lambda: api.publish(draft_id), "Published."):
                st.rerun()


def seen_state(draft: dict[str, Any]) -> dict[str, Any]:
    """What this reviewer first saw of the draft: its status, version and text."""
    key = f"seen_{draft['id']}"
    if key not in st.session_state:
        st.session_state[key] = {
            "status": draft.get("status"),
            "version": int(draft.get("version") or 1),
            "text": draft.get("text", ""),
        }
    seen: dict[str, Any] = st.session_state[key]
    return seen


def review(draft_id: int) -> None:
    try:
        draft = api.get_draft(draft_id)
    except UIError as exc:
        show_error(exc)
        return
    post = draft.get("post") or {}
    member = post.get("member") or {}
    inner = draft.get("draft") or {}
    moment = inner.get("moment") or {}
    status = draft.get("status", "")

    st.title(f"Draft #{draft_id}")
    st.markdown(
        " ".join(
            [
                f":violet-badge[{moment_label(draft.get('moment'))}]",
                URGENCY_BADGE.get(draft.get("urgency", ""), ""),
                STATUS_BADGE.get(status, status),
                f"· version {draft.get('version')}",
            ]
        )
    )
    show_flash()

    seen = seen_state(draft)
    if seen["status"] == "pending" and status != "pending":
        who = f" by {draft['reviewer']}" if draft.get("reviewer") else ""
        st.warning(f"Already {status}{who} while you were reviewing it.")
    elif status == "pending" and int(draft["version"]) != int(seen["version"]):
        st.warning(
            f"Someone saved a newer text (version {draft['version']}) while you were reviewing "
            f"version {seen['version']}; approving your version will be refused."
        )
        if st.button("Load the latest version", key=f"reload_{draft_id}"):
            st.session_state.pop(f"seen_{draft_id}", None)
            st.rerun()
    text_key = f"text_{draft_id}_{seen['version']}"
    tone_key = f"tone_{text_key}"

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("The member's post")
        post_card(post)
        signals = moment.get("signals") or []
        feeling = moment.get("sentiment_label")
        if signals or feeling:
            st.caption(
                f"Feels {feeling or 'neutral'}"
                + (
                    f" · signals: {', '.join(s.replace('_', ' ') for s in signals)}"
                    if signals
                    else ""
                )
            )
        member_card(member, member_history(post), current_post_id=post.get("id"))
        st.subheader("Grounded on")
        citations(
            inner.get("citations") or [],
            open_source=lambda source: open_source(source, post.get("community_id")),
            key=f"cite_{draft_id}",
        )
        prompt_expander(inner)

    with right:
        st.subheader("Draft reply")
        for warning in inner.get("warnings") or []:
            st.warning(warning)
        if status == "pending":
            if text_key not in st.session_state:
                st.session_state[text_key] = seen["text"]
            st.text_area(
                "Edit the reply before approving",
                height=200,
                key=text_key,
                on_change=rescore,
                args=(draft, text_key, tone_key, api),
                help="The tone card re-scores when you leave the box.",
            )
            approve_actions(draft, text_key, seen)
        else:
            with st.container(border=True):
                st.markdown(escape_md(draft.get("text", "")).replace("\n", "  \n"))
            if status in ("approved", "published"):
                approved_actions(draft)
            elif status == "rejected":
                reason = next(
                    (
                        r.get("reason")
                        for r in reversed(draft.get("reviews") or [])
                        if r.get("reason")
                    ),
                    None,
                )
                st.info(
                    f"Rejected by {draft.get('reviewer') or 'a reviewer'}: {reason or 'no reason'}"
                )
            elif status == "superseded":
                newer = draft.get("superseded_by_id")
                st.info(f"A regenerated draft replaced this one: #{newer}.")
                if newer and st.button("Open the newer draft", key=f"newer_{draft_id}"):
                    st.session_state["draft_id"] = int(newer)
                    st.query_params["draft"] = str(newer)
                    st.rerun()
        masked_table(inner.get("masked") or [])

        variants = [v for v in inner.get("variants") or [] if v and v != draft.get("text")]
        if variants and status == "pending":
            with st.expander(f"Variants ({len(variants)})"):
                columns = st.columns(len(variants))
                for number, (column, variant) in enumerate(zip(columns, variants, strict=True)):
                    with column.container(border=True):
                        st.markdown(escape_md(variant).replace("\n", "  \n"))
                        st.button(
                            "Use this variant",
                            key=f"variant_{draft_id}_{number}",
                            on_click=use_variant,
                            args=(text_key, variant),
                        )

        st.subheader("Tone")
        if st.session_state.get(tone_key + "_error"):
            st.error(st.session_state[tone_key + "_error"])
        live = st.session_state.get(tone_key)
        if status != "pending" and draft.get("text") != inner.get("text"):
            live = final_text_tone(draft)  # the text that was approved, not the model's draft
        tone_card(live or inner.get("tone"), live=live is not None)
        if status == "pending":
            st.button(
                "Re-score now",
                key=f"rescore_{draft_id}",
                on_click=rescore,
                args=(draft, text_key, tone_key, api),
                type="tertiary",
            )

    if status == "pending":
        st.subheader("Reject or regenerate")
        other_actions(draft, seen)

    st.subheader("Audit trail")
    audit_table(draft.get("audit") or [])
    versions = draft.get("versions") or []
    if len(versions) > 1:
        with st.expander(f"Text versions ({len(versions)})"):
            for item in versions:
                st.caption(
                    f"v{item.get('version')} · {item.get('source')} · {item.get('author') or ''}"
                )
                st.markdown(escape_md(item.get("text") or "").replace("\n", "  \n"))


draft_id = selected_draft()
if draft_id is None:
    st.title("Review a draft")
    st.info("Pick a draft from the queue, or open one by its number.")
    number = st.number_input("Draft number", min_value=1, step=1, value=None)
    if number and st.button("Open", type="primary"):
        st.session_state["draft_id"] = int(number)
        st.query_params["draft"] = str(int(number))
        st.rerun()
else:
    if st.button("← Back to the queue", type="tertiary"):
        st.switch_page("pages/queue.py")
    review(draft_id)
