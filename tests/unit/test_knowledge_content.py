"""Content checks for the default knowledge base (knowledge/) and the labelled retrieval queries.

These tests read files only: no models, no index. They fail when an edit breaks what the indexer,
the drafting code or the retrieval benchmark rely on, or when a sample reply stops following the
community's own rules (a reply here becomes a style example for every draft).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from copilot.types import Member, MomentType

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"
GUIDELINES = KNOWLEDGE / "guidelines"
INTERACTIONS = KNOWLEDGE / "interactions" / "past_interactions.jsonl"
QUERIES = ROOT / "benchmarks" / "data" / "retrieval_queries.yaml"

FIELDS = {
    "id",
    "moment",
    "community_id",
    "created_at",
    "title",
    "post",
    "reply",
    "member",
    "staff",
    "outcome",
    "tags",
}
PLAYBOOKS = {
    "playbook-welcoming-newcomers.md": MomentType.WELCOME,
    "playbook-first-post.md": MomentType.FIRST_QUESTION,
    "playbook-negative-feedback.md": MomentType.COMPLAINT,
    "playbook-member-conflict.md": MomentType.CONFLICT,
    "playbook-crisis-communication.md": MomentType.CRISIS,
    "playbook-recognising-contributions.md": MomentType.CONTRIBUTION,
    "playbook-celebrating-milestones.md": MomentType.MILESTONE,
}
OTHER_GUIDELINES = {
    "community-guidelines.md",
    "practice-empathy.md",
    "practice-active-listening.md",
    "practice-personalisation.md",
    "practice-responsiveness.md",
    "product-faq.md",
}
FORBIDDEN_IN_COMPLAINTS = (
    "full refund",
    "guarantee",
    "will never happen again",
    "by next week",
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
UTC_TIME = re.compile(r"\b\d{1,2}:\d{2} UTC\b")


def _interactions() -> list[dict[str, Any]]:
    lines = INTERACTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _queries() -> list[dict[str, Any]]:
    data = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def _sections(text: str) -> list[tuple[str, int]]:
    """(heading, word count of its own body) for every #, ## and ### heading."""
    sections: list[tuple[str, int]] = []
    heading: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        match = re.match(r"^#{1,3} (.+)", line)
        if match:
            if heading is not None:
                sections.append((heading, len(" ".join(body).split())))
            heading, body = match.group(1), []
        else:
            body.append(line)
    if heading is not None:
        sections.append((heading, len(" ".join(body).split())))
    return sections


# Interactions ------------------------------------------------------------------------------


def test_every_interaction_line_parses_with_the_schema() -> None:
    for number, line in enumerate(INTERACTIONS.read_text(encoding="utf-8").splitlines(), 1):
        record = json.loads(line)
        assert set(record) == FIELDS, f"line {number}: fields {sorted(set(record) ^ FIELDS)}"
        assert re.fullmatch(r"int-\d{3}", record["id"]), record["id"]
        MomentType(record["moment"])
        Member(**record["member"])  # the shared model validates handle, dates, counts
        assert re.fullmatch(r"20(25|26)-\d{2}-\d{2}", record["created_at"])
        for key in ("title", "post", "reply", "staff", "outcome", "community_id"):
            assert isinstance(record[key], str) and record[key].strip(), (record["id"], key)
        assert isinstance(record["tags"], list) and record["tags"], record["id"]


def test_interaction_ids_are_unique() -> None:
    ids = Counter(r["id"] for r in _interactions())
    assert [i for i, n in ids.items() if n > 1] == []


def test_every_moment_has_enough_examples() -> None:
    counts = Counter(r["moment"] for r in _interactions())
    assert len(_interactions()) >= 72
    for moment in MomentType:
        assert counts[moment.value] >= 8, (moment, counts[moment.value])
    assert counts["complaint"] >= 9
    assert counts["question"] >= 9


def test_replies_are_a_reviewable_length() -> None:
    for record in _interactions():
        words = len(record["reply"].split())
        assert 40 <= words <= 200, (record["id"], words)


def test_no_reply_contains_an_email_or_phone_number() -> None:
    for record in _interactions():
        assert not EMAIL.search(record["reply"]), record["id"]
        assert not PHONE.search(record["reply"]), record["id"]


def test_some_posts_carry_fake_personal_data_for_the_masking_demo() -> None:
    posts = [r["post"] for r in _interactions()]
    with_pii = [p for p in posts if EMAIL.search(p) or PHONE.search(p)]
    assert 3 <= len(with_pii) <= 6
    for post in with_pii:
        for address in EMAIL.findall(post):
            assert address.rstrip(".").split("@")[1].startswith("example."), address


def test_complaint_replies_make_no_forbidden_promise() -> None:
    for record in _interactions():
        if record["moment"] != "complaint":
            continue
        reply = record["reply"].lower()
        for phrase in FORBIDDEN_IN_COMPLAINTS:
            assert phrase not in reply, (record["id"], phrase)


def test_crisis_replies_give_a_time_in_utc() -> None:
    for record in _interactions():
        if record["moment"] == "crisis":
            assert UTC_TIME.search(record["reply"]), record["id"]


# Guidelines --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "moment"), sorted(PLAYBOOKS.items()))
def test_playbook_exists_with_a_valid_moment_line(name: str, moment: MomentType) -> None:
    lines = (GUIDELINES / name).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    assert lines[1].startswith("Moment: ")
    assert MomentType(lines[1].removeprefix("Moment: ").strip()) is moment
    headings = {line.removeprefix("## ").strip() for line in lines if line.startswith("## ")}
    for required in ("Why it matters", "Do", "Don't", "Example phrasings", "Checklist"):
        assert required in headings, (name, required)


def test_every_guideline_starts_with_a_title_and_has_sensible_sections() -> None:
    names = {p.name for p in GUIDELINES.glob("*.md")}
    assert set(PLAYBOOKS) | OTHER_GUIDELINES <= names
    for path in GUIDELINES.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), path.name
        for line in text.splitlines()[1:]:
            if line.startswith("Moment: "):
                MomentType(line.removeprefix("Moment: ").strip())
        for heading, words in _sections(text):
            # chunks follow headings: each must stand alone, neither a stub nor a wall
            assert 30 <= words <= 300, (path.name, heading, words)


def test_guidelines_state_the_refund_policy_consistently() -> None:
    for name in ("community-guidelines.md", "product-faq.md", "playbook-negative-feedback.md"):
        text = (GUIDELINES / name).read_text(encoding="utf-8")
        assert "30 days" in text, name
        assert "ticket" in text, name


# Retrieval queries -------------------------------------------------------------------------


def test_retrieval_queries_are_well_formed_and_targets_exist() -> None:
    queries = _queries()
    assert len(queries) >= 36
    guideline_names = {p.name for p in GUIDELINES.glob("*.md")}
    interaction_ids = {r["id"] for r in _interactions()}
    for item in queries:
        assert set(item) == {"query", "expect", "kind", "note"}, item
        assert isinstance(item["query"], str) and len(item["query"].split()) >= 3
        assert item["expect"], item["query"]
        if item["kind"] == "guideline":
            missing = set(item["expect"]) - guideline_names
        else:
            assert item["kind"] == "interaction", item
            missing = set(item["expect"]) - interaction_ids
        assert not missing, (item["query"], missing)


def test_retrieval_queries_cover_both_collections_and_are_unique() -> None:
    queries = _queries()
    kinds = Counter(q["kind"] for q in queries)
    assert kinds["guideline"] >= 12 and kinds["interaction"] >= 12
    texts = [q["query"].lower() for q in queries]
    assert len(set(texts)) == len(texts)
