"""The knowledge the drafts are grounded on: upload guidelines and past interactions, see what
is indexed, remove a source, and try a search the way drafting does."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui.client import UIError
from ui.components import (
    MOMENT_LABELS,
    attempt,
    client,
    escape_md,
    is_admin,
    moment_label,
    show_error,
    show_flash,
)

api = client()
st.title("Knowledge")
st.caption(
    "Guidelines and playbooks (trusted, written by the team) and past interactions (member "
    "text, untrusted) are kept apart; drafts cite both."
)
show_flash()


def index_report(result: dict[str, Any]) -> None:
    report = result.get("report") or {}
    cols = st.columns(4)
    cols[0].metric(
        "Files indexed", f"{report.get('files_indexed', 0)} / {report.get('files_seen', 0)}"
    )
    cols[1].metric("Chunks added", report.get("chunks_added", 0))
    cols[2].metric("Updated", report.get("chunks_updated", 0))
    cols[3].metric("Unchanged", report.get("chunks_unchanged", 0))
    problems = report.get("problems") or []
    if problems:
        st.warning(f"{len(problems)} problem(s); the other files went in.")
        for problem in problems:
            if isinstance(problem, dict):
                where = problem.get("file", "")
                if problem.get("line"):
                    where += f", line {problem['line']}"
                text = f"**{escape_md(where)}**: {escape_md(str(problem.get('message')))}"
                if problem.get("hint"):
                    text += f"  \n{escape_md(str(problem['hint']))}"
                st.markdown(f"- {text}")
            else:
                st.markdown(f"- {escape_md(str(problem))}")
    else:
        st.success("Every file was read without problems.")


upload, sources_tab, search_tab = st.tabs(["Upload", "Indexed sources", "Try a search"])

with upload:
    if not is_admin():
        st.info("Uploading and removing sources needs an admin key; you can search and browse.")
    files = st.file_uploader(
        "Guidelines (.md .txt .html .pdf) or past interactions (.jsonl .csv)",
        type=["md", "markdown", "txt", "html", "htm", "pdf", "jsonl", "csv"],
        accept_multiple_files=True,
        disabled=not is_admin(),
    )
    if st.button("Index these files", type="primary", disabled=not (files and is_admin())):
        with st.spinner("Indexing …"):
            result = attempt(
                lambda: api.upload_knowledge([(f.name, f.getvalue()) for f in files or []])
            )
        if result is not None:
            st.session_state["index_report"] = result
    if st.session_state.get("index_report"):
        index_report(st.session_state["index_report"])

with sources_tab:
    listing: dict[str, Any] | None = None
    try:
        listing = api.sources()
    except UIError as exc:
        show_error(exc)
    if listing is not None:
        stats = listing.get("stats") or {}
        sources = listing.get("sources") or []
        if stats:
            cols = st.columns(3)
            cols[0].metric("Guideline chunks", stats.get("guidelines", 0))
            cols[1].metric("Interaction chunks", stats.get("interactions", 0))
            cols[2].metric("Sources", stats.get("sources", len(sources)))
            st.caption(
                f"Index: {stats.get('backend', '')} at {stats.get('location', '')} · embedder {stats.get('embedder', '')}"
            )
        if not sources:
            st.info("Nothing is indexed yet. Upload files here, or run `moments index knowledge/`.")
        else:
            frame = pd.DataFrame(
                [
                    {
                        "source": s.get("source"),
                        "kind": s.get("kind"),
                        "chunks": s.get("chunks"),
                        "last indexed": s.get("last_indexed"),
                    }
                    for s in sources
                ]
            )
            st.dataframe(frame, hide_index=True, width="stretch")
            if is_admin():
                with st.container(border=True):
                    doomed = st.selectbox(
                        "Remove a source from the index",
                        [None, *[s.get("source") for s in sources]],
                        format_func=lambda s: "Choose a source" if s is None else str(s),
                    )
                    if st.button("Remove", disabled=doomed is None):
                        removed = attempt(lambda: api.delete_source(str(doomed)))
                        if removed:
                            st.success(f"Removed {removed.get('deleted')} chunks of {doomed}.")

with search_tab:
    with st.form("search"):
        query = st.text_input("Query", placeholder="hub offline after firmware update")
        a, b, c = st.columns(3)
        k = a.slider("Results", 1, 20, 5)
        kind = b.selectbox(
            "Kind", [None, "guideline", "interaction"], format_func=lambda v: v or "both"
        )
        moment = c.selectbox(
            "Moment",
            [None, *MOMENT_LABELS],
            format_func=lambda m: "any moment" if m is None else moment_label(m),
        )
        go = st.form_submit_button("Search", type="primary")
    if go:
        if not query.strip():
            st.error("Type something to search for.")
        else:
            results = attempt(lambda: api.search(query.strip(), k=k, kind=kind, moment=moment))
            if results is not None and not results:
                st.info("No snippets matched. Is anything indexed?")
            for rank, item in enumerate(results or [], start=1):
                with st.container(border=True):
                    where = " › ".join(p for p in (item.get("title"), item.get("heading")) if p)
                    st.markdown(
                        f"**{rank}.** score **{float(item.get('score') or 0):.3f}** · "
                        f"{item.get('kind')} · `{item.get('source')}`"
                        + (f" › {escape_md(where)}" if where else "")
                    )
                    st.markdown(escape_md(item.get("text") or "").replace("\n", "  \n"))
