"""Compare two runs of a suite (`moments eval compare RUN_A RUN_B`).

Cases are paired by id (only ids in both runs count). For every dimension: the mean of
B − A, a 95% bootstrap confidence interval of that mean (2,000 resamples of the paired deltas,
numpy, fixed seed), and `significant` when the interval excludes 0. `better` reads the sign the
right way round: hostility, over_promising and defensiveness are higher-is-worse.
A case regressed when it went from passed to failed, or a dimension got worse by more than 0.1;
it improved when it went from failed to passed, or a dimension got better by more than 0.1 and
none got worse by that much.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from copilot.tone import DIMENSIONS, HIGHER_IS_WORSE

RESAMPLES = 2000
SEED = 20260306
THRESHOLD = 0.1


def bootstrap_ci(
    deltas: np.ndarray[Any, Any], *, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean of `deltas`."""
    n = len(deltas)
    if n == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    means = deltas[idx].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def _worse_by(dim: str, a: float, b: float) -> float:
    """How much worse B is than A on `dim` (negative = better)."""
    return (b - a) if dim in HIGHER_IS_WORSE else (a - b)


def compare_runs(run_a: dict[str, Any], run_b: dict[str, Any]) -> dict[str, Any]:
    """Per-dimension deltas with confidence intervals, and the cases that moved."""
    a_cases = {c["id"]: c for c in run_a["cases"]}
    b_cases = {c["id"]: c for c in run_b["cases"]}
    ids = [i for i in a_cases if i in b_cases]
    paired = [i for i in ids if a_cases[i].get("scores") and b_cases[i].get("scores")]
    dims: dict[str, dict[str, Any]] = {}
    for dim in DIMENSIONS:
        a_vals = np.array([a_cases[i]["scores"].get(dim, 0.0) for i in paired], dtype=float)
        b_vals = np.array([b_cases[i]["scores"].get(dim, 0.0) for i in paired], dtype=float)
        deltas = b_vals - a_vals
        low, high = bootstrap_ci(deltas)
        mean = float(deltas.mean()) if len(deltas) else 0.0
        significant = bool(len(deltas)) and (low > 0 or high < 0)
        improved = (mean < 0) if dim in HIGHER_IS_WORSE else (mean > 0)
        dims[dim] = {
            "mean_a": float(a_vals.mean()) if len(a_vals) else 0.0,
            "mean_b": float(b_vals.mean()) if len(b_vals) else 0.0,
            "delta": mean,
            "ci_low": low,
            "ci_high": high,
            "significant": significant,
            "direction": ("better" if improved else "worse") if significant else "no change",
            "higher_is_worse": dim in HIGHER_IS_WORSE,
        }
    regressed: list[dict[str, Any]] = []
    improved_cases: list[dict[str, Any]] = []
    for i in ids:
        a, b = a_cases[i], b_cases[i]
        worse = []
        better = []
        for dim in DIMENSIONS:
            if dim not in a.get("scores", {}) or dim not in b.get("scores", {}):
                continue
            change = _worse_by(dim, a["scores"][dim], b["scores"][dim])
            if change > THRESHOLD:
                worse.append(f"{dim} {a['scores'][dim]:.2f} → {b['scores'][dim]:.2f}")
            elif change < -THRESHOLD:
                better.append(f"{dim} {a['scores'][dim]:.2f} → {b['scores'][dim]:.2f}")
        if a["passed"] and not b["passed"]:
            regressed.append({"id": i, "why": ["passed → failed", *b["failures"], *worse]})
        elif worse:
            regressed.append({"id": i, "why": worse})
        elif not a["passed"] and b["passed"]:
            improved_cases.append({"id": i, "why": ["failed → passed", *better]})
        elif better:
            improved_cases.append({"id": i, "why": better})
    return {
        "run_a": run_a.get("run_id"),
        "run_b": run_b.get("run_id"),
        "model_a": run_a.get("model"),
        "model_b": run_b.get("model"),
        "prompt_a": str(run_a.get("prompt_sha", ""))[:12],
        "prompt_b": str(run_b.get("prompt_sha", ""))[:12],
        "paired_cases": len(paired),
        "only_in_a": sorted(set(a_cases) - set(b_cases)),
        "only_in_b": sorted(set(b_cases) - set(a_cases)),
        "passed_a": sum(1 for i in ids if a_cases[i]["passed"]),
        "passed_b": sum(1 for i in ids if b_cases[i]["passed"]),
        "resamples": RESAMPLES,
        "seed": SEED,
        "dimensions": dims,
        "regressed": regressed,
        "improved": improved_cases,
    }
