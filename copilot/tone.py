"""Tone scorers and guardrails for a draft reply: `score_reply(text, ...) -> ToneCard`.

Deterministic, offline, no model loads per call (patterns compile at import, the politeness
weights load once). Every dimension is a `ToneScore` in [0, 1] with the phrases that moved it.
"Higher = worse" for hostility, over_promising and defensiveness.

Dimensions and methods (details and validation figures in evals/README.md):
- emotional_reactions, interpretations, explorations: EPITOME (Sharma et al., EMNLP 2020)
  mechanisms, each rated 0/1/2 (none/weak/strong) by phrase patterns, content-word overlap with
  the post and question analysis, mapped to 0 / 0.5 / 1 (a strong level gets 0.85 + 0.05 per
  extra strong cue, so more evidence ranks higher).
- empathy = min(1, max + 0.5 * second + 0.25 * third) of the three mechanism scores, i.e. one
  strong mechanism or two weak ones make empathetic (matches the rubric).
- politeness: Danescu-Niculescu-Mizil et al. (2013) strategies + static word-piece embeddings of
  the bundled all-MiniLM-L6-v2 (no transformer pass) -> ridge regression trained on the Stanford
  Politeness Corpus, Platt-calibrated; times (1 - 0.8 * hostility), x0.7 on blame, x0.7 on
  sarcasm (mock politeness).
- warmth, personalization, clarity, hostility, over_promising, defensiveness: weighted cues.
- guideline_compliance: the share of the moment's checks that pass, capped at 0.3 when a
  policy is broken (forbidden promise, blame, hostility, prompt leak, invented fact).
- overall: weighted mean of the good dimensions and (1 - bad) ones, weights per moment
  (`DEFAULT_WEIGHTS`, `MOMENT_WEIGHTS`, overridable with `weights`), times
  (1 - 0.5 * worst bad score above 0.4).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from copilot.errors import InputError
from copilot.tone_facts import find_invented_facts
from copilot.tone_politeness import score_politeness
from copilot.tone_rules import (
    BLAME,
    BOILERPLATE,
    CLEARLY_AT_READER,
    COLD,
    CONDESCENDING_ADVERB,
    EMOTION_STRONG,
    EMOTION_WEAK,
    EXCUSE,
    EXPLORE_GENERIC,
    EXPLORE_STRONG,
    FEELING_WORDS,
    HOSTILE_MILD,
    HOSTILE_OVERT,
    INTERPRET_STRONG,
    INTERPRET_WEAK,
    JARGON,
    NEXT_STEP,
    OWNS_IT,
    POS_INTERJECTION,
    PRAISE_WORDS,
    PROBLEM_WORDS,
    PROMISE_EXPLICIT,
    PROMISE_SOFT,
    PROMPT_LEAK,
    SARCASM_CUE_STRONG,
    SARCASM_CUE_WEAK,
    SCARE_QUOTE,
    SECOND_PERSON,
    SINCERE_CUE,
    TAKEN_BACK,
    WARM,
    Pattern,
    tech_tokens,
)
from copilot.tone_text import (
    Rule,
    content_words,
    looks_non_english,
    sentences,
    shouted_words,
    syllables,
    tokens,
    vader_lexicon,
)
from copilot.types import Flag, Member, MomentType, ToneCard, ToneScore

SCORER_VERSION = "tone-1.8"
MAX_ANALYSED_CHARS = 20_000

DIMENSIONS: tuple[str, ...] = (
    "empathy",
    "emotional_reactions",
    "interpretations",
    "explorations",
    "politeness",
    "warmth",
    "personalization",
    "clarity",
    "hostility",
    "over_promising",
    "defensiveness",
    "guideline_compliance",
    "overall",
)
HIGHER_IS_WORSE: frozenset[str] = frozenset({"hostility", "over_promising", "defensiveness"})
WEIGHTED: tuple[str, ...] = tuple(d for d in DIMENSIONS if d not in {"overall"})

DEFAULT_WEIGHTS: dict[str, float] = {
    "empathy": 2.0,
    "emotional_reactions": 0.0,
    "interpretations": 0.0,
    "explorations": 0.0,
    "politeness": 1.0,
    "warmth": 1.0,
    "personalization": 1.0,
    "clarity": 1.0,
    "hostility": 1.5,
    "over_promising": 1.5,
    "defensiveness": 1.5,
    "guideline_compliance": 2.0,
}
MOMENT_WEIGHTS: dict[MomentType, dict[str, float]] = {
    MomentType.COMPLAINT: {"empathy": 3.0, "defensiveness": 2.5, "over_promising": 2.0},
    MomentType.CRISIS: {
        "clarity": 3.0,
        "over_promising": 3.0,
        "empathy": 1.0,
        "personalization": 0.5,
        "warmth": 0.5,
    },
    MomentType.CONFLICT: {"hostility": 3.0, "defensiveness": 2.0, "empathy": 2.5},
    MomentType.WELCOME: {"warmth": 2.5, "personalization": 2.0},
    MomentType.CONTRIBUTION: {"warmth": 2.0, "personalization": 2.5},
    MomentType.MILESTONE: {"warmth": 2.0, "personalization": 2.5},
    MomentType.QUESTION: {"clarity": 2.5},
    MomentType.FIRST_QUESTION: {"clarity": 2.5, "warmth": 1.5},
}

_LEVEL_SCORE = (0.0, 0.5, 0.85)
_REPEATED_MARKS = re.compile(r"[!?]{3,}")
ACTION_REQUEST = Rule(
    r"(?:could|can|would|will) you (?:please )?(?!tell|share|describe|walk|say)"
    r"(?:open|send|check|try|move|post|add|give|make|update|restart|reset|install|dm|message|"
    r"email|use|turn|hold|switch|go|look|confirm|provide|attach)"
)


def weights_for(
    moment: MomentType | None, override: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The weights `overall` uses for a moment, with `override` applied on top."""
    w = dict(DEFAULT_WEIGHTS)
    if moment is not None:
        w.update(MOMENT_WEIGHTS.get(moment, {}))
    if override:
        unknown = sorted(set(override) - set(WEIGHTED))
        if unknown:
            raise InputError(
                f"unknown tone weight(s): {', '.join(unknown)}",
                hint=f"use any of: {', '.join(WEIGHTED)}",
            )
        for key, value in override.items():
            if value < 0 or math.isnan(value):
                raise InputError(f"tone weight {key} must be >= 0, got {value}")
            w[key] = float(value)
    return w


# Helpers ---------------------------------------------------------------------------------------


def _hits(
    patterns: Iterable[tuple[Pattern, str]], low: str, limit: int = 6
) -> list[tuple[str, str]]:
    """(label, matched phrase) for each pattern that matches, first match only."""
    out: list[tuple[str, str]] = []
    for rx, label in patterns:
        m = rx.search(low)
        if m:
            out.append((label, m.group(0).strip(" ,.!?")))
            if len(out) >= limit:
                break
    return out


def _ev(hits: list[tuple[str, str]]) -> list[str]:
    return [f'{label}: "{phrase}"' for label, phrase in hits]


def _level_score(level: int, strong_count: int = 1) -> float:
    if level >= 2:
        return min(1.0, _LEVEL_SCORE[2] + 0.05 * max(0, strong_count - 1))
    return _LEVEL_SCORE[level]


def _clip(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def _name_used(text_low: str, member: Member | None) -> str | None:
    if member is None:
        return None
    for cand in (member.name, member.handle):
        if not cand:
            continue
        first = cand.strip().lstrip("@").split()[0].lower() if cand.strip() else ""
        if len(first) >= 2 and re.search(rf"(?<![a-z]){re.escape(first)}(?![a-z])", text_low):
            return first
    return None


# Dimensions ------------------------------------------------------------------------------------


def _emotional_reactions(low: str, sarcastic: bool) -> ToneScore:
    strong = _hits(EMOTION_STRONG, low)
    weak = _hits(EMOTION_WEAK, low)
    if sarcastic:  # "Wow", "Great job", "Enjoy ..." in a sarcastic reply are not warmth
        strong = [h for h in strong if h[0] != "shares their joy"]
        weak = [h for h in weak if h[0] not in {"positive feeling", "congratulations"}]
    weak_labels = {label for label, _ in weak}
    level = 2 if strong or len(weak_labels) >= 3 else 1 if weak else 0
    return ToneScore(
        name="emotional_reactions",
        score=_level_score(level, len(strong)),
        evidence=[f"level {level}"] + _ev(strong + weak),
    )


def _interpretations(low: str, reflected: list[str], hostile: bool, er: float) -> ToneScore:
    strong = _hits(INTERPRET_STRONG, low)
    weak = _hits(INTERPRET_WEAK, low)
    ev: list[str] = []
    if strong and (reflected or any(lbl == "names their feeling" for lbl, _ in strong)):
        level = 2
    elif strong or weak:
        level = 1
    elif len(reflected) >= 4 and er >= 0.5:
        level = 1  # acknowledges and reflects the specifics of their post: weak understanding
        ev.append("acknowledges and reflects the post")
    else:
        level = 0
    if hostile and level:  # "if you're done, you're done" names a feeling to dismiss it
        level -= 1
        ev.append("hostile context: level lowered")
    if reflected:
        ev.append("reflects the post: " + ", ".join(reflected[:6]))
    return ToneScore(
        name="interpretations",
        score=_level_score(level, len(strong)),
        evidence=[f"level {level}"] + _ev(strong + weak) + ev,
    )


def _explorations(text: str, low: str, post_words: frozenset[str], hostile: bool) -> ToneScore:
    strong_hits = _hits(EXPLORE_STRONG, low)
    questions = [q for q in sentences(text) if q.endswith("?") and len(q) > 1]
    strong_q: list[str] = []
    weak_q: list[str] = []
    for q in questions:
        ql = q.lower()
        if EXPLORE_GENERIC.search(ql):
            weak_q.append(q)
            continue
        words = tokens(ql)
        about_them = bool(SECOND_PERSON.search(ql)) or ql.startswith(("how ", "what ", "which "))
        action = ACTION_REQUEST.search(ql)
        if action is not None and action.start() == 0:  # "could you open a ticket?": an action
            weak_q.append(q)
            continue
        specific = len(content_words(ql)) >= 2 or bool(FEELING_WORDS.search(ql))
        if about_them and specific and len(words) >= 4:
            strong_q.append(q)
        else:
            weak_q.append(q)
    generic_invites = EXPLORE_GENERIC.findall(low)
    if hostile:  # rhetorical questions in a hostile reply explore nothing
        strong_q, weak_q, strong_hits = [], [], []
    level = 2 if strong_q or strong_hits else 1 if (weak_q or generic_invites) else 0
    ev = [f"level {level}"] + _ev(strong_hits)
    ev += [f'question: "{q[:80]}"' for q in strong_q[:3]]
    ev += [f'generic: "{q[:60]}"' for q in (weak_q[:2] or generic_invites[:2]) if level < 2]
    return ToneScore(
        name="explorations",
        score=_level_score(level, len(strong_q) + len(strong_hits)),
        evidence=ev,
    )


def _empathy(er: float, ip: float, ex: float) -> ToneScore:
    a, b, c = sorted((er, ip, ex), reverse=True)
    score = _clip(a + 0.5 * b + 0.25 * c)
    return ToneScore(
        name="empathy",
        score=score,
        evidence=[
            f"emotional_reactions {er:.2f}, interpretations {ip:.2f}, explorations {ex:.2f}",
            "empathy = min(1, max + 0.5 * second + 0.25 * third)",
        ],
    )


_APOLOGY = Rule(r"(?<![a-z])(?:sorry|apolog\w*)")


def _negative(text: str) -> bool:
    """A negative state of affairs: a problem word, or net-negative VADER valence (<= -1.5)."""
    if PROBLEM_WORDS.search(text):
        return True
    lex = vader_lexicon()
    return sum(lex.get(w, 0.0) for w in tokens(text)) <= -1.5


def _sarcasm_in_sentences(low: str, post: str | None) -> list[tuple[str, str]]:
    """Sarcasm and condescension that need a sentence, not a phrase (tone-1.7).

    - Sentiment incongruity (Riloff et al. 2013: positive sentiment about a negative
      situation): a sentence opened by a positive interjection ("Great,", "Wonderful.",
      "Well done!") whose continuation -- the rest of the sentence, or the next one -- is a
      negative situation: with an irony cue ("another", "just what we needed"), with "now /
      again / more" and a problem, or, when the post itself reports a problem, any problem. A
      continuation with thanks, an apology, help or a fix keeps it sincere ("Perfect, thanks
      for the logs"), as does an apology anywhere in the reply.
    - Praise taken back: a short praising sentence ending in "I suppose / I guess"
      ("Progress, I suppose!"); a hedged claim ("It could be the app version, I guess") is not.
    - Condescending adverbs ("obviously", "literally", "clearly" aimed at the reader) unless the
      writer owns the problem in that sentence ("Obviously this shouldn't have happened, and
      I'm sorry").
    - Scare quotes around the member's own words ('your "whole evening"'); quoted UI labels
      and error messages are not mockery.
    """
    hits: list[tuple[str, str]] = []
    sents = sentences(low)
    apologetic = _APOLOGY.search(low) is not None
    post_problem: bool | None = None
    for i, sent in enumerate(sents):
        m = POS_INTERJECTION.search(sent)
        if m is not None and not apologetic:
            rest = sent[m.end() :]
            if not rest.strip() and i + 1 < len(sents):
                rest = sents[i + 1]
            rest = rest.strip()
            if rest and not rest.startswith("but") and not SINCERE_CUE.search(rest):
                strong_cue = SARCASM_CUE_STRONG.search(rest) is not None
                if _negative(rest):
                    if strong_cue or SARCASM_CUE_WEAK.search(rest):
                        ironic = True
                    else:
                        if post_problem is None:
                            post_problem = bool(post) and _negative(post.lower())
                        ironic = bool(post_problem)
                else:  # "Great, another data point. ... we can fix it" stays sincere
                    later = " ".join(sents[i + 1 : i + 3])
                    ironic = strong_cue and SINCERE_CUE.search(later) is None
                if ironic:
                    hits.append(("sarcasm (praise for a bad situation)", sent[:60]))
        back = TAKEN_BACK.search(sent)
        if back is not None:
            head = tokens(back.group("head"))
            lex = vader_lexicon()
            if len(head) <= 4 and any(w in PRAISE_WORDS or lex.get(w, 0.0) >= 1.5 for w in head):
                hits.append(("sarcasm (praise taken back)", sent[:60]))
        adverb = CONDESCENDING_ADVERB.search(sent) or CLEARLY_AT_READER.search(sent)
        if adverb is not None and OWNS_IT.search(sent) is None:
            hits.append(("condescension", adverb.group(0)))
    quoting = '"' in low or "\u201c" in low or " '" in low
    for q in SCARE_QUOTE.finditer(low) if quoting else []:
        quoted = q.group("q").strip()
        if "so-called" in q.group(0) or (post and quoted in post.lower().replace("’", "'")):
            hits.append(("sarcasm (scare quotes)", q.group(0)))
            break
    return hits


def _hostility(text: str, low: str, post: str | None = None) -> tuple[ToneScore, bool]:
    overt = _hits(HOSTILE_OVERT, low)
    mild = _hits(HOSTILE_MILD, low)
    seen = {phrase for _, phrase in mild}
    mild += [h for h in _sarcasm_in_sentences(low, post) if h[1] not in seen][:4]
    loud, emphasis = shouted_words(text)
    if len(loud) >= 2 or _REPEATED_MARKS.search(text):
        overt.append(("shouting", " ".join(loud[:4]) or "!!!"))
    elif loud or emphasis:
        word = (loud or emphasis)[0]
        if word not in {"NOTE", "TODO"}:
            mild.append(("capitals", word))
    if overt:
        score = min(1.0, 0.8 + 0.1 * (len(overt) - 1) + 0.05 * len(mild))
    elif [label for label, _ in mild] == ["capitals"]:
        score = 0.2  # one word in capitals may be emphasis, not shouting: noted, not flagged
    elif mild:
        score = min(0.75, 0.4 + 0.15 * (len(mild) - 1))
    else:
        score = 0.0
    sarcastic = any(label.startswith("sarcasm") for label, _ in mild)
    return ToneScore(name="hostility", score=score, evidence=_ev(overt + mild)), sarcastic


def _over_promising(low: str) -> tuple[ToneScore, list[tuple[str, str]]]:
    explicit = _hits(PROMISE_EXPLICIT, low)
    soft = _hits(PROMISE_SOFT, low)
    if explicit:
        score = min(1.0, 0.85 + 0.05 * (len(explicit) - 1))
    elif soft:
        score = min(0.6, 0.4 + 0.1 * (len(soft) - 1))
    else:
        score = 0.0
    return ToneScore(name="over_promising", score=score, evidence=_ev(explicit + soft)), explicit


def _defensiveness(
    low: str,
) -> tuple[ToneScore, list[tuple[str, str]], list[tuple[str, str]]]:
    blame = _hits(BLAME, low)
    excuse = _hits(EXCUSE, low)
    if blame:
        score = min(1.0, 0.85 + 0.05 * (len(blame) + len(excuse) - 1))
    elif excuse:
        score = min(0.7, 0.45 + 0.1 * (len(excuse) - 1))
    else:
        score = 0.0
    return ToneScore(name="defensiveness", score=score, evidence=_ev(blame + excuse)), blame, excuse


def _warmth(
    low: str, n_words: int, er: float, name: str | None, hostility: float, defensive: float
) -> ToneScore:
    warm = _hits(WARM, low)
    cold = _hits(COLD, low)
    excl = low.count("!")
    per_100 = 100.0 / max(n_words, 25)
    s = 0.2 + 0.4 * er + 0.12 * min(3, len(warm)) * min(1.0, per_100 * 0.6 + 0.4)
    s += 0.1 if name else 0.0
    s += 0.05 if excl else 0.0
    s -= 0.18 * len(cold)
    s -= 0.5 * hostility + 0.2 * defensive
    ev = _ev(warm) + [f"cold: {e}" for e in _ev(cold)]
    if name:
        ev.append(f'uses the name "{name}"')
    return ToneScore(name="warmth", score=_clip(s), evidence=ev)


def _personalization(
    low: str, name: str | None, reflected: list[str], has_post: bool, has_member: bool
) -> ToneScore:
    template = _hits(BOILERPLATE, low)
    s = 0.45 if name else 0.0
    s += min(0.55, 0.12 * len(reflected)) if has_post else 0.0
    s -= 0.15 * len(template)
    ev = []
    if name:
        ev.append(f'uses the name "{name}"')
    elif has_member:
        ev.append("does not use the member's name")
    if reflected:
        ev.append("reflects the post: " + ", ".join(reflected[:8]))
    elif has_post:
        ev.append("nothing specific to the post")
    else:
        ev.append("no post given: specifics not checked")
    ev += [f"template: {e}" for e in _ev(template)]
    return ToneScore(name="personalization", score=_clip(s), evidence=ev)


def flesch_reading_ease(text: str) -> tuple[float, float, int]:
    """(Flesch reading ease, words per sentence, words) with a heuristic syllable count."""
    sents = sentences(text) or [text]
    words = [w for w in tokens(text) if any(ch.isalpha() for ch in w)]
    if not words:
        return 0.0, 0.0, 0
    wps = len(words) / len(sents)
    spw = sum(syllables(w) for w in words) / len(words)
    return 206.835 - 1.015 * wps - 84.6 * spw, wps, len(words)


def _clarity(text: str, low: str, moment: MomentType | None) -> tuple[ToneScore, bool]:
    fre, wps, n_words = flesch_reading_ease(text)
    readability = _clip((fre - 20.0) / 60.0)
    longest = max((len(tokens(s)) for s in sentences(text)), default=0)
    steps = _hits(NEXT_STEP, low, limit=3)
    jargon = JARGON.findall(low)
    tech = tech_tokens(text)
    jargon_share = (len(jargon) + len(tech)) / max(1, n_words)
    needs_step = moment not in {MomentType.MILESTONE, MomentType.CONTRIBUTION, MomentType.WELCOME}
    s = 0.4 * readability + 0.2 * _clip((32.0 - wps) / 16.0)
    s += (0.4 if steps else 0.0) if needs_step else (0.25 if steps else 0.15)
    s -= min(0.5, 2.5 * max(0.0, jargon_share - 0.03))
    if longest > 40:
        s -= 0.15
    if n_words < 6:
        s -= 0.2
    if needs_step and not steps:
        s = min(s, 0.45)
    if n_words < 15:  # too short to be both clear and complete: at most "readable but vague"
        s = min(s, 0.6)
    ev = [f"Flesch reading ease {fre:.0f}, {wps:.0f} words/sentence, longest {longest}"]
    ev += _ev(steps) if steps else (["no concrete next step"] if needs_step else [])
    if jargon_share > 0.03:
        ev.append("jargon: " + ", ".join((jargon + tech)[:6]))
    return ToneScore(name="clarity", score=_clip(s), evidence=ev), bool(steps)


# Guideline checks ------------------------------------------------------------------------------

_THANKS = Rule(r"thank|appreciate|grateful")
_GREETING = Rule(
    r"^(?:\W*)(?:hi|hello|hey|welcome|dear|good (?:morning|afternoon|evening))|welcome"
)
_OWNS = Rule(
    r"on us|our (?:fault|bug|mistake|failure|side)|we (?:broke|messed|got it wrong|made)|"
    r"is a (?:known )?(?:\w+ )?bug|that's on|this one is on|we're sorry|we are sorry|"
    r"sorry|we apologi[sz]e|apologies|our failure"
)
_RESOURCE = Rule(
    r"guide|docs|documentation|faq|thread|category|tutorial|video|channel|wiki|getting started|link"
)
_INVITE = Rule(r"\?|let (?:me|us) know|feel free|would love|introduce|share|join|come say")
_GUIDELINES = Rule(r"guideline|code of conduct|community rules|our rules|be respectful|respect")
_NEUTRAL_BOTH = Rule(
    r"both|everyone|each other|all of you|fair|understand|i can see|sounds like|privately|"
    r"separate thread"
)
_TIME = Rule(
    r"\d{1,2}[:.]\d{2}|\d{1,2} ?(?:am|pm)|utc|gmt|within the (?:next )?\w+ (?:hour|minute)s?|"
    r"next update|update (?:here|you) (?:by|at|in)"
)
_FACTS = Rule(
    r"since|affect|down|outage|is failing|are failing|bug|incident|charged|caused|"
    r"we have no sign|some (?:members|users|hubs|orders)"
)
_SPECIFIC_THANKS = Rule(r"thank|appreciat|grateful|well done|congrat|brilliant|amazing")
_IMPACT = Rule(
    r"means|matters|helps?|will make|makes|so many|everyone|exactly what|big gift|"
    r"huge|reach|for (?:everyone|the community|others)|people|newcomers"
)
_CONGRATS = Rule(r"congrat|well done|happy anniversary|hooray|woohoo|celebrat|amazing|fantastic")


def _guideline(
    moment: MomentType | None,
    low: str,
    *,
    name: str | None,
    er: float,
    ip: float,
    steps: bool,
    reflected: list[str],
    policy_broken: list[str],
    hostility: float,
    blame: bool,
) -> ToneScore:
    acknowledges = er >= 0.5 or ip >= 0.5
    checks: list[tuple[str, bool]]
    if moment == MomentType.COMPLAINT:
        checks = [
            ("acknowledges the feeling", acknowledges),
            ("thanks the member", bool(_THANKS.search(low))),
            ("owns the problem", bool(_OWNS.search(low)) and not blame),
            ("gives a next step", steps),
            ("no promise outside policy", "over_promising" not in policy_broken),
        ]
    elif moment == MomentType.WELCOME:
        checks = [
            ("greets by name", bool(name) and bool(_GREETING.search(low))),
            ("is warm", er >= 0.5),
            ("points to a resource", bool(_RESOURCE.search(low))),
            ("invites a next step", bool(_INVITE.search(low))),
        ]
    elif moment in (MomentType.FIRST_QUESTION, MomentType.QUESTION):
        checks = [
            ("welcomes or thanks", bool(_THANKS.search(low) or _GREETING.search(low))),
            ("answers or gives a next step", steps),
            ("invites follow-up", bool(_INVITE.search(low))),
            ("not condescending", hostility < 0.4 and not blame),
        ]
        if moment == MomentType.QUESTION:
            checks[0] = ("addresses the member", bool(name) or bool(_THANKS.search(low)))
    elif moment == MomentType.CONFLICT:
        checks = [
            ("acknowledges the people involved", acknowledges or bool(_NEUTRAL_BOTH.search(low))),
            ("points to the guidelines", bool(_GUIDELINES.search(low))),
            ("invites a constructive next step", bool(_INVITE.search(low)) or steps),
            ("no insults or blame", hostility < 0.4 and not blame),
        ]
    elif moment == MomentType.CRISIS:
        checks = [
            ("states the facts", bool(_FACTS.search(low))),
            ("apologises", bool(re.search(r"sorry|apologi", low))),
            ("gives a workaround or next step", steps),
            ("says when the next update comes", bool(_TIME.search(low))),
            ("no dates or guarantees", "over_promising" not in policy_broken),
        ]
    elif moment == MomentType.CONTRIBUTION:
        checks = [
            ("thanks by name", bool(name) and bool(_SPECIFIC_THANKS.search(low))),
            ("names what they did", len(reflected) >= 2),
            ("says why it matters", bool(_IMPACT.search(low))),
            ("invites them further", bool(_INVITE.search(low))),
        ]
    elif moment == MomentType.MILESTONE:
        checks = [
            ("congratulates by name", bool(name) and bool(_CONGRATS.search(low))),
            ("names the milestone", len(reflected) >= 1),
            ("appreciates their part", bool(_THANKS.search(low)) or ip >= 0.5),
            ("invites them onward", bool(_INVITE.search(low))),
        ]
    else:
        checks = [
            ("polite opening or thanks", bool(_THANKS.search(low) or _GREETING.search(low))),
            ("gives a next step", steps),
            ("no blame", not blame),
            ("no hostility", hostility < 0.4),
        ]
    passed = sum(1 for _, ok in checks if ok)
    score = passed / len(checks)
    ev = [f"{'pass' if ok else 'fail'}: {label}" for label, ok in checks]
    if policy_broken:
        score = min(score, 0.3)
        ev.append("policy broken: " + ", ".join(policy_broken))
    if moment is None:
        ev.insert(0, "no moment given: generic checks")
    return ToneScore(name="guideline_compliance", score=score, evidence=ev)


# Entry point -----------------------------------------------------------------------------------


def _empty_card(reason: str) -> ToneCard:
    scores = {d: ToneScore(name=d, score=0.0, evidence=[reason]) for d in DIMENSIONS}
    return ToneCard(
        scores=scores,
        overall=0.0,
        flags=[
            Flag(
                code="empty_reply",
                message="The reply is empty; write or regenerate it.",
                evidence=[reason],
            )
        ],
        scorer_version=SCORER_VERSION,
    )


def _reflected(reply_words: frozenset[str], post: str | None) -> tuple[list[str], frozenset[str]]:
    if not post:
        return [], frozenset()
    post_words = content_words(post)
    return sorted(reply_words & post_words), post_words


def score_reply(
    text: str,
    *,
    post: str | None = None,
    member: Member | None = None,
    moment: MomentType | None = None,
    weights: dict[str, float] | None = None,
) -> ToneCard:
    """Score a draft reply on every tone dimension and run the guardrails.

    `post` (the member's post) enables interpretations/personalisation by overlap and the
    invented-fact check; `member` enables name use and fact checks; `moment` picks the guideline
    checks and the default weights of `overall`; `weights` overrides those weights.
    """
    w = weights_for(moment, weights)
    if text is None or not text.strip():
        return _empty_card("empty reply")
    notes: list[str] = []
    if len(text) > MAX_ANALYSED_CHARS:
        notes.append(
            f"analysed the first {MAX_ANALYSED_CHARS:,} of {len(text):,} characters (truncated)"
        )
        text = text[:MAX_ANALYSED_CHARS]
    low = text.lower().replace("’", "'")
    toks = tokens(low)
    if looks_non_english(text, toks):
        notes.append("language looks non-English; scores are unreliable")
    name = _name_used(low, member)
    reflected, post_words = _reflected(content_words(text), post)

    hostility, sarcastic = _hostility(text, low, post)
    er = _emotional_reactions(low, sarcastic)
    ip = _interpretations(low, reflected, hostile=hostility.score >= 0.4, er=er.score)
    ex = _explorations(text, low, post_words, hostile=hostility.score >= 0.4)
    emp = _empathy(er.score, ip.score, ex.score)
    defens, blame, excuse = _defensiveness(low)
    pol_p, pol_ev = score_politeness(text[:4000], low[:4000])  # shares low's 4-gram cache
    # Sarcasm is mock politeness (Culpeper 1996): its "Great job", "Enjoy!" are insincere, so
    # the strategies the model credits are discounted like blame is.
    politeness = ToneScore(
        name="politeness",
        score=_clip(
            pol_p
            * (1.0 - 0.8 * hostility.score)
            * (0.7 if blame else 1.0)
            * (0.7 if sarcastic else 1.0)
        ),
        evidence=pol_ev
        + ([f"hostility x{1 - 0.8 * hostility.score:.2f}"] if hostility.score else [])
        + (["blames the member x0.70"] if blame else [])
        + (["sarcasm (mock politeness) x0.70"] if sarcastic else []),
    )
    over, explicit = _over_promising(low)
    warmth = _warmth(low, len(toks), er.score, name, hostility.score, defens.score)
    pers = _personalization(low, name, reflected, post is not None, member is not None)
    clarity, has_step = _clarity(text, low, moment)

    flags: list[Flag] = []
    if explicit:
        flags.append(
            Flag(
                code="over_promising",
                message="Promises what policy does not allow (refund, replacement, date or guarantee).",
                evidence=[p for _, p in explicit],
            )
        )
    if blame:
        flags.append(
            Flag(code="blame", message="Blames the member.", evidence=[p for _, p in blame])
        )
    if excuse and defens.score >= 0.45:
        flags.append(
            Flag(
                code="defensiveness",
                message="Makes excuses or minimises the problem.",
                evidence=[p for _, p in excuse],
            )
        )
    if hostility.score >= 0.4:
        flags.append(
            Flag(
                code="hostility",
                message="Hostile, sarcastic or condescending language.",
                evidence=[e.split(": ", 1)[-1].strip('"') for e in hostility.evidence],
            )
        )
    leaks = _hits(PROMPT_LEAK, low)
    if leaks:
        flags.append(
            Flag(
                code="prompt_leak",
                message="Reveals or talks about its instructions.",
                evidence=[p for _, p in leaks],
            )
        )
    invented = find_invented_facts(text, post=post, member=member)
    if invented:
        flags.append(
            Flag(
                code="invented_fact",
                message="States facts about the member that are not in their profile or post.",
                evidence=invented,
            )
        )
    policy_broken = [f.code for f in flags if f.code != "defensiveness"]
    guide = _guideline(
        moment,
        low,
        name=name,
        er=er.score,
        ip=ip.score,
        steps=has_step,
        reflected=reflected,
        policy_broken=policy_broken,
        hostility=hostility.score,
        blame=bool(blame),
    )
    scores: dict[str, ToneScore] = {
        "empathy": emp,
        "emotional_reactions": er,
        "interpretations": ip,
        "explorations": ex,
        "politeness": politeness,
        "warmth": warmth,
        "personalization": pers,
        "clarity": clarity,
        "hostility": hostility,
        "over_promising": over,
        "defensiveness": defens,
        "guideline_compliance": guide,
    }
    total = sum(w[d] for d in WEIGHTED)
    if total <= 0:
        raise InputError("tone weights sum to zero", hint="give at least one positive weight")
    mean = (
        sum(
            w[d] * ((1.0 - scores[d].score) if d in HIGHER_IS_WORSE else scores[d].score)
            for d in WEIGHTED
        )
        / total
    )
    worst = max(scores[d].score for d in HIGHER_IS_WORSE)
    overall = _clip(mean * (1.0 - 0.5 * worst if worst > 0.4 else 1.0))
    ov_ev = [
        f"weighted mean {mean:.2f}"
        + (f", x{1 - 0.5 * worst:.2f} for the worst risk" if worst > 0.4 else "")
    ]
    ov_ev.append("moment: " + (moment.value if moment else "none (default weights)"))
    scores["overall"] = ToneScore(name="overall", score=overall, evidence=notes + ov_ev)
    if notes:
        for d in ("politeness", "empathy"):
            scores[d].evidence.extend(notes)
    return ToneCard(scores=scores, overall=overall, flags=flags, scorer_version=SCORER_VERSION)
