"""Eval suite YAML: parsing, defaults, and every validation error naming file:line:field."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from copilot.errors import InputError
from copilot.types import MomentType
from evals.suite import SUITES_DIR, load_suite, parse_suite

GOOD = """\
name: tiny
description: two cases
defaults:
  assertions:
    max_chars: 1400
    max: {hostility: 0.2}
    no_flags: [blame]
cases:
  - id: c1
    moment: complaint
    post:
      title: "Hub dead"
      text: "My hub died after the update."
      thread: [{author: lee, text: "same here"}]
    member: {name: Sam Kowalski, handle: samk, joined_at: 2024-02-01, post_count: 14, roles: []}
    reference: "Hi Sam, I'm sorry."
    assertions:
      min: {empathy: 0.4, politeness: 0.5}
      max: {over_promising: 0.2}
      must_include: ["Sam"]
      must_not_include: ["full refund"]
      max_chars: 900
      no_flags: [over_promising]
  - id: c2
    moment: welcome
    post: {text: "hi"}
"""


def parse(text: str) -> object:
    return parse_suite(text, Path("evals/suites/x.yaml"))


def test_parses_cases_and_merges_defaults() -> None:
    suite = parse_suite(GOOD, Path("x.yaml"))
    assert suite.name == "tiny" and len(suite.cases) == 2
    c1, c2 = suite.cases
    assert c1.moment is MomentType.COMPLAINT
    assert c1.post.member.name == "Sam Kowalski" and c1.post.member.post_count == 14
    assert c1.post.thread[0].author == "lee"
    assert c1.assertions.max == {"hostility": 0.2, "over_promising": 0.2}
    assert c1.assertions.max_chars == 900  # the case wins
    assert c1.assertions.no_flags == ["blame", "over_promising"]  # lists are joined
    assert c2.assertions.max_chars == 1400 and c2.assertions.min == {}
    assert c1.line == 9
    assert len(suite.sha) == 64


def test_content_hash_changes_with_the_post_only() -> None:
    a = parse_suite(GOOD, Path("x.yaml")).cases[0]
    b = parse_suite(GOOD.replace("min: {empathy: 0.4", "min: {empathy: 0.3"), Path("x.yaml")).cases[
        0
    ]
    c = parse_suite(GOOD.replace("My hub died", "My hub froze"), Path("x.yaml")).cases[0]
    assert a.content_hash() == b.content_hash()  # assertions are checked, not drafted
    assert a.content_hash() != c.content_hash()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "min: {empathy: 0.4,",
            "min: {empathy: high,",
            "evals/suites/x.yaml:18: cases[0].assertions.min.empathy: must be a number between 0 and 1",
        ),
        (
            "min: {empathy: 0.4,",
            "min: {empathy: 1.4,",
            "evals/suites/x.yaml:18: cases[0].assertions.min.empathy: must be a number between 0 and 1",
        ),
        (
            "min: {empathy: 0.4,",
            "min: {kindness: 0.4,",
            "evals/suites/x.yaml:18: cases[0].assertions.min.kindness: unknown dimension 'kindness'",
        ),
        (
            "    moment: welcome",
            "    moment: greeting",
            "evals/suites/x.yaml:25: cases[1].moment: 'greeting' is not a moment",
        ),
        (
            '    post: {text: "hi"}',
            '    post: {title: "hi"}',
            "evals/suites/x.yaml:26: cases[1].post.text: is required",
        ),
        (
            "  - id: c2",
            "  - id: c1",
            "evals/suites/x.yaml:24: cases[1].id: duplicate id 'c1' (first used by cases[0])",
        ),
        (
            '    reference: "Hi Sam',
            '    referenze: "Hi Sam',
            "evals/suites/x.yaml:16: cases[0].referenze: unknown key 'referenze'",
        ),
        (
            "      max_chars: 900",
            "      max_chars: lots",
            "evals/suites/x.yaml:22: cases[0].assertions.max_chars: must be a whole number",
        ),
        (
            "      no_flags: [over_promising]",
            "      no_flags: [rudeness]",
            "evals/suites/x.yaml:23: cases[0].assertions.no_flags[0]: unknown flag code 'rudeness'",
        ),
        (
            "joined_at: 2024-02-01",
            "joined_at: last spring",
            "evals/suites/x.yaml:15: cases[0].member.joined_at: must be a date",
        ),
        (
            "post_count: 14",
            "post_count: -3",
            "evals/suites/x.yaml:15: cases[0].member.post_count:",
        ),
        (
            "    max: {hostility: 0.2}",
            "    max: {hostility: null}",
            "evals/suites/x.yaml:6: defaults.assertions.max.hostility: must be a number",
        ),
        (
            "description: two cases",
            "descripton: two cases",
            "evals/suites/x.yaml:2: descripton: unknown key",
        ),
    ],
)
def test_validation_errors_name_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    with pytest.raises(InputError) as err:
        parse(GOOD.replace(old, new, 1))
    assert str(err.value).startswith(expected), str(err.value)


def test_broken_yaml_and_empty_cases() -> None:
    with pytest.raises(InputError, match=r"x\.yaml:4: not valid YAML"):
        parse("name: a\ncases:\n  - id: [unclosed\n")
    with pytest.raises(InputError, match=r"x\.yaml:2: cases: must be a non-empty list"):
        parse("name: a\ncases: []\n")


def test_unknown_suite_name_lists_the_bundled_ones() -> None:
    with pytest.raises(InputError, match="default"):
        load_suite("no-such-suite")


def test_select_refuses_unknown_ids() -> None:
    suite = parse_suite(GOOD, Path("x.yaml"))
    assert [c.id for c in suite.select(["c2"]).cases] == ["c2"]
    with pytest.raises(InputError, match="nope"):
        suite.select(["nope"])


def test_default_suite_has_eight_original_cases_per_moment() -> None:
    suite = load_suite("default")
    assert len(suite.cases) >= 64
    counts = Counter(c.moment for c in suite.cases)
    assert all(counts[m] >= 8 for m in MomentType), counts
    assert all(c.reference for c in suite.cases)
    # not copied from the sample interactions
    past = (SUITES_DIR.parent.parent / "knowledge/interactions/past_interactions.jsonl").read_text()
    for case in suite.cases:
        if len(case.post.text) >= 30:
            assert case.post.text[:60] not in past


def test_smoke_suite_is_one_case_per_moment_taken_from_default() -> None:
    smoke = load_suite("smoke")
    default = {c.id: c for c in load_suite("default").cases}
    assert sorted(c.moment.value for c in smoke.cases) == sorted(m.value for m in MomentType)
    for case in smoke.cases:
        assert case.id in default
        assert case.content_hash() == default[case.id].content_hash()
        assert case.assertions == default[case.id].assertions
