"""Text helpers shared by the tone scorers: tokens, sentences, word lists, syllables.

Everything here is pure and cheap; word lists are loaded once and cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’]*|\d+(?:[.,:]\d+)*")
SENT_SPLIT_RE = re.compile(r"(?<=[.!?])\s+|\n+")
VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    im i'm it's its dont don't can't cant won't wont ive i've youre you're thats that's get got
    really also still even much many one two like just lot lots thing things way make made
    know think want need going go went see use using used help hi hello hey thanks thank please
    sorry honestly anyone everyone someone anything something every day days""".split()
)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (apostrophes normalised)."""
    return [t.lower().replace("’", "'") for t in WORD_RE.findall(text)]


def sentences(text: str) -> list[str]:
    """Rough sentence split on terminal punctuation and newlines."""
    return [s.strip() for s in SENT_SPLIT_RE.split(text) if s and s.strip()]


def content_words(text: str) -> set[str]:
    """Lower-cased, crudely stemmed content words (no stopwords, length >= 3)."""
    out: set[str] = set()
    for tok in tokens(text):
        if tok.isdigit():
            if len(tok) >= 2:
                out.add(tok)
            continue
        if len(tok) < 3 or tok in STOPWORDS:
            continue
        out.add(stem(tok))
    return out


def stem(word: str) -> str:
    """A tiny suffix stripper, enough to match 'scenes'/'scene', 'resetting'/'reset'."""
    for suffix in ("ingly", "edly", "ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


def syllables(word: str) -> int:
    """Heuristic English syllable count (vowel groups, silent e, -le, minimum 1)."""
    w = word.lower().strip("'")
    if len(w) <= 3:
        return 1
    if w.endswith("es") or w.endswith("ed"):
        if not w.endswith(("ted", "ded", "ses", "zes", "ces", "ges", "xes")):
            w = w[:-2]
    elif w.endswith("e") and not w.endswith("le"):
        w = w[:-1]
    return max(1, len(VOWEL_GROUP_RE.findall(w)))


@lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    """VADER's word list (word -> valence), read once from the vadersentiment package.

    Used only as a positive/negative word list for the politeness features; falls back to a
    tiny built-in list if the package is missing.
    """
    try:
        text = (
            resources.files("vaderSentiment")
            .joinpath("vader_lexicon.txt")
            .read_text(encoding="utf-8")
        )
    except (ModuleNotFoundError, FileNotFoundError, OSError):  # pragma: no cover - dep missing
        return {"good": 1.9, "great": 3.1, "nice": 1.8, "bad": -2.5, "stupid": -2.4}
    lex: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].isalpha():
            try:
                lex[parts[0].lower()] = float(parts[1])
            except ValueError:
                continue
    return lex


ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)
ENGLISH_COMMON = frozenset(
    "the and you to of a is it that for in your we this on i with be are have can if not".split()
)


def looks_non_english(text: str, toks: list[str]) -> bool:
    """True when the text is mostly non-Latin letters or has almost no common English words."""
    letters = LETTER_RE.findall(text[:5000])
    if len(letters) < 12:
        return False
    ascii_share = sum(1 for ch in letters if ch.isascii()) / len(letters)
    if ascii_share < 0.6:
        return True
    if len(toks) < 8:
        return False
    common = sum(1 for t in toks if t in ENGLISH_COMMON)
    return common / len(toks) < 0.06
