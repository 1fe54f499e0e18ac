"""Eval runs: scores per dimension over time, and two runs compared with the cases that
regressed. Runs are read from disk (see ui.evalruns): the API has no endpoint for them yet."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui.evalruns import EvalRun, load_runs, regressions, run_dirs

HIGHER_IS_WORSE = frozenset({"hostility", "over_promising", "defensiveness"})


def native_comparison(baseline: EvalRun, candidate: EvalRun) -> None:
    """The comparison `moments eval compare` makes: paired cases, bootstrap intervals."""
    from evals.compare import compare_runs

    result = compare_runs(baseline.raw, candidate.raw)
    st.caption(
        f"{result['paired_cases']} paired cases · passed {result['passed_a']} → "
        f"{result['passed_b']} · 95% bootstrap intervals over {result['resamples']} resamples "
        "(as `moments eval compare`)."
    )
    rows = [
        {
            "dimension": name.replace("_", " "),
            "change": d["delta"],
            "95% interval": f"{d['ci_low']:+.3f} … {d['ci_high']:+.3f}",
            "reads": d["direction"],
        }
        for name, d in result["dimensions"].items()
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={"change": st.column_config.NumberColumn(format="%+.3f")},
    )
    regressed = result["regressed"]
    if not regressed:
        st.success("No case regressed.")
    else:
        st.warning(f"{len(regressed)} case(s) regressed")
        st.table(case_rows(regressed), hide_index=True, border="horizontal")
        with st.expander("Every reason, per case"):
            for row in regressed:
                st.markdown(f"**{row['id']}**")
                st.markdown("\n".join(f"- {why}" for why in row["why"]))
    if result["improved"]:
        with st.expander(f"{len(result['improved'])} case(s) improved"):
            st.table(case_rows(result["improved"]), hide_index=True, border="horizontal")


def case_rows(cases: list[dict[str, Any]], shown: int = 2) -> pd.DataFrame:
    """One line per case: the first reasons, and how many more there are."""
    rows = []
    for row in cases:
        why = list(row["why"])
        more = f" (+{len(why) - shown} more)" if len(why) > shown else ""
        rows.append({"case": row["id"], "why": "; ".join(why[:shown]) + more})
    return pd.DataFrame(rows)


def simple_regressions(baseline: EvalRun, candidate: EvalRun) -> None:
    """Runs in another shape: cases whose score fell, or that fail now."""
    worse = regressions(baseline, candidate)
    if not baseline.cases or not candidate.cases:
        st.caption("These runs carry no per-case results, so regressions cannot be listed.")
    elif not worse:
        st.success("No case regressed.")
    else:
        st.warning(f"{len(worse)} case(s) regressed")
        st.table(
            pd.DataFrame(
                [
                    {"case": r.case, "before": r.before, "after": r.after, "why": r.reason}
                    for r in worse
                ]
            ),
            hide_index=True,
            border="horizontal",
        )


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
passed = latest.passed
st.caption(
    latest.label
    + (f" · suite {latest.suite}" if latest.suite else "")
    + (f" · {passed[0]} of {passed[1]} cases passed" if passed else "")
)
dimensions = sorted(latest.scores)
cols = st.columns(min(6, max(1, len(dimensions))))
previous = runs[-2] if len(runs) > 1 else None
for number, name in enumerate(dimensions):
    delta = None
    if previous is not None and name in previous.scores:
        delta = round(latest.scores[name] - previous.scores[name], 3)
    cols[number % len(cols)].metric(
        name.replace("_", " "),
        f"{latest.scores[name]:.2f}",
        delta=delta,
        delta_color="inverse" if name in HIGHER_IS_WORSE else "normal",
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
elif baseline.native and candidate.native:
    native_comparison(baseline, candidate)
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
    simple_regressions(baseline, candidate)
