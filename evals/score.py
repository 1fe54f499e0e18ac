"""Score a file of replies with the tone scorers (`moments eval score FILE`).

Input: CSV (header row) or JSONL, one reply per row: `text` (required), optional `id`, `post`,
`member_name` (or a `member` object in JSONL; CSV may add `member_handle`, `member_joined_at`,
`member_post_count`, `member_roles` separated by ";"), `moment`, `weights` (JSONL only).
Bad rows (no text, malformed JSON, unknown moment) are reported with file and line and skipped;
the other rows are still scored. A file that cannot be read at all raises `InputError`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from copilot.errors import InputError
from copilot.tone import DIMENSIONS, SCORER_VERSION, score_reply
from copilot.types import Member, MomentType, ToneCard

MOMENTS = ", ".join(m.value for m in MomentType)


@dataclass
class RowError:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class ScoredRow:
    id: str
    line: int
    moment: MomentType | None
    card: ToneCard

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "moment": self.moment.value if self.moment else None,
            "scores": {d: round(self.card.scores[d].score, 4) for d in DIMENSIONS},
            "flags": [f.model_dump() for f in self.card.flags],
            "evidence": {d: list(self.card.scores[d].evidence) for d in DIMENSIONS},
            "scorer_version": self.card.scorer_version,
        }


@dataclass
class ScoreReport:
    path: str
    rows: list[ScoredRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def averages(self) -> dict[str, float]:
        if not self.rows:
            return {}
        return {
            d: sum(r.card.scores[d].score for r in self.rows) / len(self.rows) for d in DIMENSIONS
        }

    def flag_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.rows:
            for f in r.card.flags:
                counts[f.code] = counts.get(f.code, 0) + 1
        return dict(sorted(counts.items()))


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(f"{path}: file not found", hint="give a .csv or .jsonl file of replies")
    if path.is_dir():
        raise InputError(f"{path}: is a directory", hint="give a .csv or .jsonl file of replies")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})", hint="save it as UTF-8") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, f"malformed JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(obj, dict):
            yield n, "expected a JSON object per line"
            continue
        yield n, obj


def _csv_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "text" not in [f.strip() for f in reader.fieldnames]:
        raise InputError(
            f"{path}: the CSV header has no 'text' column",
            hint="columns: text, and optionally id, post, member_name, moment",
        )
    for row in reader:
        clean = {(k or "").strip(): v for k, v in row.items() if k is not None}
        if None in row:
            yield reader.line_num, "more values than header columns"
            continue
        yield reader.line_num, clean


def _member(row: dict[str, Any], where: str) -> Member | None:
    raw = row.get("member")
    if isinstance(raw, dict):
        data = dict(raw)
    else:
        data = {
            "name": row.get("member_name") or None,
            "handle": row.get("member_handle") or None,
        }
        if row.get("member_joined_at"):
            data["joined_at"] = row["member_joined_at"]
        if row.get("member_post_count") not in (None, ""):
            data["post_count"] = row["member_post_count"]
        if row.get("member_roles"):
            data["roles"] = [r.strip() for r in str(row["member_roles"]).split(";") if r.strip()]
    data = {k: v for k, v in data.items() if v is not None}
    if not data:
        return None
    if isinstance(data.get("joined_at"), str):
        try:
            data["joined_at"] = date.fromisoformat(data["joined_at"])
        except ValueError as exc:
            raise ValueError(f"member joined_at is not a date (YYYY-MM-DD): {exc}") from exc
    try:
        return Member.model_validate(data)
    except Exception as exc:  # pydantic ValidationError: report, do not crash
        raise ValueError(f"member fields are invalid: {str(exc).splitlines()[0]}") from exc


def _score_row(row: dict[str, Any], line: int, path: str) -> ScoredRow:
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("row has no text")
    moment: MomentType | None = None
    raw_moment = row.get("moment")
    if raw_moment not in (None, ""):
        try:
            moment = MomentType(str(raw_moment).strip().lower())
        except ValueError as exc:
            raise ValueError(f"unknown moment '{raw_moment}' (use one of: {MOMENTS})") from exc
    post = row.get("post")
    post = post if isinstance(post, str) and post.strip() else None
    weights = row.get("weights")
    if weights is not None and not isinstance(weights, dict):
        raise ValueError("weights must be an object of dimension -> number")
    member = _member(row, path)
    try:
        card = score_reply(text, post=post, member=member, moment=moment, weights=weights)
    except InputError as exc:
        raise ValueError(str(exc)) from exc
    rid = row.get("id")
    return ScoredRow(
        id=str(rid) if rid not in (None, "") else f"line-{line}",
        line=line,
        moment=moment,
        card=card,
    )


def score_file(path: Path) -> ScoreReport:
    """Score every row of a CSV or JSONL file; bad rows become `errors`, the rest `rows`."""
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        rows: Iterator[tuple[int, dict[str, Any] | str]] = _jsonl_rows(text)
    elif suffix in {".csv", ".tsv"}:
        rows = _csv_rows(text, path)
    else:
        first = text.lstrip()[:1]
        rows = _jsonl_rows(text) if first == "{" else _csv_rows(text, path)
    report = ScoreReport(path=str(path))
    for line, row in rows:
        if isinstance(row, str):
            report.errors.append(RowError(str(path), line, row))
            continue
        try:
            report.rows.append(_score_row(row, line, str(path)))
        except ValueError as exc:
            report.errors.append(RowError(str(path), line, str(exc)))
    return report


__all__ = ["RowError", "ScoreReport", "ScoredRow", "score_file", "SCORER_VERSION"]
