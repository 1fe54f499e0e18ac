"""Fact-lock: claims in a statement must be traceable to the incident facts."""

from __future__ import annotations

import pytest

from copilot.factlock import check_fact_lock, progressive_actions
from copilot.types import IncidentFacts

FACTS = IncidentFacts(
    title="Lumen Cloud sync outage",
    what_happened="Scenes and remote access in the Lumen app are not loading.",
    started_at="14:05 UTC on 3 March",
    affected="Members who use Lumen Cloud sync",
    known=["About 40% of sync requests fail", "It affects three regions"],
    actions_taken=["Engineers are rolling back the LumenOS 3.3 cloud release"],
    next_update_at="15:00 UTC",
    commitments=["We will add a staged rollout for cloud releases"],
)
# A clean base: apology + next update, so only the clause under test can fail.
BASE = "We're sorry. Next update: 15:00 UTC."


def codes(text: str, facts: IncidentFacts = FACTS, **kwargs: object) -> list[str]:
    return [v.code for v in check_fact_lock(text, facts, "forum", **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "clause",
    [
        "It started at 2:05pm.",  # the same time, written differently
        "It started at 14:05.",
        "Since 14:05 UTC on March 3rd things have been rough.",
        "About 40 percent of requests fail.",
        "Three regions are affected.",  # number word == "three" in the facts
        "The Lumen app and Lumen Cloud are affected.",
        "LumenOS 3.3 is involved.",
        "We know this is frustrating, and we're grateful for your patience.",
        "We'll keep you posted.",  # open-stage promise backed by the next update
        "We will add a staged rollout for all cloud releases.",  # an approved commitment, paraphrased
        "Engineers are rolling back the LumenOS 3.3 cloud release.",  # the fact itself
        "We'll share more once the issue is fixed.",  # conditional, not a claim
        "We're working to get things back to normal.",  # an aim, not a claim
        "As you may have noticed, scenes are not loading.",
        "We've heard from many of you, and we know we've disrupted your evenings.",
    ],
)
def test_traceable_clauses_pass(clause: str) -> None:
    assert codes(f"{BASE} {clause}") == []


@pytest.mark.parametrize(
    ("clause", "code", "span"),
    [
        ("It will be fixed by 5pm.", "unknown_time", "5pm"),
        ("It began at 13:50 UTC.", "unknown_time", "13:50 UTC"),
        ("It should be back by noon.", "unknown_time", "noon"),
        ("Expect a fix tomorrow.", "unknown_time", "tomorrow"),
        ("It has been down for 3 hours.", "unknown_time", "3 hours"),
        ("It has been down for two days.", "unknown_time", "two days"),
        ("It began on 4 March.", "unknown_date", "4 March"),
        ("It began on Tuesday.", "unknown_date", "Tuesday"),
        ("A fix is planned for April.", "unknown_date", "April"),
        ("It began on 2026-03-04.", "unknown_date", "2026-03-04"),
        ("About 60% of requests fail.", "unknown_number", "60%"),
        ("LumenOS 3.4 is involved.", "unknown_number", "3.4"),
        ("About 1,200 members are affected.", "unknown_number", "1,200"),
        ("Five regions are affected.", "unknown_number", "Five"),
        ("The Lumen Hub is affected.", "unknown_product", "Lumen Hub"),
        ("Home Assistant users are affected.", "unknown_product", "Home Assistant"),
        ("The Lumen Bridge is affected.", "unknown_product", "Lumen Bridge"),
        ("We guarantee this will not recur.", "unapproved_commitment", "guarantee"),
        ("Everyone affected will get a refund.", "unapproved_commitment", "refund"),
        ("We will compensate you.", "unapproved_commitment", "compensate"),
        ("This will never happen again.", "unapproved_commitment", "will never happen again"),
        (
            "We'll make sure your scenes are safe.",
            "unapproved_commitment",
            "We'll make sure your scenes are safe.",
        ),
        ("This was likely caused by a bad deploy.", "speculation", "likely"),
        ("This is probably a database issue.", "speculation", "probably"),
        ("It may have been a database issue.", "speculation", "may have been"),
        ("The outage is due to a bad deploy.", "speculation", "due to"),
        ("It was caused by a certificate.", "speculation", "caused by"),
        ("This was user error.", "blame", "user error"),
        ("Our hosting provider let us down.", "blame", "hosting provider"),
        ("AWS had an outage.", "blame", "AWS"),
        ("Check the router on your end.", "blame", "on your end"),
        ("We've already rolled back the change.", "tense_drift", "rolled back"),
        ("We rolled the release back.", "tense_drift", "rolled the release back"),
        ("Everything is back to normal.", "tense_drift", "back to normal"),
        ("The issue has been fixed.", "tense_drift", "fixed"),
        ("See https://status.example.com for more.", "unknown_link", "https://status.example.com"),
        ("We've deployed a hotfix.", "unknown_action", "We've deployed"),
        ("A patch has been released.", "unknown_action", "has been released"),
        ("We've already reverted the change.", "unknown_action", "We've already reverted"),
    ],
)
def test_untraceable_clauses_are_caught_with_their_span(clause: str, code: str, span: str) -> None:
    violations = check_fact_lock(f"{BASE} {clause}", FACTS, "forum")
    assert (code, span.lower()) in {(v.code, v.span.lower()) for v in violations}, violations


def test_missing_next_update_and_apology() -> None:
    found = codes("Lumen Cloud sync outage.")
    assert "missing_next_update" in found
    assert "missing_apology" in found


def test_no_apology_needed_when_members_were_not_harmed() -> None:
    facts = FACTS.model_copy(update={"members_harmed": False})
    assert codes("Lumen Cloud sync outage. Next update: 15:00 UTC.", facts) == []


def test_resolved_stage_needs_no_next_update_and_may_say_resolved() -> None:
    facts = FACTS.model_copy(update={"resolved_at": "16:40 UTC", "next_update_at": None})
    text = "Resolved at 16:40 UTC. We're sorry. The issue was resolved and everything is back to normal."
    assert codes(text, facts, stage="resolved") == []


def test_root_cause_allows_causal_language_but_not_hedging() -> None:
    facts = FACTS.model_copy(update={"root_cause": "An expired certificate on the sync servers"})
    assert (
        codes(f"{BASE} The outage was caused by an expired certificate on the sync servers.", facts)
        == []
    )
    assert "speculation" in codes(f"{BASE} It was probably an expired certificate.", facts)


def test_commitment_in_resolved_stage_must_be_approved() -> None:
    facts = FACTS.model_copy(update={"resolved_at": "16:40 UTC"})
    assert "unapproved_commitment" in codes(
        "We're sorry. We'll keep you posted.", facts, stage="resolved"
    )


def test_tense_drift_allowed_when_the_facts_report_it_done() -> None:
    facts = FACTS.model_copy(update={"progress": ["We rolled back the release in the EU region"]})
    assert "tense_drift" not in codes(f"{BASE} We've rolled back the release in the EU.", facts)


def test_progressive_actions_are_found() -> None:
    facts = FACTS.model_copy(
        update={
            "actions_taken": [
                "Engineers are rolling back the release",
                "Investigating the database",
            ]
        }
    )
    assert ("rolling", "back") in progressive_actions(facts)
    assert ("investigating", None) in progressive_actions(facts)
    assert "tense_drift" in codes(f"{BASE} We investigated the database.", facts)


@pytest.mark.parametrize(("channel", "limit"), [("banner", 160), ("social", 280)])
def test_length_limits(channel: str, limit: int) -> None:
    text = BASE + " " + "x" * limit
    found = check_fact_lock(text, FACTS, channel)  # type: ignore[arg-type]
    assert any(v.code == "too_long" for v in found)
    assert not any(v.code == "too_long" for v in check_fact_lock(BASE, FACTS, channel))  # type: ignore[arg-type]


def test_facts_themselves_never_violate() -> None:
    facts = FACTS.model_copy(
        update={
            "known": ["Probably 3 regions, due to a vendor issue; refunds are being discussed"],
            "workaround": "Restart at 2am on Friday",
        }
    )
    text = f"{BASE} {facts.known[0]}. {facts.workaround}."
    assert codes(text, facts) == []


def test_fact_case_and_whitespace_are_normalised() -> None:
    text = f"{BASE} LUMEN CLOUD   SYNC outage since 14:05 utc on 3 march."
    assert codes(text) == []
