"""Eval runs: scores per dimension over time, and two runs compared with the cases that
regressed. Runs are read from disk (see ui.evalruns): the API has no endpoint for them yet."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.evalruns import load_runs, regressions, run_dirs

st.title("Evals")
folders = run_dirs()
st.caption(
    "Tone evals of the drafting pipeline. This page reads the run files directly from "
    + ", ".join(f"`{f}`" for f in folders)
    + " (set MOMENTS_EVAL_RUNS_DIR to choose): the API does not serve eval runs yet, so this is "
    "the one place the UI reads from disk."
)

runs, problems = load_runs(folders)
for problem in problems:
    st.warning(f"Skipped {problem}")

if not runs:
    st.info(
        "No eval runs yet. Run `moments eval run evals/suites/default.yaml` to create one; "
        "it appears here."
    )
    st.stop()

latest = runs[-1]
st.subheader("Latest run")
st.caption(f"{latest.label}" + (f" · suite {latest.suite}" if latest.suite else ""))
dimensions = sorted(latest.scores)
cols = st.columns(min(6, max(1, len(dimensions))))
previous = runs[-2] if len(runs) > 1 else None
for number, name in enumerate(dimensions):
    delta = None
    if previous is not None and name in previous.scores:
        delta = round(latest.scores[name] - previous.scores[name], 3)
    cols[number % len(cols)].metric(
        name.replace("_", " "), f"{latest.scores[name]:.2f}", delta=delta, delta_color="normal"
    )

st.subheader("Scores over time")
history = pd.DataFrame([{"run": r.created_at, **r.scores} for r in runs]).set_index("run")
chosen = st.multiselect(
    "Dimensions", list(history.columns), default=list(history.columns)[:6], key="eval_dims"
)
if len(runs) < 2:
    st.caption("One run so far; the chart fills in as runs accumulate.")
if chosen:
    st.line_chart(history[chosen])

st.subheader("Compare two runs")
labels = {r.label: r for r in runs}
names = list(labels)
a, b = st.columns(2)
base_label = a.selectbox("Baseline", names, index=max(0, len(names) - 2), key="eval_base")
cand_label = b.selectbox("Candidate", names, index=len(names) - 1, key="eval_cand")
baseline, candidate = labels[base_label], labels[cand_label]
if baseline is candidate:
    st.caption("Pick two different runs to compare them.")
else:
    shared = sorted(set(baseline.scores) | set(candidate.scores))
    table = pd.DataFrame(
        [
            {
                "dimension": name,
                "baseline": baseline.scores.get(name),
                "candidate": candidate.scores.get(name),
                "change": (candidate.scores.get(name) or 0) - (baseline.scores.get(name) or 0)
                if name in baseline.scores and name in candidate.scores
                else None,
            }
            for name in shared
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "baseline": st.column_config.NumberColumn(format="%.3f"),
            "candidate": st.column_config.NumberColumn(format="%.3f"),
            "change": st.column_config.NumberColumn(format="%+.3f"),
        },
    )
    worse = regressions(baseline, candidate)
    if not baseline.cases or not candidate.cases:
        st.caption("These runs carry no per-case results, so regressions cannot be listed.")
    elif not worse:
        st.success("No case regressed.")
    else:
        st.warning(f"{len(worse)} case(s) regressed")
        st.dataframe(
            pd.DataFrame(
                [
                    {"case": r.case, "before": r.before, "after": r.after, "why": r.reason}
                    for r in worse
                ]
            ),
            hide_index=True,
            width="stretch",
        )
