"""Eval suites: YAML files of cases (a member's post + what a good reply must satisfy).

    name: default
    description: ...
    defaults: {assertions: {max_chars: 1400, max: {hostility: 0.2}}}
    cases:
      - id: complaint-firmware-brick          # unique
        moment: complaint                     # a MomentType value
        post: {title: "...", text: "...", thread: [{author: lee, text: "..."}]}
        member: {name: Sam Kowalski, handle: samk, joined_at: 2024-02-01, post_count: 14}
        reference: "an optional reference reply"
        assertions:
          min: {empathy: 0.4}                 # tone dimensions (copilot.tone.DIMENSIONS)
          max: {over_promising: 0.2}          # a score above this fails
          must_include: ["Sam"]               # case-insensitive substrings of the draft
          must_not_include: ["full refund"]
          max_chars: 900
          min_chars: 80
          no_flags: [over_promising, blame]   # guardrail flag codes that must not be on the card

`load_suite(path)` validates everything and raises `InputError("FILE:LINE: FIELD: problem")`
pointing at the offending node (line numbers come from `yaml.compose`). Defaults merge into each
case: `min`/`max` per dimension (the case wins), lists are joined, numbers are replaced.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from copilot.errors import InputError
from copilot.tone import DIMENSIONS
from copilot.types import Member, MomentType, Post, ThreadMessage

FLAG_CODES: frozenset[str] = frozenset(
    {
        "over_promising",
        "blame",
        "defensiveness",
        "invented_fact",
        "prompt_leak",
        "hostility",
        "too_long",
        "fact_lock",
        "empty_reply",
    }
)
SUITE_KEYS = {"name", "description", "defaults", "cases"}
DEFAULTS_KEYS = {"assertions"}
CASE_KEYS = {"id", "moment", "post", "member", "reference", "assertions", "tags", "notes"}
POST_KEYS = {"title", "text", "thread", "category"}
THREAD_KEYS = {"author", "text", "is_staff"}
MEMBER_KEYS = {
    "name",
    "handle",
    "joined_at",
    "post_count",
    "roles",
    "badges",
    "recent_posts",
    "staff_interactions",
    "language",
}
ASSERTION_KEYS = {
    "min",
    "max",
    "must_include",
    "must_not_include",
    "max_chars",
    "min_chars",
    "no_flags",
}
SUITES_DIR = Path(__file__).resolve().parent / "suites"

Path_ = tuple[str | int, ...]


@dataclass
class Assertions:
    """What a good reply to one case satisfies. Empty = anything passes."""

    min: dict[str, float] = field(default_factory=dict)
    max: dict[str, float] = field(default_factory=dict)
    must_include: list[str] = field(default_factory=list)
    must_not_include: list[str] = field(default_factory=list)
    max_chars: int | None = None
    min_chars: int | None = None
    no_flags: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "min": dict(self.min),
            "max": dict(self.max),
            "must_include": list(self.must_include),
            "must_not_include": list(self.must_not_include),
            "max_chars": self.max_chars,
            "min_chars": self.min_chars,
            "no_flags": list(self.no_flags),
        }


@dataclass
class Case:
    id: str
    moment: MomentType
    post: Post
    assertions: Assertions
    reference: str | None = None
    tags: list[str] = field(default_factory=list)
    line: int = 0

    @property
    def member(self) -> Member:
        return self.post.member

    def content_hash(self) -> str:
        """sha256 of what drafting sees (post, member, thread, moment, reference)."""
        payload = {
            "moment": self.moment.value,
            "post": self.post.model_dump(mode="json"),
            "reference": self.reference,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass
class Suite:
    name: str
    path: Path
    cases: list[Case]
    description: str = ""
    sha: str = ""

    def select(self, ids: list[str]) -> Suite:
        """Only the named cases (unknown ids raise `InputError`)."""
        known = {c.id for c in self.cases}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise InputError(
                f"{self.path}: no case with id {', '.join(unknown)}",
                hint=f"ids look like {', '.join(sorted(known)[:3])}",
            )
        wanted = set(ids)
        return Suite(
            name=self.name,
            path=self.path,
            cases=[c for c in self.cases if c.id in wanted],
            description=self.description,
            sha=self.sha,
        )


# Line numbers --------------------------------------------------------------------------------


def _line_map(
    node: yaml.Node | None, path: Path_ = (), out: dict[Path_, int] | None = None
) -> dict[Path_, int]:
    """Map each path (("cases", 3, "assertions")) to the 1-based line of its node."""
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            out[(*path, key)] = value_node.start_mark.line + 1
            out[(*path, key, "__key__")] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out)
    return out


def _field(path: Path_) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text


class _Checker:
    """Collects the location of each problem; raises the first (they are fixed one at a time)."""

    def __init__(self, path: Path, lines: dict[Path_, int]) -> None:
        self.path = path
        self.lines = lines

    def fail(self, where: Path_, message: str, *, key: bool = False) -> InputError:
        probe: Path_ = (*where, "__key__") if key else where
        line = self.lines.get(probe)
        cut = where
        while line is None and cut:
            cut = cut[:-1]
            line = self.lines.get(cut)
        return InputError(f"{self.path}:{line or 1}: {_field(where) or '(top)'}: {message}")

    def mapping(self, value: Any, where: Path_, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping with keys {', '.join(sorted(allowed))}")
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                raise self.fail(
                    (*where, str(key)),
                    f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})",
                    key=True,
                )
        return value

    def text(self, value: Any, where: Path_, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                raise self.fail(where, "is required and must be non-empty text")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(where, "must be text")
        text = str(value)
        if required and not text.strip():
            raise self.fail(where, "is required and must be non-empty text")
        return text

    def strings(self, value: Any, where: Path_) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(where, "must be a list of non-empty strings")
        return list(value)

    def threshold(self, value: Any, where: Path_) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(where, "must be a number between 0 and 1")
        if not 0.0 <= float(value) <= 1.0:
            raise self.fail(where, "must be a number between 0 and 1")
        return float(value)

    def count(self, value: Any, where: Path_) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(where, "must be a whole number above 0")
        return value

    def assertions(self, value: Any, where: Path_) -> Assertions:
        if value is None:
            return Assertions()
        raw = self.mapping(value, where, ASSERTION_KEYS)
        out = Assertions()
        for bound in ("min", "max"):
            if bound not in raw:
                continue
            dims = raw[bound] or {}
            if not isinstance(dims, dict):
                raise self.fail((*where, bound), "must map dimension names to numbers in [0, 1]")
            parsed: dict[str, float] = {}
            for dim, threshold in dims.items():
                if dim not in DIMENSIONS:
                    raise self.fail(
                        (*where, bound, str(dim)),
                        f"unknown dimension '{dim}' (use one of: {', '.join(DIMENSIONS)})",
                        key=True,
                    )
                parsed[dim] = self.threshold(threshold, (*where, bound, dim))
            setattr(out, bound, parsed)
        out.must_include = self.strings(raw.get("must_include"), (*where, "must_include"))
        out.must_not_include = self.strings(
            raw.get("must_not_include"), (*where, "must_not_include")
        )
        for key in ("max_chars", "min_chars"):
            if raw.get(key) is not None:
                setattr(out, key, self.count(raw[key], (*where, key)))
        flags = self.strings(raw.get("no_flags"), (*where, "no_flags"))
        for i, code in enumerate(flags):
            if code not in FLAG_CODES:
                raise self.fail(
                    (*where, "no_flags", i),
                    f"unknown flag code '{code}' (use one of: {', '.join(sorted(FLAG_CODES))})",
                )
        out.no_flags = flags
        return out

    def member(self, value: Any, where: Path_) -> Member:
        if value is None:
            return Member()
        raw = dict(self.mapping(value, where, MEMBER_KEYS))
        joined = raw.get("joined_at")
        if joined is not None and not isinstance(joined, date):
            try:
                raw["joined_at"] = date.fromisoformat(str(joined))
            except ValueError:
                raise self.fail((*where, "joined_at"), "must be a date like 2024-02-01") from None
        for key in ("name", "handle", "language"):
            if raw.get(key) is not None:
                raw[key] = self.text(raw[key], (*where, key))
        try:
            return Member(**raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(str(p) if not isinstance(p, int) else p for p in err["loc"])
            raise self.fail((*where, *loc), str(err["msg"])) from None

    def post(self, value: Any, where: Path_, member: Member) -> Post:
        raw = self.mapping(value, where, POST_KEYS)
        text = self.text(raw.get("text"), (*where, "text"), required=True)
        assert text is not None
        thread: list[ThreadMessage] = []
        items = raw.get("thread") or []
        if not isinstance(items, list):
            raise self.fail((*where, "thread"), "must be a list of {author, text}")
        for i, item in enumerate(items):
            msg = self.mapping(item, (*where, "thread", i), THREAD_KEYS)
            body = self.text(msg.get("text"), (*where, "thread", i, "text"), required=True)
            assert body is not None
            thread.append(
                ThreadMessage(
                    author=self.text(msg.get("author"), (*where, "thread", i, "author")),
                    text=body,
                    is_staff=bool(msg.get("is_staff", False)),
                )
            )
        return Post(
            text=text,
            title=self.text(raw.get("title"), (*where, "title")),
            category=self.text(raw.get("category"), (*where, "category")),
            thread=thread,
            member=member,
        )


def merge_assertions(defaults: Assertions, case: Assertions) -> Assertions:
    """Defaults under the case: per-dimension bounds merged, lists joined, numbers replaced."""

    def join(a: list[str], b: list[str]) -> list[str]:
        return list(dict.fromkeys([*a, *b]))

    return Assertions(
        min={**defaults.min, **case.min},
        max={**defaults.max, **case.max},
        must_include=join(defaults.must_include, case.must_include),
        must_not_include=join(defaults.must_not_include, case.must_not_include),
        max_chars=case.max_chars if case.max_chars is not None else defaults.max_chars,
        min_chars=case.min_chars if case.min_chars is not None else defaults.min_chars,
        no_flags=join(defaults.no_flags, case.no_flags),
    )


def parse_suite(text: str, path: Path) -> Suite:
    """Validate suite YAML text (see the module docstring). Raises `InputError` with file:line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{path}:{line}: not valid YAML: {problem}") from None
    check = _Checker(path, _line_map(node))
    if isinstance(data, dict):  # `x-…` keys hold YAML anchors shared by cases
        data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    raw = check.mapping(data, (), SUITE_KEYS)
    name = check.text(raw.get("name"), ("name",)) or path.stem
    description = check.text(raw.get("description"), ("description",)) or ""
    defaults = Assertions()
    if raw.get("defaults") is not None:
        d = check.mapping(raw["defaults"], ("defaults",), DEFAULTS_KEYS)
        defaults = check.assertions(d.get("assertions"), ("defaults", "assertions"))
    items = raw.get("cases")
    if not isinstance(items, list) or not items:
        raise check.fail(("cases",), "must be a non-empty list of cases")
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        where: Path_ = ("cases", i)
        c = check.mapping(item, where, CASE_KEYS)
        case_id = check.text(c.get("id"), (*where, "id"), required=True)
        assert case_id is not None
        if case_id in seen:
            raise check.fail(
                (*where, "id"), f"duplicate id '{case_id}' (first used by cases[{seen[case_id]}])"
            )
        seen[case_id] = i
        moment_raw = c.get("moment")
        try:
            moment = MomentType(str(moment_raw))
        except ValueError:
            raise check.fail(
                (*where, "moment"),
                f"'{moment_raw}' is not a moment (use one of: "
                f"{', '.join(m.value for m in MomentType)})",
            ) from None
        member = check.member(c.get("member"), (*where, "member"))
        post = check.post(c.get("post"), (*where, "post"), member)
        reference = check.text(c.get("reference"), (*where, "reference"))
        own = check.assertions(c.get("assertions"), (*where, "assertions"))
        cases.append(
            Case(
                id=case_id,
                moment=moment,
                post=post,
                assertions=merge_assertions(defaults, own),
                reference=reference.strip() if reference else None,
                tags=check.strings(c.get("tags"), (*where, "tags")),
                line=check.lines.get(where, 0),
            )
        )
    return Suite(
        name=name,
        path=path,
        cases=cases,
        description=description,
        sha=hashlib.sha256(text.encode()).hexdigest(),
    )


def resolve_suite_path(name_or_path: str | Path) -> Path:
    """A suite file path, or a bundled suite name (`default`, `smoke`)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = SUITES_DIR / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    available = ", ".join(sorted(p.stem for p in SUITES_DIR.glob("*.yaml")))
    raise InputError(
        f"{name_or_path}: no such suite file",
        hint=f"give a YAML path or a bundled suite name ({available})",
    )


def load_suite(name_or_path: str | Path) -> Suite:
    """Read and validate a suite file (or a bundled suite by name)."""
    path = resolve_suite_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_suite(text, path)
