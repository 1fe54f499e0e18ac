"""Text helpers shared by the tone scorers: tokens, sentences, word lists, syllables.

Everything here is pure and cheap; word lists are loaded once and cached.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from importlib import resources
from typing import Any

_sre_c: Any = importlib.import_module("re._constants")  # the regex parser (Python >= 3.11)
_sre_p: Any = importlib.import_module("re._parser")


def _required(seq: list[Any]) -> frozenset[str] | None:
    """A set of literals at least one of which every match of `seq` contains (best found)."""
    candidates: list[frozenset[str]] = []
    run = ""
    for op, av in seq:
        if op is _sre_c.LITERAL:
            run += chr(av)
            continue
        if run:
            candidates.append(frozenset({run}))
            run = ""
        sub: frozenset[str] | None = None
        if op is _sre_c.SUBPATTERN:
            sub = _required(list(av[3]))
        elif op is _sre_c.BRANCH:
            parts = [_required(list(alt)) for alt in av[1]]
            if all(p is not None for p in parts):
                sub = frozenset().union(*[p for p in parts if p is not None])
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            sub = _required(list(av[2]))
        if sub:
            candidates.append(sub)
    if run:
        candidates.append(frozenset({run}))
    good = [c for c in candidates if min(len(x) for x in c) >= 3 and len(c) <= 48]
    if not good:
        return None
    return max(good, key=_gate_quality)


_COMMON_PIECES = frozenset(
    "you your the to a an and in it we i of for is on that this be are me my our us".split()
)


def _gate_quality(pieces: frozenset[str]) -> float:
    """Prefer gates whose pieces are long and not common words (they reject more texts)."""
    shortest = min(len(p.strip()) for p in pieces)
    if any(p.strip() in _COMMON_PIECES for p in pieces):
        shortest = 0
    return shortest - 0.5 * len(pieces)


def literal_gate(source: str) -> frozenset[str] | None:
    """Substrings at least one of which must occur for `source` to match, or None."""
    try:
        return _required(list(_sre_p.parse(source)))
    except Exception:  # noqa: BLE001 - a gate is an optimisation; without it the rule still runs
        return None


_LEFT_BOUNDARIES = ("(?<![a-z])", "(?<![a-z'])", "(?:^|\\W)")


_GRAMS: tuple[tuple[str, frozenset[str]], ...] = ()
_GRAM_SLOTS = 3  # the reply, and a post or sentence checked in between (tone-1.7 sarcasm)


def _four_grams(text: str) -> frozenset[str]:
    """All 4-character substrings of `text`, cached for the last few texts.

    Rules share one text, but the sarcasm checks interleave the post and single sentences; a
    one-slot cache would rebuild the reply's 4-grams after each of them.
    """
    global _GRAMS
    cached = _GRAMS  # one tuple read: safe across threads
    for seen, grams in cached:
        if seen is text:
            return grams
    grams = frozenset([text[i : i + 4] for i in range(len(text) - 3)])
    _GRAMS = ((text, grams), *cached[: _GRAM_SLOTS - 1])
    return grams


class Rule:
    """A compiled pattern whose leading word-boundary check runs in Python.

    A pattern that starts with a lookbehind or `(?:^|\W)` makes Python's `re` try a full match
    at every position; without it `re` can skip ahead on the first characters. Matches are rare,
    so checking the left boundary after the fact is much faster and gives the same answers.
    A literal gate (substrings one of which every match contains, found by parsing the pattern) skips
    the regex entirely when none of them occurs in the text.
    """

    __slots__ = ("gate", "left", "pattern", "rx")
    gate: tuple[str, ...] | None

    def __init__(self, source: str) -> None:
        self.pattern = source
        self.left = False
        for prefix in _LEFT_BOUNDARIES:
            if source.startswith(prefix):
                source = source[len(prefix) :]
                self.left = True
                break
        self.rx = re.compile(source)
        gate = literal_gate(source)
        self.gate = tuple(sorted(gate, key=len, reverse=True)) if gate else None

    def _open(self, text: str) -> bool:
        gate = self.gate
        if gate is None:
            return True
        if len(text) < 200:
            for piece in gate:
                if piece in text:
                    return True
            return False
        grams = _four_grams(text)
        for piece in gate:
            if len(piece) >= 4:
                if piece[:4] in grams and piece in text:
                    return True
            elif piece in text:
                return True
        return False

    def _ok(self, text: str, start: int) -> bool:
        if not self.left or start == 0:
            return True
        prev = text[start - 1]
        return not (prev.isalpha() or prev == "'")

    def search(self, text: str) -> re.Match[str] | None:
        if not self._open(text):
            return None
        m = self.rx.search(text)
        while m is not None and not self._ok(text, m.start()):
            m = self.rx.search(text, m.start() + 1)
        return m

    def finditer(self, text: str) -> list[re.Match[str]]:
        if not self._open(text):
            return []
        return [m for m in self.rx.finditer(text) if self._ok(text, m.start())]

    def findall(self, text: str) -> list[str]:
        return [m.group(0) for m in self.finditer(text)]


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
    return WORD_RE.findall(text.lower().replace("’", "'"))


def sentences(text: str) -> list[str]:
    """Rough sentence split on terminal punctuation and newlines."""
    return [s.strip() for s in SENT_SPLIT_RE.split(text) if s and s.strip()]


@lru_cache(maxsize=1024)
def content_words(text: str) -> frozenset[str]:
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
    return frozenset(out)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A tiny suffix stripper, enough to match 'scenes'/'scene', 'resetting'/'reset'."""
    for suffix in ("ingly", "edly", "ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


@lru_cache(maxsize=65536)
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
    joined = "".join(letters)
    ascii_share = 1.0 if joined.isascii() else len(joined.encode("ascii", "ignore")) / len(letters)
    if ascii_share < 0.6:
        return True
    if len(toks) < 8:
        return False
    common = sum(1 for t in toks if t in ENGLISH_COMMON)
    return common / len(toks) < 0.06


# Shouting ------------------------------------------------------------------------------------

# Acronyms that are never emphasis, whatever their length (an isolated all-caps word of up to
# five letters is treated as an acronym anyway; this list also covers runs such as "REST API").
KNOWN_ACRONYMS = frozenset(
    """API APIS SDK CLI JSON YAML XML HTML CSS REST HTTP HTTPS URL URLS URI UUID FTP SMTP IMAP SSH
    SSL TLS VPN DNS IP TCP UDP LAN WAN NAS NFC GPS USB LED HDMI RAM CPU GPU SSD HDD OS UI UX IOT
    OTA MQTT RCA SQL CSV PDF PNG JPG JPEG GIF SVG ZIP AWS GCP SSO SAML OAUTH JWT FAQ FAQS TOS EULA
    GDPR CCPA SLA ETA CEO CTO QA PR CI CD RC LTS AKA FYI BTW ASAP TLDR IMO IMHO AFAIK DIY ISP SIM
    PIN ID IDS OK UTC GMT CET CEST PST EST EU US UK TV DM PM AM APP IOS WIFI GHZ MHZ KB MB GB TB
    NVIDIA LINUX GITHUB""".split()
)
# A word in capitals, not a file name or identifier (CONTRIBUTING.md, API_KEY, COVID-19).
CAPS_WORD_RE = re.compile(r"(?<![\w.'’-])[A-Z][A-Z'’]*[A-Z](?![\w'’.-]?[A-Za-z0-9])")
_CAPS_GAP_RE = re.compile(r"[^a-z0-9]*")  # spaces, punctuation, "A" / "I" between two words
SHOUT_WORD_LETTERS = 6  # an isolated all-caps word this long is not an acronym


def shouted_words(text: str) -> tuple[list[str], list[str]]:
    """(shouted words, emphasised words): capitals that raise the voice, acronyms excluded.

    Why not "two words in capitals": a reply that names the API twice is not shouting. Words
    in capitals form runs (only spaces or punctuation between them). Shouting is a run holding
    three words not on the acronym list ("NO. STOP. NOW."), or two such words one of which has
    four or more letters ("STOP IT", "READ THE FAQ"; not "REST API", "CHIP SDK", "JSON, HTML,
    YAML"), or a lone such word of six or more letters ("SERIOUSLY"). A lone capitalised word of
    up to five letters is an acronym ("API", "SDK", "HVAC") or at most emphasis ("FIRST"): it is
    returned as emphasis when it has four or five letters. Callers call a reply shouting when two
    or more shouted words come back (one long word alone is emphasis too).
    """
    runs: list[list[str]] = []
    end = -1
    for m in CAPS_WORD_RE.finditer(text):
        if runs and _CAPS_GAP_RE.fullmatch(text, end, m.start()):
            runs[-1].append(m.group(0))
        else:
            runs.append([m.group(0)])
        end = m.end()
    loud: list[str] = []
    emphasis: list[str] = []
    for run in runs:
        plain = [w for w in run if w not in KNOWN_ACRONYMS]
        letters = [len(w) - w.count("'") - w.count("’") for w in plain]
        if len(plain) >= 3 or (len(plain) == 2 and max(letters) >= 4):
            loud.extend(run)
        elif len(plain) == 1:
            if letters[0] >= SHOUT_WORD_LETTERS:
                loud.append(plain[0])
            elif letters[0] >= 4:
                emphasis.append(plain[0])
    return loud, emphasis
