"""Eval runs read from disk for the Evals page (the one exception to "the UI talks only to the
API": the API has no endpoint for eval runs yet).

Where: MOMENTS_EVAL_RUNS_DIR if set; otherwise <data dir>/eval-runs, <data dir>/evals/runs and
./evals/runs (data dir = MOMENTS_DATA_DIR, default ./.moments). Each run is one JSON file. The
reader is tolerant of the exact shape: it looks for an id, a time, per-dimension scores (a
`summary`/`scores` mapping) and per-case results (`cases`/`results`), and skips files it cannot
read, naming them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REGRESSION_THRESHOLD = 0.05


@dataclass
class CaseResult:
    id: str
    scores: dict[str, float] = field(default_factory=dict)
    overall: float | None = None
    passed: bool | None = None


@dataclass
class EvalRun:
    id: str
    path: Path
    created_at: datetime
    suite: str = ""
    model: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    cases: dict[str, CaseResult] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def native(self) -> bool:
        """Written by `moments eval run` (evals/runner.py): `evals.compare` can compare it."""
        cases = self.raw.get("cases")
        return (
            isinstance(self.raw.get("format"), int)
            and isinstance(cases, list)
            and all(isinstance(c, dict) and "passed" in c and "id" in c for c in cases)
        )

    @property
    def passed(self) -> tuple[int, int] | None:
        """(passed, total) when the run says which cases passed."""
        known = [c.passed for c in self.cases.values() if c.passed is not None]
        return (sum(known), len(known)) if known else None

    @property
    def label(self) -> str:
        return f"{self.id} · {self.created_at:%d %b %H:%M}" + (
            f" · {self.model}" if self.model else ""
        )


@dataclass
class Regression:
    case: str
    before: float | None
    after: float | None
    reason: str


def run_dirs() -> list[Path]:
    explicit = os.environ.get("MOMENTS_EVAL_RUNS_DIR")
    if explicit:
        return [Path(explicit).expanduser()]
    data = Path(os.environ.get("MOMENTS_DATA_DIR") or ".moments").expanduser()
    return [data / "eval-runs", data / "evals" / "runs", Path("evals") / "runs"]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        for key in ("mean", "score", "value", "avg"):
            if isinstance(value.get(key), int | float) and not isinstance(value.get(key), bool):
                return float(value[key])
    return None


def _scores(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for name, raw in value.items():
        number = _number(raw)
        if number is not None:
            out[str(name)] = number
    return out


def _first(data: dict[str, Any], *names: str) -> Any:
    for name in names:
        if data.get(name) not in (None, "", [], {}):
            return data[name]
    return None


def _time(value: Any, fallback: Path) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.fromtimestamp(fallback.stat().st_mtime, UTC)


def _case(raw: dict[str, Any], number: int) -> CaseResult:
    scores = _scores(_first(raw, "scores", "dimensions", "metrics") or {})
    overall = _number(_first(raw, "overall", "score"))
    if overall is None:
        overall = scores.get("overall")
    passed = _first(raw, "passed", "pass", "ok")
    return CaseResult(
        id=str(_first(raw, "id", "case_id", "case", "name") or f"case-{number}"),
        scores=scores,
        overall=overall,
        passed=passed if isinstance(passed, bool) else None,
    )


def parse_run(path: Path) -> EvalRun:
    """One run file; ValueError (with the reason) if it is not a run."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a JSON object")
    summary = data.get("summary")
    scores = {}
    if isinstance(summary, dict):
        scores = _scores(_first(summary, "scores", "dimensions", "means") or summary)
    scores = scores or _scores(_first(data, "scores", "aggregate", "metrics", "dimensions") or {})
    raw_cases = _first(data, "cases", "results", "items") or []
    cases: dict[str, CaseResult] = {}
    if isinstance(raw_cases, list):
        for number, raw in enumerate(raw_cases, start=1):
            if isinstance(raw, dict):
                case = _case(raw, number)
                cases[case.id] = case
    if not scores and cases:  # average the cases when the run has no summary
        names = {n for c in cases.values() for n in c.scores}
        for name in sorted(names):
            values = [c.scores[name] for c in cases.values() if name in c.scores]
            scores[name] = sum(values) / len(values)
    if not scores and not cases:
        raise ValueError(f"{path.name}: no scores or cases found")
    model = data.get("model")
    if isinstance(model, dict):
        model = model.get("name") or model.get("model") or ""
    suite = data.get("suite")
    if isinstance(suite, dict):
        suite = suite.get("name") or suite.get("path") or ""
    return EvalRun(
        id=str(_first(data, "run_id", "id", "name") or path.stem),
        path=path,
        created_at=_time(
            _first(data, "created_at", "started_at", "finished_at", "timestamp"), path
        ),
        suite=str(suite or ""),
        model=str(model or ""),
        scores=scores,
        cases=cases,
        raw=data,
    )


def load_runs(dirs: list[Path] | None = None) -> tuple[list[EvalRun], list[str]]:
    """Every run found (oldest first) and the files skipped, with why."""
    runs: list[EvalRun] = []
    problems: list[str] = []
    seen: set[Path] = set()
    for folder in dirs or run_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                runs.append(parse_run(path))
            except ValueError as exc:
                problems.append(str(exc))
    runs.sort(key=lambda r: r.created_at)
    return runs, problems


def _case_score(case: CaseResult) -> float | None:
    if case.overall is not None:
        return case.overall
    if case.scores:
        return sum(case.scores.values()) / len(case.scores)
    return None


def regressions(
    baseline: EvalRun, candidate: EvalRun, threshold: float = REGRESSION_THRESHOLD
) -> list[Regression]:
    """Cases in both runs that got worse: passed → failed, or the score fell by > threshold."""
    found = []
    for case_id, before in baseline.cases.items():
        after = candidate.cases.get(case_id)
        if after is None:
            continue
        b, a = _case_score(before), _case_score(after)
        if before.passed is True and after.passed is False:
            found.append(Regression(case_id, b, a, "passed before, fails now"))
        elif b is not None and a is not None and a < b - threshold:
            found.append(Regression(case_id, b, a, f"score fell by {b - a:.2f}"))
    return sorted(found, key=lambda r: (r.after or 0) - (r.before or 0))
