"""Sarcasm, condescension and passive aggression: general mechanisms, probed both ways.

Written before the tone-1.7 rules and independently of evals/data/labelled_replies.jsonl. Each
sarcastic or condescending reply has a sincere twin that uses the same surface words
("great", "thanks", "obviously", "did you try", "I guess", quotes) sincerely. A sincere reply
flagged hostile is the worse error (a manager's warm reply flagged hostile erodes trust), so the
sincere half must score no hostility at all.
"""

from __future__ import annotations

import pytest

from copilot.tone import score_reply

BROKEN = (
    "The 3.3 update wiped all my scenes and the app keeps crashing. I've spent the whole "
    "evening on this."
)
HOW_TO = "How do I set a sunset trigger? I couldn't find it anywhere."
OFFLINE = "Does the Hub work offline? Sorry if this was asked before."
MILESTONE = "I just hit 1,000 posts in the forum!"
COPIED = "Someone copied my automation script and posted it as their own."

SARCASTIC = [
    # sentiment incongruity: a positive interjection about a negative situation
    (HOW_TO, "Great, another person who didn't read the FAQ."),
    (BROKEN, "Wonderful. Another update, another wipe."),
    (BROKEN, "Brilliant! The app crashes and the scenes are gone."),
    (BROKEN, "Perfect, just what we needed on a Friday: more crash reports."),
    (BROKEN, "Great, now it's broken again."),
    # mock praise of a failure
    (BROKEN, "Great job breaking it again!"),
    (BROKEN, "Congrats on wiping your own scenes."),
    # praise taken back by a sentence-final "I suppose / I guess"
    (MILESTONE, "Progress, I suppose!"),
    (MILESTONE, "A thousand posts. Impressive, I guess."),
    (MILESTONE, "Congrats, I guess."),
    # rhetorical questions that blame
    (HOW_TO, "Did you try reading the docs?"),
    (HOW_TO, "Did you even bother to search?"),
    (HOW_TO, "Have you actually read the manual?"),
    (HOW_TO, "Is it really that hard to look under Automations?"),
    # condescension markers
    (OFFLINE, "As I said in the last thread, it works offline."),
    (OFFLINE, "Obviously it works offline. It says so on the box."),
    (HOW_TO, "Surely you can find a button labelled Automations."),
    (HOW_TO, "Bless your heart, the trigger is under Automations."),
    (COPIED, "I'm sure you'll manage without us."),
    (COPIED, "Some of us actually read the guidelines before posting."),
    # passive-aggressive formulas
    (OFFLINE, "Per my last message, the Hub works offline."),
    (OFFLINE, "With all due respect, this has been answered a hundred times."),
    (COPIED, "Thanks for the lecture."),
    (COPIED, "Must be nice to have that much free time."),
    # scare quotes around the member's own words
    (BROKEN, 'Your "whole evening" was one reset.'),
]

SINCERE = [
    (HOW_TO, "Great question! The sunset trigger is under Automations > New > Sun."),
    # verbatim from a bundled-model milestone draft: praise of real work, not mock praise
    (
        "My sunrise plugin just passed 100 installs!",
        "Congratulations, Hugo! You're doing a great job, and we're all proud of you for sharing "
        "it with the community.",
    ),
    (
        BROKEN,
        "Thanks for the clear report, that's really helpful. I'm sorry the update wiped your "
        "scenes.",
    ),
    (
        BROKEN,
        "Obviously this shouldn't have happened, and I'm sorry. Could you open a ticket so we "
        "can restore your scenes?",
    ),
    (MILESTONE, "A thousand posts! That's wonderful, thank you for all the help you give."),
    (MILESTONE, "Wow, a thousand posts! Thank you for everything you do here."),
    (MILESTONE, "Congratulations! Great progress, and we love having you here."),
    (HOW_TO, "Did you try the Automations tab? If it isn't there, tell me what you see."),
    (HOW_TO, "Have you tried updating the app? The trigger arrived in 3.0."),
    (HOW_TO, "Did you check that the Hub is on 3.3? Older versions hide the trigger."),
    (OFFLINE, "No need to apologise, it's a great question. The Hub works fully offline."),
    (OFFLINE, "As I mentioned in the announcement, offline mode comes with every Hub."),
    (OFFLINE, "Clearly we should have put this in the FAQ. Yes, the Hub works offline."),
    (BROKEN, "Perfect, thanks for the logs. They show the crash clearly."),
    (BROKEN, "Great, now it's working again! Thanks for your patience."),
    (BROKEN, "That's a great catch, and you're right: the update broke scenes. I'm so sorry."),
    (BROKEN, "Love that you kept notes. Could you share them so we can trace the crash?"),
    (BROKEN, 'Could you tap the "Export logs" button and attach the file?'),
    (HOW_TO, "It's simple: open Automations, tap New, then choose Sunset."),
    (HOW_TO, "Just open the Automations tab and tap Sunset, you'll see it right away."),
    (HOW_TO, "It could be the app version, I guess. Could you tell me which one you have?"),
    (COPIED, "Whatever you need, just ask and we'll help you sort it out."),
    (
        COPIED,
        "Thanks for flagging it. Copying someone's script without credit is not OK, and I'm "
        "sorry it happened.",
    ),
    (COPIED, "Your script is genius, and you deserve the credit. Good luck with the talk!"),
    (MILESTONE, "Well done! You've answered more questions than anyone, I think."),
    (HOW_TO, "Thanks so much! The trigger hides under Automations, which is confusing."),
    (BROKEN, "Great, another data point. The more reports we get, the faster we can fix it."),
    (COPIED, "Calling each other idiots isn't how we talk here. Let's sort out the credit."),
]


def test_the_probe_set_is_balanced_and_large_enough() -> None:
    assert len(SARCASTIC) >= 20 and len(SINCERE) >= 20
    assert len({t for _, t in SARCASTIC + SINCERE}) == len(SARCASTIC) + len(SINCERE)


@pytest.mark.parametrize(("post", "reply"), SARCASTIC, ids=[r[:40] for _, r in SARCASTIC])
def test_sarcasm_and_condescension_are_flagged(post: str, reply: str) -> None:
    card = score_reply(reply, post=post)
    hostility = card.scores["hostility"]
    assert hostility.score >= 0.4, hostility.evidence
    assert "hostility" in {f.code for f in card.flags}
    assert hostility.evidence  # says which phrase moved it


@pytest.mark.parametrize(("post", "reply"), SINCERE, ids=[r[:40] for _, r in SINCERE])
def test_the_same_words_used_sincerely_are_not_hostile(post: str, reply: str) -> None:
    card = score_reply(reply, post=post)
    assert card.scores["hostility"].score == 0.0, card.scores["hostility"].evidence
    assert "hostility" not in {f.code for f in card.flags}


def test_mock_praise_discounts_politeness_but_sincere_praise_does_not() -> None:
    mock = score_reply("Brilliant! The app crashes and the scenes are gone.", post=BROKEN)
    sincere = score_reply("Brilliant, thank you! The logs show where it crashed.", post=BROKEN)
    assert any("mock politeness" in e for e in mock.scores["politeness"].evidence)
    assert not any("mock politeness" in e for e in sincere.scores["politeness"].evidence)
    assert sincere.scores["hostility"].score == 0.0


def test_scare_quotes_need_the_members_words_not_a_ui_label() -> None:
    quoted = score_reply('Your "whole evening" was one reset.', post=BROKEN)
    label = score_reply('Your "whole evening" was one reset.', post=HOW_TO)
    assert any("scare quotes" in e for e in quoted.scores["hostility"].evidence)
    assert not any("scare quotes" in e for e in label.scores["hostility"].evidence)
