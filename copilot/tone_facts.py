"""Invented-fact guard: claims about the member that the member record and the post do not support.

Checks three kinds of claim that refer to the reader ("you", "your", their name):
years ("since you joined in 2019", "your first post in 2015"), counts ("your 500 posts",
"with your 5,000 posts") and roles ("as a moderator", "you're a maintainer"). A claim passes
when it matches `Member` (joined_at, post_count, roles, badges) or when the post itself says it.
"""

from __future__ import annotations

import re
from datetime import date

from copilot.number_words import SMALL_NUMBER_WORDS as _WORD_NUM
from copilot.tone_text import Rule, sentences
from copilot.types import Member

_YOU = re.compile(r"(?<![a-z'])(?:you|your|yours|you've|you're)(?![a-z])")
_FIRST_PERSON = re.compile(r"(?<![a-z'])(?:i|i'll|i'm|i've|we|we'll|we're|me|us)(?![a-z'])")
_SELF_SUBJECT = re.compile(r"(?<![a-z])(?:i|me|we|us)(?: as| being)")
_YEAR = re.compile(
    r"(?:since|in|back in|from)\s+((?:19|20)\d{2})(?!\d)",
)
_MEMBERSHIP = re.compile(
    r"joined|member|first post|been here|with us|moderator|community|since|around|signed up"
)
_DURATION = re.compile(
    r"(?<![\w,])(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten) years? "
    r"(?:here|with us|in (?:the|this|our) community|as a member|of membership|on the forum)"
)
_COUNT = re.compile(
    r"(?:your|you've (?:written|made|posted|answered)|you have (?:written|made|posted|answered)|"
    r"with your|after|all) (\d[\d,.]*)(?:st|nd|rd|th)? "
    r"(?:\w+ )?(posts?|answers?|replies|contributions|questions|topics|solutions|likes|edits|"
    r"commits|pull requests)"
)
_ROLE = re.compile(
    r"(?:as an?|you're an?|you are an?|being an?|your role as(?: an?)?|a fellow|our)\s+"
    r"(?:long-time |longtime |senior |trusted |community )?"
    r"(moderator|mod|admin|administrator|staff member|maintainer|core contributor|team member|"
    r"leader|organi[sz]er|veteran|regular|volunteer|ambassador|employee|beta tester|translator)s?"
    r"(?![a-z])"
)
# Every claim checked below needs a digit, a number word with "year", or a role word.
_GATE = Rule(
    r"\d|years?|moderator|mod|admin|staff|maintainer|contributor|team member|leader|organi|"
    r"veteran|regular|volunteer|ambassador|employee|tester|translator"
)
_NUM_IN_TEXT = re.compile(r"\d[\d,.]*")


def _numbers(text: str) -> set[int]:
    out: set[int] = set()
    for raw in _NUM_IN_TEXT.findall(text):
        digits = raw.replace(",", "").rstrip(".")
        if digits.isdigit():
            out.add(int(digits))
    low = text.lower()
    for word, value in _WORD_NUM.items():
        if re.search(rf"(?<![a-z]){word}(?![a-z])", low):
            out.add(value)
    return out


def _span(low: str, start: int, end: int) -> str:
    """The match with a few words of left context, e.g. 'since you joined in 2019'."""
    left = low[max(0, start - 24) : start]
    if " " in left and start - 24 > 0:
        left = left[left.index(" ") + 1 :]
    return (left + low[start:end]).strip(" ,.;:")


def find_invented_facts(
    text: str, *, post: str | None, member: Member | None, today: date | None = None
) -> list[str]:
    """Phrases in `text` that state member facts not supported by `member` or `post`."""
    if _GATE.search(text.lower()) is None:
        return []
    post_low = (post or "").lower()
    post_numbers = _numbers(post or "")
    name = (member.display_name if member else None) or ""
    first_name = name.split()[0].lower() if name.strip() else ""
    joined = member.joined_at if member else None
    count = member.post_count if member else None
    known_roles = " ".join((member.roles + member.badges) if member else []).lower()
    today = today or date.today()
    found: list[str] = []
    for sent in sentences(text):
        low = sent.lower().replace("’", "'")
        about_member = bool(_YOU.search(low)) or (
            bool(first_name) and re.search(rf"(?<![a-z]){re.escape(first_name)}(?![a-z])", low)
        )
        if not about_member:
            continue
        for m in _YEAR.finditer(low):
            if not _MEMBERSHIP.search(low):
                break
            year = int(m.group(1))
            if joined is not None and joined.year == year:
                continue
            if year in post_numbers:
                continue
            found.append(_span(low, m.start(), m.end()))
        for m in _DURATION.finditer(low):
            raw = m.group(1)
            years = int(raw) if raw.isdigit() else _WORD_NUM[raw]
            if joined is not None and abs((today - joined).days / 365.25 - years) <= 1.0:
                continue
            if years in post_numbers:
                continue
            found.append(m.group(0))
        for m in _COUNT.finditer(low):
            digits = m.group(1).replace(",", "").rstrip(".")
            if not digits.isdigit():
                continue
            n = int(digits)
            kind = m.group(2)
            if kind.startswith("post") and count is not None and n == count:
                continue
            if n in post_numbers:
                continue
            found.append(m.group(0))
        for m in _ROLE.finditer(low):
            before = re.split(r"[,;:]", low[: m.start()])[-1]
            if _SELF_SUBJECT.search(low[max(0, m.start() - 12) : m.start() + 6]) or (
                _FIRST_PERSON.search(before) and not _YOU.search(before)
            ):
                continue  # "I'll talk to them as a moderator": the staff member's own role
            role = m.group(1)
            stem = role[:5]
            if stem in known_roles or stem in post_low:
                continue
            found.append(m.group(0).strip())
    return found
