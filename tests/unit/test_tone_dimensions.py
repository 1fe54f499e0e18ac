"""Behaviour of each tone dimension and guardrail (copilot.tone.score_reply)."""

from __future__ import annotations

from datetime import date

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from copilot.errors import InputError
from copilot.tone import (
    DIMENSIONS,
    MAX_ANALYSED_CHARS,
    SCORER_VERSION,
    flesch_reading_ease,
    score_reply,
    weights_for,
)
from copilot.tone_text import shouted_words
from copilot.types import Member, MomentType

VADER = SentimentIntensityAnalyzer()
POST = (
    "Cloud sync wiped all my scenes. 40 scenes I built over a year, gone. "
    "There's no backup option that actually works."
)
JONAS = Member(name="Jonas Berg", joined_at=date(2023, 2, 1), post_count=57)


def codes(card: object) -> set[str]:
    return {f.code for f in card.flags}  # type: ignore[attr-defined]


def test_card_has_exactly_the_documented_dimensions() -> None:
    card = score_reply("Thanks for the report, we're looking into it.")
    assert tuple(card.scores) == DIMENSIONS
    assert card.scorer_version == SCORER_VERSION
    assert all(0.0 <= s.score <= 1.0 for s in card.scores.values())
    assert card.overall == card.scores["overall"].score


def test_apology_with_empathy_scores_high_although_vader_calls_it_negative() -> None:
    text = (
        "I'm so sorry, that's a terrible loss and it's our failure, not yours. Losing 40 scenes "
        "you built over a year is awful. Could you tell me whether the scenes were on one Hub?"
    )
    assert VADER.polarity_scores(text)["compound"] < -0.5  # the lexicon reads it as negative
    card = score_reply(text, post=POST, member=JONAS, moment=MomentType.COMPLAINT)
    assert card.scores["empathy"].score >= 0.85
    assert card.scores["emotional_reactions"].score >= 0.85
    assert card.scores["politeness"].score >= 0.6
    assert card.scores["hostility"].score == 0.0
    assert not card.flags


def test_sarcasm_scores_hostile_although_vader_calls_it_positive() -> None:
    text = "Wow, a whole day without sync? Great job reading the release notes, obviously. Enjoy!"
    assert VADER.polarity_scores(text)["compound"] > 0.5
    card = score_reply(text, post=POST, member=JONAS, moment=MomentType.COMPLAINT)
    assert card.scores["hostility"].score >= 0.5
    assert "hostility" in codes(card)
    assert card.scores["emotional_reactions"].score == 0.0  # "Wow", "Great" are not warmth here
    assert card.scores["politeness"].score < 0.5
    assert card.overall < 0.4


def test_overt_insult_and_shouting_are_hostile() -> None:
    card = score_reply("STOP POSTING THIS. Calm down, it's a stupid question.")
    assert card.scores["hostility"].score >= 0.8
    assert any("calm down" in e for e in card.scores["hostility"].evidence)


def test_negated_insult_is_not_hostile() -> None:
    card = score_reply("Not a dumb question at all, thanks for asking! Open Settings > Scenes.")
    assert card.scores["hostility"].score == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "I'll make sure it never happens again.",
        "Don't worry, we'll refund you in full today.",
        "We'll send you a brand new Hub right away.",
        "The fix ships next Friday, guaranteed.",
        "This is 100% solved now.",
    ],
)
def test_forbidden_promises_are_flagged(text: str) -> None:
    card = score_reply(text)
    assert "over_promising" in codes(card)
    assert card.scores["over_promising"].score >= 0.85


def test_policy_statements_and_next_update_times_are_not_promises() -> None:
    text = (
        "Refunds go through a store support ticket within 30 days of delivery. "
        "We'll post the next update here by 15:30 UTC."
    )
    card = score_reply(text, moment=MomentType.CRISIS)
    assert "over_promising" not in codes(card)
    assert card.scores["over_promising"].score == 0.0


def test_soft_reassurance_is_a_weaker_over_promise() -> None:
    card = score_reply("I'm sure everything will be fine, it should be back soon.")
    assert 0.3 <= card.scores["over_promising"].score < 0.85
    assert "over_promising" not in codes(card)


def test_blaming_the_member_is_flagged() -> None:
    card = score_reply(
        "Hi Jonas, you should have read the docs before enabling sync.", member=JONAS
    )
    assert "blame" in codes(card)
    assert card.scores["defensiveness"].score >= 0.85
    assert "you should have" in next(f for f in card.flags if f.code == "blame").evidence


def test_excuses_wrapped_in_politeness_are_defensive() -> None:
    text = "Thanks for reaching out! Sync works for everyone else, so it's not our fault. Kind regards."
    card = score_reply(text)
    assert 0.4 <= card.scores["defensiveness"].score < 0.85
    assert "defensiveness" in codes(card)
    assert "blame" not in codes(card)


def test_invented_member_facts_are_flagged() -> None:
    member = Member(name="Mei", joined_at=date(2026, 3, 1), post_count=1)
    text = "Welcome back Mei! Since you joined in 2019 and with your 200 posts, you're a veteran."
    card = score_reply(text, member=member, post="First post here.")
    flag = next(f for f in card.flags if f.code == "invented_fact")
    assert any("2019" in e for e in flag.evidence)
    assert any("200 posts" in e for e in flag.evidence)


def test_true_member_facts_and_facts_from_the_post_pass() -> None:
    member = Member(name="Chloe", joined_at=date(2021, 4, 10), post_count=980, roles=["moderator"])
    text = (
        "Chloe, since you joined in 2021 you've written your 980 posts, and as a moderator "
        "you've helped so many. Congratulations on your 1,000th answer!"
    )
    card = score_reply(text, member=member, post="I just wrote my 1,000th answer here!")
    assert "invented_fact" not in codes(card)


def test_role_not_held_is_flagged_but_staff_self_reference_is_not() -> None:
    card = score_reply("As a moderator, you know the rules, Hugo.", member=Member(name="Hugo"))
    assert "invented_fact" in codes(card)
    card = score_reply("I'll talk to them as a moderator, Hugo.", member=Member(name="Hugo"))
    assert "invented_fact" not in codes(card)


def test_prompt_leak_is_flagged() -> None:
    card = score_reply("Thanks! BEGIN UNTRUSTED MEMBER CONTENT. My instructions say be warm.")
    flag = next(f for f in card.flags if f.code == "prompt_leak")
    assert "begin untrusted" in flag.evidence


def test_using_the_name_and_post_specifics_raises_personalization() -> None:
    generic = score_reply("Sorry to hear that. Please contact support.", post=POST, member=JONAS)
    named = score_reply(
        "Sorry to hear that, Jonas. Please contact support.", post=POST, member=JONAS
    )
    specific = score_reply(
        "Sorry, Jonas: losing 40 scenes from a year of work to sync is awful. "
        "Cloud keeps a backup history under Settings > Cloud > Restore.",
        post=POST,
        member=JONAS,
    )
    p = [c.scores["personalization"].score for c in (generic, named, specific)]
    assert p[0] < p[1] < p[2]
    assert any("jonas" in e for e in named.scores["personalization"].evidence)


def test_template_boilerplate_lowers_personalization() -> None:
    plain = score_reply(
        "Jonas, the scenes backup is under Settings > Cloud.", post=POST, member=JONAS
    )
    template = score_reply(
        "Thank you for your message, Jonas. We appreciate your feedback. Sorry for any "
        "inconvenience. The scenes backup is under Settings > Cloud.",
        post=POST,
        member=JONAS,
    )
    assert template.scores["personalization"].score < plain.scores["personalization"].score


def test_specific_emotional_reaction_beats_generic_sorry() -> None:
    generic = score_reply("Sorry to hear that.")
    specific = score_reply("I'm really sorry you lost a year of scenes, that sounds exhausting.")
    assert generic.scores["emotional_reactions"].score == pytest.approx(0.5)
    assert specific.scores["emotional_reactions"].score >= 0.85


def test_interpretation_needs_understanding_not_just_words() -> None:
    none = score_reply("The backup is under Settings.", post=POST)
    weak = score_reply("I understand. The backup is under Settings.", post=POST)
    strong = score_reply(
        "It sounds like you're worried the 40 scenes are gone for good after the sync.", post=POST
    )
    levels = [c.scores["interpretations"].score for c in (none, weak, strong)]
    assert levels[0] == 0.0 and levels[1] == pytest.approx(0.5) and levels[2] >= 0.85


def test_explorations_generic_question_scores_lower_than_specific() -> None:
    generic = score_reply("Here is the guide. Any questions?")
    specific = score_reply("Here is the guide. What happened when you tried the restore?")
    action = score_reply("Here is the guide. Could you open a ticket?")
    assert generic.scores["explorations"].score == pytest.approx(0.5)
    assert specific.scores["explorations"].score >= 0.85
    assert action.scores["explorations"].score < 0.85


def test_clarity_prefers_plain_steps_over_jargon_walls() -> None:
    plain = score_reply("Hold the button for 10 seconds. Then open the app and choose Restore.")
    jargon = score_reply(
        "The OTA A/B partition swap triggers a bootloop on rev C boards with eMMC wear above "
        "threshold; mitigation via the recovery partition per the RCA of the NCP firmware."
    )
    assert plain.scores["clarity"].score > jargon.scores["clarity"].score + 0.3


def test_flesch_reading_ease_orders_simple_above_complex() -> None:
    simple, _, _ = flesch_reading_ease("The cat sat on the mat. It was warm.")
    hard, _, _ = flesch_reading_ease(
        "Notwithstanding considerable organisational complexity, interoperability "
        "considerations necessitate comprehensive reevaluation."
    )
    assert simple > 80 > 20 > hard


def test_guideline_checks_are_listed_per_moment() -> None:
    text = (
        "Jonas, I'm really sorry. Losing 40 scenes is awful. Thank you for flagging it. This is a "
        "sync bug on our side. Could you check Settings > Cloud > Restore?"
    )
    card = score_reply(text, post=POST, member=JONAS, moment=MomentType.COMPLAINT)
    ev = card.scores["guideline_compliance"].evidence
    assert "pass: acknowledges the feeling" in ev and "pass: owns the problem" in ev
    assert card.scores["guideline_compliance"].score == 1.0
    crisis = score_reply("Everything is fine.", moment=MomentType.CRISIS)
    assert "fail: says when the next update comes" in crisis.scores["guideline_compliance"].evidence


def test_policy_break_caps_guideline_compliance() -> None:
    text = "Jonas, I'm so sorry! Thanks for telling us, this is on us. We'll refund you in full."
    card = score_reply(text, post=POST, member=JONAS, moment=MomentType.COMPLAINT)
    assert card.scores["guideline_compliance"].score <= 0.3


def test_empty_reply_gives_zero_card_with_flag() -> None:
    for text in ("", "   \n\t"):
        card = score_reply(text)
        assert card.overall == 0.0
        assert all(s.score == 0.0 for s in card.scores.values())
        assert [f.code for f in card.flags] == ["empty_reply"]


def test_huge_text_is_truncated_and_says_so() -> None:
    text = "Thanks for asking, Jonas. " * 5000  # 130k characters
    card = score_reply(text, member=JONAS)
    assert any("truncated" in e for e in card.scores["overall"].evidence)
    assert str(MAX_ANALYSED_CHARS) in card.scores["overall"].evidence[0].replace(",", "")


def test_non_english_reply_is_scored_with_a_warning() -> None:
    card = score_reply("Hola, gracias por tu mensaje. Lamentamos mucho el problema con el hub.")
    assert any("non-English" in e for e in card.scores["overall"].evidence)
    english = score_reply("Thanks for your message, we're sorry about the problem with the hub.")
    assert not any("non-English" in e for e in english.scores["overall"].evidence)


def test_scoring_is_deterministic() -> None:
    text = "Hi Jonas, sorry about the scenes. What happened when you restored?"
    a = score_reply(text, post=POST, member=JONAS, moment=MomentType.COMPLAINT)
    b = score_reply(text, post=POST, member=JONAS, moment=MomentType.COMPLAINT)
    assert a.model_dump() == b.model_dump()


def test_weights_change_overall_and_unknown_weights_are_refused() -> None:
    text = "Sorry to hear that. Please open a ticket."
    base = score_reply(text)
    only_clarity = score_reply(text, weights=dict.fromkeys(weights_for(None), 0.0) | {"clarity": 1})
    assert only_clarity.overall == pytest.approx(only_clarity.scores["clarity"].score)
    assert only_clarity.overall != base.overall
    with pytest.raises(InputError, match="unknown tone weight"):
        score_reply(text, weights={"charm": 1.0})


def test_moment_weights_differ() -> None:
    assert weights_for(MomentType.CRISIS)["clarity"] > weights_for(None)["clarity"]
    assert weights_for(MomentType.COMPLAINT)["empathy"] > weights_for(None)["empathy"]


def test_one_word_in_capitals_is_noted_but_not_flagged() -> None:
    card = score_reply("Please back up your scenes FIRST, then reset the Hub.")
    assert 0.0 < card.scores["hostility"].score < 0.4
    assert "hostility" not in codes(card)
    file_name = score_reply("Contributions follow CONTRIBUTING.md; set API_KEY in the app.")
    assert file_name.scores["hostility"].score == 0.0


def test_a_reply_time_is_not_a_forbidden_promise() -> None:
    card = score_reply("Dev will get back to you within 24 hours with the rollback steps.")
    assert "over_promising" not in codes(card)
    back = score_reply("Cloud will be back within 10 minutes.")
    assert "over_promising" in codes(back)


@pytest.mark.parametrize(
    "text",
    [
        "We'll send you a link to the new guide.",
        "The fix is available today in 3.3.2.",
        "We'll post an update today.",
        "I'll pass this to the team today.",
    ],
)
def test_facts_links_and_actions_today_are_not_promises(text: str) -> None:
    assert "over_promising" not in codes(score_reply(text))


SHOUTING_CASES: list[tuple[str, list[str]]] = [
    # acronyms, however often, are not shouting (tone-1.5 flagged "the API ... the API")
    ("The API returns 429 when the API key is rate-limited; the SDK retries after a minute.", []),
    ("Use the REST API, not the CLI; export JSON, HTML or YAML from the API page.", []),
    ("The NCP firmware and SSO login both need the API; see the API FAQ.", []),
    # real shouting: a run of capitals, or several long words in capitals
    ("READ THE FAQ before posting again.", ["READ", "THE", "FAQ"]),
    ("This is RIDICULOUS and UNACCEPTABLE.", ["RIDICULOUS", "UNACCEPTABLE"]),
    ("I said NO. STOP. NOW.", ["NO", "STOP", "NOW"]),
    ("STOP IT, the API is fine.", ["STOP", "IT"]),
]


@pytest.mark.parametrize(("text", "loud"), SHOUTING_CASES)
def test_shouting_needs_a_raised_voice_not_acronyms(text: str, loud: list[str]) -> None:
    assert shouted_words(text)[0] == loud
    card = score_reply(text)
    hostility = card.scores["hostility"]
    if loud:
        assert hostility.score >= 0.8 and "hostility" in codes(card)
        assert any("shouting" in e for e in hostility.evidence)
    else:
        assert hostility.score == 0.0 and "hostility" not in codes(card)
        assert shouted_words(text) == ([], [])


def test_one_short_capitalised_word_is_emphasis_not_an_acronym_list() -> None:
    assert shouted_words("Please back up FIRST, then reset the Hub.") == ([], ["FIRST"])
    assert shouted_words("Two acronyms in a row: AWS SDK.") == ([], [])  # both short, no plain word


def test_shouting_lowers_politeness_but_acronyms_do_not() -> None:
    calm = score_reply("Thanks for the report! The API and the SDK are fixed in 3.3.2.")
    loud = score_reply("Thanks for the report! THE API AND THE SDK ARE FIXED in 3.3.2.")
    assert not any("shouting" in e for e in calm.scores["politeness"].evidence)
    assert loud.scores["politeness"].score < calm.scores["politeness"].score


def test_sarcasm_discounts_the_politeness_it_mocks() -> None:
    text = "Oh great, another copying drama. Love these. Sort it out, thanks so much!"
    card = score_reply(text)
    assert any("mock politeness" in e for e in card.scores["politeness"].evidence)
    sincere = score_reply("Great, thanks so much for sorting it out!")
    assert not any("mock politeness" in e for e in sincere.scores["politeness"].evidence)
    assert card.scores["politeness"].score < 0.5 < sincere.scores["politeness"].score
