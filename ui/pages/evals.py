"""Eval runs, from the API (`GET /v1/evals/runs`, `/v1/evals/compare`): scores per dimension
over time, and two runs compared the way `moments eval compare` does, with the cases that
regressed."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui.client import UIError
from ui.components import client, escape_md, parse_time, show_error

api = client()


def run_label(run: dict[str, Any]) -> str:
    started = parse_time(run.get("started_at"))
    return (
        str(run["run_id"])
        + (f" · {started:%d %b %H:%M}" if started else "")
        + (f" · {run['model']}" if run.get("model") else "")
    )


def case_rows(cases: list[dict[str, Any]], shown: int = 2) -> pd.DataFrame:
    """One line per case: the first reasons, and how many more there are."""
    rows = []
    for row in cases:
        why = list(row["why"])
        more = f" (+{len(why) - shown} more)" if len(why) > shown else ""
        rows.append({"case": row["id"], "why": "; ".join(why[:shown]) + more})
    return pd.DataFrame(rows)


def comparison(result: dict[str, Any]) -> None:
    """The comparison `moments eval compare` makes: paired cases, bootstrap intervals."""
    st.caption(
        f"{result['paired_cases']} paired cases · passed {result['passed_a']} → "
        f"{result['passed_b']} · 95% bootstrap intervals over {result['resamples']} resamples "
        "(as `moments eval compare`)."
    )
    unpaired = len(result.get("only_in_a") or []) + len(result.get("only_in_b") or [])
    if unpaired:
        st.caption(f"{unpaired} case(s) are in only one of the runs and are not compared.")
    rows = [
        {
            "dimension": name.replace("_", " "),
            "baseline": d["mean_a"],
            "candidate": d["mean_b"],
            "change": d["delta"],
            "95% interval": f"{d['ci_low']:+.3f} … {d['ci_high']:+.3f}",
            "reads": d["direction"] + (" (lower is better)" if d["higher_is_worse"] else ""),
        }
        for name, d in result["dimensions"].items()
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "baseline": st.column_config.NumberColumn(format="%.3f"),
            "candidate": st.column_config.NumberColumn(format="%.3f"),
            "change": st.column_config.NumberColumn(format="%+.3f"),
        },
    )
    regressed = result["regressed"]
    if not regressed:
        st.success("No case regressed.")
    else:
        st.warning(f"{len(regressed)} case(s) regressed")
        st.table(case_rows(regressed), hide_index=True, border="horizontal")
        with st.expander("Every reason, per case"):
            for row in regressed:
                st.markdown(f"**{escape_md(row['id'])}**")
                st.markdown("\n".join(f"- {escape_md(why)}" for why in row["why"]))
    if result["improved"]:
        with st.expander(f"{len(result['improved'])} case(s) improved"):
            st.table(case_rows(result["improved"]), hide_index=True, border="horizontal")


st.title("Evals")
st.caption("Tone evals of the drafting pipeline, as the API finds them (`GET /v1/evals/runs`).")

try:
    listing = api.eval_runs()
except UIError as exc:
    show_error(exc)
    st.stop()

for problem in listing.get("problems") or []:
    st.warning(f"Skipped {problem}")

runs: list[dict[str, Any]] = listing.get("runs") or []
if not runs:
    folders = ", ".join(f"`{f}`" for f in listing.get("folders") or [])
    st.info(
        "No eval runs yet. Run `moments eval run evals/suites/default.yaml` to create one; "
        "it appears here."
    )
    if folders:
        st.caption(f"The API looks for runs in {folders} (MOMENTS_EVAL_RUNS_DIR chooses).")
    st.stop()

latest = runs[-1]
previous = runs[-2] if len(runs) > 1 else None
higher_is_worse = set(latest.get("higher_is_worse") or [])
st.subheader("Latest run")
st.caption(
    run_label(latest)
    + (f" · suite {latest['suite']}" if latest.get("suite") else "")
    + f" · {latest['passed']} of {latest['cases']} cases passed"
)
scores: dict[str, float] = latest.get("summary") or {}
dimensions = sorted(scores)
if dimensions:
    cols = st.columns(min(6, len(dimensions)))
    for number, name in enumerate(dimensions):
        delta = None
        if previous is not None and name in (previous.get("summary") or {}):
            delta = round(scores[name] - previous["summary"][name], 3)
        cols[number % len(cols)].metric(
            name.replace("_", " "),
            f"{scores[name]:.2f}",
            delta=delta,
            delta_color="inverse" if name in higher_is_worse else "normal",
        )

st.subheader("Scores over time")
timed = [(parse_time(r.get("started_at")), r) for r in runs]
history = pd.DataFrame(
    [{"run": when, **(r.get("summary") or {})} for when, r in timed if when is not None],
    columns=["run", *dimensions],
).set_index("run")
chosen = st.multiselect(
    "Dimensions", list(history.columns), default=list(history.columns)[:6], key="eval_dims"
)
if len(runs) < 2:
    st.caption("One run so far; the chart fills in as runs accumulate.")
if chosen:
    st.line_chart(history[chosen])

st.subheader("Compare two runs")
labels = {str(r["run_id"]): run_label(r) for r in runs}
ids = list(labels)
a, b = st.columns(2)
baseline = a.selectbox(
    "Baseline",
    ids,
    index=max(0, len(ids) - 2),
    format_func=lambda i: labels[i],
    key="eval_base",
)
candidate = b.selectbox(
    "Candidate", ids, index=len(ids) - 1, format_func=lambda i: labels[i], key="eval_cand"
)
if baseline == candidate:
    st.caption("Pick two different runs to compare them.")
else:
    try:
        comparison(api.compare_runs(str(baseline), str(candidate)))
    except UIError as exc:
        show_error(exc)
