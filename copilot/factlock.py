"""Fact-lock: every checkable claim in a crisis statement must be traceable to the incident facts.

`check_fact_lock(text, facts, channel, stage=...)` returns one `Violation` per problem, each naming
the offending span. How it works:

1. Every fact value (title, what_happened, known items, next_update_at, ...) found in the text is
   masked as `⟦field⟧`, and so are the few skeleton sentences the templates themselves use
   (`BOILERPLATE`). What is left is the *free text*: the model's framing and template glue.
2. The free text is scanned for times ("14:05", "2pm", "noon"), relative times ("tomorrow"),
   durations ("3 hours"), dates ("3 March", "2026-03-03", weekday and month names), percentages,
   version numbers, plain numbers (digits or words "two".."thousand"), product names (a known
   list plus `facts.products`), links, commitments ("we will", "guarantee", "refund", ...),
   speculation about causes, blame, and tense drift ("rolled back" while the facts say
   "rolling back"; "fixed" before the resolved stage), and actions claimed as done ("we've
   deployed a fix") that the facts do not report. Times, dates and numbers are normalised
   ("2pm" == "14:00 UTC", "three" == "3") and compared with those found anywhere in the facts.
3. Whole-text checks: the next update time must be there (initial/update stages), an apology must
   be there when `facts.members_harmed`, and the channel's length limit holds.

Codes: unknown_time, unknown_date, unknown_number, unknown_product, unknown_link, unknown_action,
unapproved_commitment, speculation, blame, tense_drift, missing_next_update, missing_apology,
too_long.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Literal

from copilot.number_words import SMALL_NUMBER_WORDS
from copilot.types import Channel, IncidentFacts, Violation

Stage = Literal["initial", "update", "resolved"]
STAGES: tuple[Stage, ...] = ("initial", "update", "resolved")

CHANNEL_LIMITS: dict[str, int] = {"forum": 3000, "banner": 160, "email": 2600, "social": 280}
EMAIL_SUBJECT_LIMIT = 100

KNOWN_PRODUCTS: tuple[str, ...] = (
    "Lumen Hub",
    "LumenOS",
    "Lumen app",
    "Lumen Cloud",
    "Lumen web store",
    "Home Assistant",
    "MQTT",
)
# "Lumen <Word>" that is not a known product, the community or the team: probably invented.
_LUMEN_NAME = re.compile(r"\bLumen\s?[A-Z][A-Za-z]+\b")
_NOT_PRODUCTS = {"lumen makers", "lumen team", "lumen community", "lumen support"}

# Sentences the skeleton templates use themselves (after facts are masked).
BOILERPLATE: tuple[str, ...] = (
    r"we will post (?:our|the) next update (?:by|at|around) ⟦next_update_at⟧\.?",
    r"we will share the cause once it is confirmed\.?",
)
# Weak promises that are fine while an incident is open (backed by the next update time).
_OPEN_STAGE_PROMISES = re.compile(
    r"\b(?:we will|we'll|we are going to|we're going to)\s+(?:keep|continue to keep)\s+"
    r"(?:you|everyone|all of you|our members|the community)\s+(?:updated|posted|informed)"
    r"|\b(?:we will|we'll)\s+(?:share|post)\s+(?:more|an update|updates|the next update)\b",
    re.IGNORECASE,
)

# Without "one": the plain-number scan (`_NUMBER`) would flag every "one of" and "no one";
# durations still read "one" as 1 (`_DURATION`, `_num`).
_NUMBER_WORDS: dict[str, int] = {
    **{word: value for word, value in SMALL_NUMBER_WORDS.items() if word != "one"},
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "thousand": 1000,
    "dozen": 12,
    "dozens": 12,
    "hundreds": 100,
    "thousands": 1000,
}
_MONTHS: dict[str, int] = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_MONTH_ABBR: dict[str, int] = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_ZONE = r"(?:\s*(?:utc|gmt|cet|cest|est|edt|pst|pdt|bst|z))?"
_AMPM = r"(?:\s*(?P<ampm>am|pm|a\.m\.|p\.m\.))"
_TIME_PATTERNS = (
    re.compile(
        r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)" + _AMPM + r"?" + _ZONE + r"(?![\w:])",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?P<h>1[0-2]|0?[1-9])\.(?P<m>[0-5]\d)" + _AMPM + _ZONE + r"\b", re.IGNORECASE),
    re.compile(r"\b(?P<h>1[0-2]|0?[1-9])" + _AMPM + _ZONE + r"(?!\w)", re.IGNORECASE),
    re.compile(r"\b(?P<word>noon|midday|midnight)\b", re.IGNORECASE),
)
_RELATIVE_TIME = re.compile(
    r"\b(?:today|tonight|tomorrow|yesterday|this (?:morning|afternoon|evening|week|weekend)"
    r"|next (?:week|month|hour)|end of (?:the )?(?:day|week)|eod|asap|overnight"
    r"|in the next (?:few )?(?:minutes|hours|days))\b",
    re.IGNORECASE,
)
_NUMWORD = "|".join(_NUMBER_WORDS)
_DURATION = re.compile(
    r"\b(?P<n>\d+(?:\.\d+)?|an?|one|a few|a couple of|several|" + _NUMWORD + r")"
    r"(?:\s+or\s+so)?[\s-]+(?P<unit>second|sec|minute|min|hour|hr|day|week|month)s?\b",
    re.IGNORECASE,
)
_MONTH_RE = "|".join([*_MONTHS, *_MONTH_ABBR])
_DATE_PATTERNS = (
    re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})\b"),
    re.compile(
        r"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>" + _MONTH_RE + r")\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?P<mon>" + _MONTH_RE + r")\.?\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b", re.IGNORECASE
    ),
)
# A month name alone ("in March"); "may" only counts inside a date.
_MONTH_ALONE = re.compile(
    r"\b(?:" + "|".join(m for m in _MONTHS if m != "may") + r")\b", re.IGNORECASE
)
_WEEKDAY = re.compile(r"\b(?:" + "|".join(_WEEKDAYS) + r")s?\b", re.IGNORECASE)
_PERCENT = re.compile(r"\b(?P<n>\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)", re.IGNORECASE)
_VERSION = re.compile(r"\b[vV]?(?P<v>\d+(?:\.\d+)+)\b")
_NUMBER = re.compile(r"\b(?P<n>\d[\d,]*(?:\.\d+)?)\b|\b(?P<w>" + _NUMWORD + r")\b", re.IGNORECASE)
_LINK = re.compile(r"https?://\S+|\bwww\.\S+|\b[\w.+-]+@[\w-]+\.[\w.]+", re.IGNORECASE)

_STRONG_PROMISE = re.compile(
    r"\b(?:guarantee\w*|refund\w*|compensat\w*|promise\w*|never (?:happen )?again"
    r"|(?:won't|will not|will never|shall not) happen again|money back|free of charge"
    r"|credit(?:ed)? (?:your|to your) account)",
    re.IGNORECASE,
)
_WEAK_PROMISE = re.compile(
    r"\b(?:we will|we'll|we shall|we are going to|we're going to|make sure|ensure|"
    r"(?:will|should) be (?:fixed|resolved|restored|back|working|available|up)|"
    r"(?:fixed|resolved|restored|back) (?:by|within|in)\b)",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\b(?:likely|unlikely|probably|possibly|presumably|perhaps|we suspect|suspected|we think"
    r"|we believe|appears? to (?:be|have)|seems? to (?:be|have)"
    r"|(?:might|may|could) have (?:been|caused|come|triggered|started|led|resulted)"
    r"|looks like)\b",
    re.IGNORECASE,
)
_CAUSAL = re.compile(
    r"\b(?:due to|caused by|because of|as a result of|result of|triggered by|stems? from"
    r"|the (?:root )?cause (?:is|was|of)|root cause)\b",
    re.IGNORECASE,
)
_BLAME = re.compile(
    r"\b(?:user error|operator error|human error|your fault|their fault|not our fault"
    r"|you should have|you forgot|your (?:own )?(?:setup|configuration|network|router|wifi)"
    r"|on your (?:end|side)|misconfigured by|beyond our control|out of our control"
    r"|third[- ]party|vendor|supplier|(?:hosting|cloud|network|upstream|service) provider"
    r"|upstream|partner's|aws|amazon web services|google cloud|azure|cloudflare|isp)\b",
    re.IGNORECASE,
)
_APOLOGY = re.compile(r"\b(?:sorry|apologi[sz]e\w*|apologies)\b", re.IGNORECASE)
_COMPLETION = re.compile(
    r"\b(?:fixed|resolved|restored|back to normal|up and running|working again|back online"
    r"|fully operational|completed|sorted out|all clear)\b",
    re.IGNORECASE,
)
# "we've rolled back", "we deployed", "a fix has been released": claims that an action is done.
_DONE_ACTION = re.compile(
    r"\b(?:we(?:'ve| have)?|(?:has|have) been|(?:was|were))\s+(?:already\s+|now\s+|just\s+|quickly\s+)?"
    r"(?P<verb>[a-z]+ed|built|rebuilt|sent|made|found|taken|done|undone|begun|shut|put|set)\b"
    r"(?:\s+(?:back|out|up|down|over|off|in))?",
    re.IGNORECASE,
)
_FRAMING_VERBS = {
    "heard",
    "received",
    "noticed",
    "seen",
    "learned",
    "listened",
    "felt",
    "followed",
    "watched",
    "appreciated",
    "wanted",
    "asked",
    "missed",
    "failed",
    "disappointed",
    "disrupted",
    "caused",
    "affected",
    "frustrated",
    "inconvenienced",
    "interrupted",
    "upset",
    "impacted",
    "reported",
    "shared",
    "experienced",
    "needed",
    "expected",
    "relied",
    "trusted",
    "hoped",
    "worried",
    "concerned",
    "committed",
    "dedicated",
    "determined",
    "focused",
    "aware",
}
_CONDITIONAL_BEFORE = re.compile(
    r"\b(?:until|once|when|before|after|as soon as|to get|to bring|to have|get|bring|hope)\b"
    r"[^.!?]{0,30}$"
)

_PROGRESSIVE_AUX = re.compile(
    r"\b(?:is|are|am|'re|'s|been|currently|still|now|actively|be)\s+(?:\w+ly\s+)?(?P<v>[a-z]+ing)\b"
    r"(?:\s+(?P<p>back|out|up|down|over|off|on))?",
    re.IGNORECASE,
)
_PROGRESSIVE_START = re.compile(
    r"^\s*(?P<v>[A-Za-z]+ing)\b(?:\s+(?P<p>back|out|up|down|over|off|on))?"
)
_GENERIC_VERBS = {
    "working",
    "looking",
    "trying",
    "going",
    "doing",
    "seeing",
    "getting",
    "having",
    "being",
    "keeping",
    "affecting",
    "experiencing",
    "reporting",
    "using",
    "showing",
    "failing",
    "loading",
    "running",
    "coming",
    "waiting",
    "saying",
    "hearing",
}
_IRREGULAR: dict[str, tuple[str, ...]] = {
    "build": ("built",),
    "rebuild": ("rebuilt",),
    "send": ("sent",),
    "resend": ("resent",),
    "write": ("wrote", "written"),
    "rewrite": ("rewrote", "rewritten"),
    "take": ("took", "taken"),
    "bring": ("brought",),
    "make": ("made",),
    "find": ("found",),
    "begin": ("began", "begun"),
    "undo": ("undid", "undone"),
    "redo": ("redid", "redone"),
    "shut": ("shut",),
}


# Normalisation -------------------------------------------------------------------------------


def _ws(text: str) -> str:
    return " ".join(text.split())


def _num(raw: str) -> float | None:
    raw = raw.lower().strip()
    if raw in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[raw])
    if raw in ("a", "an", "one"):
        return 1.0
    if raw in ("a few", "a couple of", "several"):
        return None
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


def _time_minutes(match: re.Match[str]) -> int:
    groups = match.groupdict()
    word = groups.get("word")
    if word:
        return 0 if word.lower() == "midnight" else 12 * 60
    hour = int(groups["h"])
    minute = int(groups.get("m") or 0)
    ampm = (groups.get("ampm") or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    return (hour * 60 + minute) % (24 * 60)


def _date_key(match: re.Match[str]) -> tuple[int, int]:
    groups = match.groupdict()
    if groups.get("y"):
        return int(groups["mo"]), int(groups["d"])
    mon = groups["mon"].lower().rstrip(".")
    month = _MONTHS.get(mon) or _MONTH_ABBR.get(mon, 0)
    return month, int(groups["d"])


def _blank(text: str, match: re.Match[str]) -> str:
    """Replace a match by spaces so later scanners do not see it again (offsets are kept)."""
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]


class _Claims:
    """Times, dates, numbers and names found in a text, normalised for comparison."""

    def __init__(self) -> None:
        self.times: list[tuple[int, str]] = []
        self.relative: list[str] = []
        self.durations: list[tuple[tuple[float | None, str], str]] = []
        self.dates: list[tuple[tuple[int, int], str]] = []
        self.months: list[str] = []
        self.weekdays: list[str] = []
        self.percents: list[tuple[float, str]] = []
        self.versions: list[str] = []
        self.numbers: list[tuple[float, str]] = []


def _extract(text: str) -> _Claims:
    claims = _Claims()
    rest = text
    for pattern in _TIME_PATTERNS:
        for match in pattern.finditer(rest):
            claims.times.append((_time_minutes(match), match.group(0).strip()))
            rest = _blank(rest, match)
    for match in _RELATIVE_TIME.finditer(rest):
        claims.relative.append(match.group(0).lower())
        rest = _blank(rest, match)
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(rest):
            claims.dates.append((_date_key(match), match.group(0).strip()))
            rest = _blank(rest, match)
    for match in _DURATION.finditer(rest):
        unit = match.group("unit").lower()
        unit = {"sec": "second", "min": "minute", "hr": "hour"}.get(unit, unit)
        claims.durations.append(((_num(match.group("n")), unit), match.group(0).strip()))
        rest = _blank(rest, match)
    for match in _PERCENT.finditer(rest):
        claims.percents.append((float(match.group("n")), match.group(0).strip()))
        rest = _blank(rest, match)
    for match in _VERSION.finditer(rest):
        claims.versions.append(match.group("v"))
        rest = _blank(rest, match)
    for match in _MONTH_ALONE.finditer(rest):
        claims.months.append(match.group(0))
        rest = _blank(rest, match)
    for match in _WEEKDAY.finditer(rest):
        claims.weekdays.append(match.group(0))
        rest = _blank(rest, match)
    for match in _NUMBER.finditer(rest):
        raw = match.group("n") or match.group("w")
        value = _num(raw)
        if value is not None:
            claims.numbers.append((value, raw))
    return claims


# Facts ---------------------------------------------------------------------------------------


def fact_values(facts: IncidentFacts) -> list[tuple[str, str]]:
    """(field, value) for every non-empty fact string, longest first (for masking)."""
    pairs: list[tuple[str, str]] = []
    for field, value in facts.model_dump().items():
        if isinstance(value, str) and value.strip():
            pairs.append((field, value))
        elif isinstance(value, list):
            pairs.extend((field, item) for item in value if isinstance(item, str) and item.strip())
    return sorted(pairs, key=lambda pair: len(pair[1]), reverse=True)


def facts_text(facts: IncidentFacts) -> str:
    return "\n".join(value for _, value in fact_values(facts))


def _value_pattern(value: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in value.split()]
    return re.compile(r"\s+".join(parts), re.IGNORECASE)


def mask_facts(text: str, facts: IncidentFacts) -> str:
    """The free text: fact values and skeleton boilerplate replaced by `⟦field⟧` markers."""
    free = text
    for field, value in fact_values(facts):
        free = _value_pattern(value).sub(f"⟦{field}⟧", free)
    for phrase in BOILERPLATE:
        free = re.sub(phrase, "⟦boilerplate⟧", free, flags=re.IGNORECASE)
    return free


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in re.finditer(r"[.!?](?=\s|$)|\n", text):
        yield start, match.end()
        start = match.end()
    if start < len(text):
        yield start, len(text)


def _sentence_at(text: str, index: int) -> str:
    for start, end in _sentences(text):
        if start <= index < end:
            return text[start:end]
    return text


_STOP = {
    "the",
    "a",
    "an",
    "to",
    "of",
    "and",
    "or",
    "for",
    "in",
    "on",
    "we",
    "will",
    "our",
    "your",
    "you",
    "is",
    "are",
    "be",
    "with",
    "all",
    "this",
    "that",
    "it",
    "by",
}


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _STOP and len(w) > 2}


def _matches_approved(sentence: str, approved: Iterable[str]) -> bool:
    words = _content_words(sentence)
    for entry in approved:
        wanted = _content_words(entry)
        if wanted and len(wanted & words) / len(wanted) >= 0.6:
            return True
    return False


def _past_forms(verb: str) -> set[str]:
    stem = verb.lower()[:-3]
    bases = {stem, stem + "e"}
    if len(stem) > 2 and stem[-1] == stem[-2]:
        bases.add(stem[:-1])
    forms = {stem + "ed"}
    for base in bases:
        forms.add(base + "d" if base.endswith("e") else base + "ed")
        forms.update(_IRREGULAR.get(base, ()))
    if stem.endswith("y") and len(stem) > 1 and stem[-2] not in "aeiou":
        forms.add(stem[:-1] + "ied")
    return forms


def progressive_actions(facts: IncidentFacts) -> list[tuple[str, str | None]]:
    """(verb-ing, particle) for actions the facts describe as still in progress."""
    found: list[tuple[str, str | None]] = []
    entries = [facts.what_happened, *facts.known, *facts.actions_taken, *facts.progress]
    for entry in entries:
        for pattern in (_PROGRESSIVE_AUX, _PROGRESSIVE_START):
            for match in pattern.finditer(entry):
                verb = match.group("v").lower()
                if verb in _GENERIC_VERBS or len(verb) < 6:
                    continue
                particle = match.group("p")
                item = (verb, particle.lower() if particle else None)
                if item not in found:
                    found.append(item)
    return found


# The check -----------------------------------------------------------------------------------


def _violation(code: str, message: str, span: str) -> Violation:
    return Violation(code=code, message=message, span=span.strip())


def check_fact_lock(
    text: str, facts: IncidentFacts, channel: Channel, *, stage: Stage = "initial"
) -> list[Violation]:
    """Every problem in `text` (a whole statement) against `facts`; empty when it is clean."""
    found: list[Violation] = []
    free = mask_facts(text, facts)
    known_text = facts_text(facts)
    known_lower = _ws(known_text).lower()
    known = _extract(known_text)
    claims = _extract(free)

    known_times = {minutes for minutes, _ in known.times}
    for minutes, span in claims.times:
        if minutes not in known_times:
            found.append(_violation("unknown_time", "a time that is not in the facts", span))
    for span in claims.relative:
        if span not in known_lower:
            found.append(_violation("unknown_time", "a relative time not in the facts", span))
    known_durations = {key for key, _ in known.durations}
    for duration, span in claims.durations:
        if duration not in known_durations:
            found.append(_violation("unknown_time", "a duration that is not in the facts", span))
    known_dates = {key for key, _ in known.dates}
    known_months = {m for (m, _), _ in known.dates} | {
        _MONTHS[m.lower()] for m in known.months if m.lower() in _MONTHS
    }
    for date_key, span in claims.dates:
        if date_key not in known_dates:
            found.append(_violation("unknown_date", "a date that is not in the facts", span))
    for span in claims.months:
        if _MONTHS.get(span.lower()) not in known_months:
            found.append(_violation("unknown_date", "a month that is not in the facts", span))
    for span in claims.weekdays:
        if span.lower().rstrip("s") not in known_lower:
            found.append(_violation("unknown_date", "a weekday that is not in the facts", span))
    known_numbers = (
        {value for value, _ in known.numbers}
        | {value for value, _ in known.percents}
        | {key[0] for key, _ in known.durations if key[0] is not None}
        | {float(day) for (_, day), _ in known.dates}
    )
    for value, span in claims.percents:
        if value not in known_numbers:
            found.append(_violation("unknown_number", "a percentage not in the facts", span))
    known_versions = set(known.versions)
    for version in claims.versions:
        if version not in known_versions:
            found.append(_violation("unknown_number", "a version not in the facts", version))
    for value, span in claims.numbers:
        if value not in known_numbers:
            found.append(_violation("unknown_number", "a number that is not in the facts", span))

    found.extend(_check_products(free, facts, known_lower))
    found.extend(_check_promises(free, facts, stage))
    found.extend(_check_causes_and_blame(free, facts))
    found.extend(_check_tense(free, facts, stage, known_lower))
    for match in _LINK.finditer(free):
        found.append(_violation("unknown_link", "a link or address not in the facts", match[0]))

    if stage in ("initial", "update"):
        if not facts.next_update_at:
            found.append(
                _violation("missing_next_update", "the facts have no next update time", "")
            )
        elif _ws(facts.next_update_at).lower() not in _ws(text).lower():
            found.append(
                _violation(
                    "missing_next_update",
                    f"the statement must say when the next update comes ({facts.next_update_at})",
                    "",
                )
            )
    if facts.members_harmed and not _APOLOGY.search(text):
        found.append(
            _violation("missing_apology", "members were affected: the statement must apologise", "")
        )
    limit = CHANNEL_LIMITS[channel]
    if len(text) > limit:
        found.append(
            _violation(
                "too_long",
                f"{len(text)} characters; the {channel} limit is {limit}",
                text[limit : limit + 40],
            )
        )
    if channel == "email":
        subject = text.split("\n", 1)[0].removeprefix("Subject:").strip()
        if len(subject) > EMAIL_SUBJECT_LIMIT:
            found.append(
                _violation(
                    "too_long",
                    f"subject is {len(subject)} characters; the limit is {EMAIL_SUBJECT_LIMIT}",
                    subject,
                )
            )
    return _unique(found)


def _check_products(free: str, facts: IncidentFacts, known_lower: str) -> list[Violation]:
    found: list[Violation] = []
    names = {name.lower() for name in (*KNOWN_PRODUCTS, *facts.products)}
    for name in sorted(names, key=len, reverse=True):
        for match in re.finditer(r"\b" + re.escape(name) + r"\b", free, re.IGNORECASE):
            if name not in known_lower:
                found.append(
                    _violation("unknown_product", "a product the facts do not name", match[0])
                )
            free = _blank(free, match)
    for match in _LUMEN_NAME.finditer(free):
        span = match.group(0)
        if span.lower() not in known_lower and span.lower() not in _NOT_PRODUCTS:
            found.append(_violation("unknown_product", "a product the facts do not name", span))
    return found


def _check_promises(free: str, facts: IncidentFacts, stage: Stage) -> list[Violation]:
    found: list[Violation] = []
    approved = [*facts.commitments, *facts.actions_taken, *facts.progress]
    for match in _STRONG_PROMISE.finditer(free):
        sentence = _sentence_at(free, match.start())
        stem = match.group(0).lower()[:6]
        backed = [entry for entry in facts.commitments if stem in entry.lower()]
        if not _matches_approved(sentence, backed):
            found.append(
                _violation(
                    "unapproved_commitment",
                    "a promise the team has not approved (refunds, guarantees, 'never again')",
                    match[0],
                )
            )
    for match in _WEAK_PROMISE.finditer(free):
        sentence = _sentence_at(free, match.start())
        if re.search(r"⟦(?:commitments|actions_taken|progress|next_update_at)⟧", sentence):
            continue
        if stage != "resolved" and _OPEN_STAGE_PROMISES.search(sentence):
            continue
        if _matches_approved(sentence, approved):
            continue
        found.append(
            _violation(
                "unapproved_commitment",
                "a promise that is not one of the approved commitments or actions",
                sentence.strip() or match[0],
            )
        )
    return found


def _check_causes_and_blame(free: str, facts: IncidentFacts) -> list[Violation]:
    found: list[Violation] = []
    for match in _HEDGE.finditer(free):
        found.append(_violation("speculation", "speculation: say only what is confirmed", match[0]))
    if not facts.root_cause:
        for match in _CAUSAL.finditer(free):
            found.append(
                _violation(
                    "speculation",
                    "a cause is stated but the facts have no confirmed cause",
                    match[0],
                )
            )
    for match in _BLAME.finditer(free):
        found.append(_violation("blame", "blames members or another party", match[0]))
    return found


def _check_tense(
    free: str, facts: IncidentFacts, stage: Stage, known_lower: str
) -> list[Violation]:
    found: list[Violation] = []
    for verb, particle in progressive_actions(facts):
        for form in sorted(_past_forms(verb)):
            if re.search(r"\b" + re.escape(form) + r"\b", known_lower):
                continue
            tail = r"(?:\s+\w+){0,3}?\s+" + particle + r"\b" if particle else r"\b"
            for match in re.finditer(r"\b" + re.escape(form) + tail, free, re.IGNORECASE):
                found.append(
                    _violation(
                        "tense_drift",
                        f"says it is done, but the facts say '{verb}{' ' + particle if particle else ''}' (in progress)",
                        match[0],
                    )
                )
    for match in _DONE_ACTION.finditer(free):
        verb = match.group("verb").lower()
        if verb in _FRAMING_VERBS or re.search(r"\b" + re.escape(verb) + r"\b", known_lower):
            continue
        if stage == "resolved" and verb in (
            "resolved",
            "fixed",
            "restored",
            "finished",
            "completed",
        ):
            continue
        if any(v.span.lower() in match.group(0).lower() for v in found):
            continue  # already reported as tense drift
        found.append(
            _violation(
                "unknown_action",
                "says an action was taken that the facts do not report",
                match.group(0),
            )
        )
    if stage != "resolved":
        for match in _COMPLETION.finditer(free):
            word = match.group(0).lower()
            if re.search(r"\b" + re.escape(word) + r"\b", known_lower):
                continue
            if _CONDITIONAL_BEFORE.search(free[max(0, match.start() - 40) : match.start()]):
                continue
            found.append(
                _violation(
                    "tense_drift",
                    "says the problem is fixed, but the incident is not resolved",
                    match[0],
                )
            )
    return found


def _unique(violations: list[Violation]) -> list[Violation]:
    seen: set[tuple[str, str]] = set()
    unique: list[Violation] = []
    for violation in violations:
        key = (violation.code, violation.span.lower())
        if key not in seen:
            seen.add(key)
            unique.append(violation)
    return unique


def describe(violations: Iterable[Violation]) -> list[str]:
    """One line per violation, for prompts and the CLI."""
    return [f"{v.code}: {v.message}" + (f' ("{v.span}")' if v.span else "") for v in violations]
