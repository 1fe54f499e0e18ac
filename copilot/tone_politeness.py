"""Politeness: Danescu-Niculescu-Mizil et al. (2013) strategies as features + a logistic model.

The features are the paper's politeness strategies (gratitude, apologising, hedges, deference,
indirect "could you / would you", greetings, "please" at the start vs elsewhere, first-person
plural, subjunctive, factuality, direct questions, direct starts, second-person starts, positive
and negative lexicon) plus a few domain-neutral extras (imperative starts, insults, shouting,
obligation modals, offers of help). None is a Wikipedia word, so the model can transfer.

Weights are trained by `evals/calibrate_politeness.py` on the Stanford Politeness Corpus
(Wikipedia requests, CC BY 4.0) and shipped in `copilot/data/politeness_model.json`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from copilot.tone_text import Rule, sentences, tokens, vader_lexicon

MODEL_PATH = Path(__file__).resolve().parent / "data" / "politeness_model.json"

_W = r"(?<![a-z'])"  # word start
_E = r"(?![a-z])"  # word end


def _rx(*alternatives: str) -> Rule:
    return Rule(_W + "(?:" + "|".join(alternatives) + ")" + _E)


GRATITUDE = _rx(r"thank(?:s|\s+you)?", r"appreciate[ds]?", r"appreciated", r"grateful", r"cheers")
APOLOGY = _rx(
    r"sorry",
    r"apologi[sz]e[sd]?",
    r"apologies",
    r"oops",
    r"excuse me",
    r"forgive me",
    r"my bad",
    r"pardon",
    r"my fault",
    r"our fault",
    r"on us",
)
HEDGES = _rx(
    r"i think",
    r"i believe",
    r"i guess",
    r"i suppose",
    r"maybe",
    r"perhaps",
    r"possibly",
    r"probably",
    r"might",
    r"may be",
    r"suggest(?:ed|ion)?",
    r"apparently",
    r"seems?",
    r"somewhat",
    r"likely",
    r"a bit",
    r"a little",
    r"kind of",
    r"sort of",
    r"i'm not sure",
    r"not sure",
    r"if possible",
    r"in case",
)
COUNTERFACTUAL = _rx(r"could you", r"would you", r"could i", r"might you", r"could we")
INDICATIVE = _rx(r"can you", r"will you", r"can i")
SUBJUNCTIVE = _rx(
    r"would it be",
    r"could it be",
    r"were you",
    r"if you could",
    r"if you would",
    r"would you mind",
    r"do you mind",
    r"if you don't mind",
    r"i was wondering",
    r"i wonder",
    r"wondering if",
    r"would be (?:great|nice|helpful|good|lovely|awesome)",
    r"would (?:like|love|appreciate)",
)
BTW = _rx(r"by the way", r"btw", r"incidentally")
FACTUALITY = _rx(
    r"in fact",
    r"actually",
    r"the (?:point|reality|truth|fact) is",
    r"really",
    r"in reality",
)
EMPHATIC = _rx(r"obviously", r"clearly", r"of course", r"seriously", r"simply", r"just")
# single-word strategies are checked on the token set (same answers as a bounded regex, faster)
FIRST_PLURAL_W = frozenset("we our us ours ourselves let's we're we'll".split())
FIRST_SINGULAR_W = frozenset("i me my mine myself i'm i've i'll i'd".split())
SECOND_W = frozenset("you your yours yourself you're you've you'll you'd".split())
NEGATION_W = frozenset("not no never nobody nothing".split())
MODAL_W = frozenset("could would might may".split())
CONDITIONAL_W = frozenset("if whether unless".split())
OBLIGATION = _rx(
    r"you (?:should|must|need to|have to|ought to)",
    r"you'd better",
    r"don't you",
    r"why (?:did|do|would|are|is|didn't|don't|can't|won't) you(?:r)?",
)
OFFER = _rx(
    r"let me know",
    r"feel free",
    r"happy to",
    r"glad to",
    r"if you (?:want|like|need|prefer)",
    r"hope (?:this|that|it) helps",
    r"i hope",
    r"hope you",
)
INSULT = _rx(
    r"stupid",
    r"idiot\w*",
    r"dumb",
    r"moron\w*",
    r"ridiculous",
    r"pathetic",
    r"nonsense",
    r"crap",
    r"damn",
    r"hell",
    r"shit\w*",
    r"fuck\w*",
    r"wtf",
    r"garbage",
    r"useless",
    r"lazy",
    r"whin\w+",
    r"shut up",
    r"get over it",
    r"ignorant",
    r"clueless",
)
HELP = _rx(r"help\w*", r"assist\w*")
ALREADY = _rx(r"already", r"again", r"still", r"yet another", r"keep \w+ing")
POLITE_BUT = re.compile(r"(?:thanks|thank you|sorry|ok|okay|sure|agreed?)\W{0,3}\s*but\b")
REASSURE = _rx(
    r"no worries", r"not to worry", r"don't worry", r"no problem", r"take it easy", r"never mind"
)
SMILEY_RE = re.compile(r"[:;]-?[)D]|\(:|\^\^")

GREETING_STARTS = frozenset({"hi", "hello", "hey", "greetings", "dear", "howdy", "welcome"})
DEFERENCE_STARTS = frozenset(
    {
        "great",
        "good",
        "nice",
        "interesting",
        "cool",
        "excellent",
        "awesome",
        "wonderful",
        "brilliant",
        "fantastic",
        "congratulations",
        "congrats",
        "impressive",
    }
)
WH_STARTS = frozenset({"what", "why", "who", "how", "where", "when", "which"})
DIRECT_STARTS = frozenset({"so", "then", "and", "but", "or", "anyway", "well"})
FIRST_STARTS = frozenset({"i", "my", "mine", "me", "i'm", "i've", "i'd", "i'll"})
SECOND_STARTS = frozenset({"you", "your", "you're", "you've", "yours"})
IMPERATIVE_STARTS = frozenset(
    """stop fix read look check go do don't quit explain answer tell give get show take put use
    leave remove revert add make move learn search follow calm keep delete change wait ask
    see try note""".split()
)

FEATURE_NAMES: tuple[str, ...] = (
    "gratitude",
    "apologizing",
    "hedges",
    "deference",
    "greeting",
    "please",
    "please_start",
    "indirect_btw",
    "counterfactual_modal",
    "indicative_modal",
    "subjunctive",
    "factuality",
    "emphatic",
    "first_person_plural",
    "first_person",
    "first_person_start",
    "second_person",
    "second_person_start",
    "direct_question",
    "direct_start",
    "imperative_start",
    "obligation",
    "offer_help",
    "insult",
    "negation",
    "positive_lexicon",
    "negative_lexicon",
    "question",
    "ends_with_question",
    "exclamation",
    "all_caps",
    "length",
    "n_questions",
    "why",
    "first_is_question",
    "you_count",
    "i_count",
    "gratitude_end",
    "modal_any",
    "help_word",
    "contracted_negation",
    "already_again",
    "conditional",
    "mean_valence",
    "n_sentences",
    "politeness_but",
    "reassurance",
    "smiley",
)

# Human-readable names for evidence.
STRATEGY_LABEL: dict[str, str] = {
    "gratitude": "gratitude",
    "apologizing": "apology",
    "hedges": "hedge",
    "deference": "deference",
    "greeting": "greeting",
    "please": "please",
    "please_start": "please at the start",
    "indirect_btw": "indirect (by the way)",
    "counterfactual_modal": "indirect request",
    "indicative_modal": "direct request",
    "subjunctive": "subjunctive",
    "factuality": "factuality",
    "emphatic": "emphatic",
    "first_person_plural": "first-person plural",
    "direct_question": "direct question",
    "direct_start": "direct start",
    "second_person_start": "starts with 'you'",
    "imperative_start": "imperative",
    "obligation": "obligation / accusing question",
    "offer_help": "offer of help",
    "insult": "insult / profanity",
    "negative_lexicon": "negative words",
    "positive_lexicon": "positive words",
    "all_caps": "shouting",
    "why": "why-question",
    "politeness_but": "'thanks, but' / 'sorry, but'",
    "reassurance": "reassurance",
    "help_word": "help",
    "mean_valence": "overall word valence",
}

ALL_CAPS_RE = re.compile(r"\b[A-Z]{3,}\b")
_CAPS_OK = frozenset({"FAQ", "MQTT", "UTC", "API", "USB", "LED", "URL", "OTA", "GMT", "DNS", "RCA"})


@dataclass(frozen=True)
class PolitenessFeatures:
    values: list[float]
    evidence: dict[str, str]  # feature -> the phrase that triggered it


def _first_match(rx: Rule | re.Pattern[str], low: str) -> str | None:
    m = rx.search(low)
    return m.group(0) if m else None


def extract_features(text: str) -> PolitenessFeatures:
    """Politeness strategy features of one text (binary presence, a few clipped counts)."""
    low = text.lower().replace("’", "'")
    toks = tokens(low)
    sents = sentences(text)
    sent_starts = [tokens(s[:24])[:1] for s in sents]
    starts = [st[0] for st in sent_starts if st]
    start_set = set(starts)
    ev: dict[str, str] = {}
    vals: dict[str, float] = {}

    def rx_feat(name: str, rx: Rule | re.Pattern[str]) -> None:
        hit = _first_match(rx, low)
        vals[name] = 1.0 if hit else 0.0
        if hit:
            ev[name] = hit

    def start_feat(name: str, words: frozenset[str] | Callable[[str], bool]) -> None:
        for w in starts:
            ok = w in words if isinstance(words, frozenset) else words(w)
            if ok:
                vals[name] = 1.0
                ev[name] = w
                return
        vals[name] = 0.0

    rx_feat("gratitude", GRATITUDE)
    rx_feat("apologizing", APOLOGY)
    rx_feat("hedges", HEDGES)
    start_feat("deference", DEFERENCE_STARTS)
    greet = bool(toks) and (
        toks[0] in GREETING_STARTS or low.startswith(("good morning", "good afternoon"))
    )
    vals["greeting"] = 1.0 if greet else 0.0
    if greet:
        ev["greeting"] = toks[0]
    please_start = "please" in start_set
    vals["please_start"] = 1.0 if please_start else 0.0
    n_please = toks.count("please")
    vals["please"] = 1.0 if n_please > (1 if please_start else 0) else 0.0
    if please_start:
        ev["please_start"] = "please"
    if vals["please"]:
        ev["please"] = "please"
    rx_feat("indirect_btw", BTW)
    rx_feat("counterfactual_modal", COUNTERFACTUAL)
    rx_feat("indicative_modal", INDICATIVE)
    rx_feat("subjunctive", SUBJUNCTIVE)
    rx_feat("factuality", FACTUALITY)
    rx_feat("emphatic", EMPHATIC)
    tokset = set(toks)

    def word_feat(name: str, words: frozenset[str]) -> None:
        hit = tokset & words
        vals[name] = 1.0 if hit else 0.0
        if hit:
            ev[name] = min(hit)

    word_feat("first_person_plural", FIRST_PLURAL_W)
    vals["first_person"] = 1.0 if tokset & FIRST_SINGULAR_W else 0.0
    start_feat("first_person_start", FIRST_STARTS)
    vals["second_person"] = 1.0 if tokset & SECOND_W else 0.0
    start_feat("second_person_start", SECOND_STARTS)
    direct_q = False
    for s, st in zip(sents, sent_starts, strict=True):
        if st and st[0] in WH_STARTS and s.rstrip().endswith("?"):
            direct_q = True
            ev["direct_question"] = s[:60]
            break
    vals["direct_question"] = 1.0 if direct_q else 0.0
    start_feat("direct_start", DIRECT_STARTS)
    start_feat("imperative_start", IMPERATIVE_STARTS)
    rx_feat("obligation", OBLIGATION)
    rx_feat("offer_help", OFFER)
    rx_feat("insult", INSULT)
    negator = next((t for t in toks if t in NEGATION_W or t.endswith("n't")), None)
    vals["negation"] = 1.0 if negator else 0.0
    if negator:
        ev["negation"] = negator
    lex = vader_lexicon()
    pos = [t for t in toks if lex.get(t, 0.0) >= 1.5]
    neg = [t for t in toks if lex.get(t, 0.0) <= -1.5]
    vals["positive_lexicon"] = min(len(pos), 3) / 3.0
    vals["negative_lexicon"] = min(len(neg), 3) / 3.0
    if pos:
        ev["positive_lexicon"] = ", ".join(sorted(set(pos))[:4])
    if neg:
        ev["negative_lexicon"] = ", ".join(sorted(set(neg))[:4])
    vals["question"] = 1.0 if "?" in text else 0.0
    vals["ends_with_question"] = 1.0 if text.rstrip().endswith("?") else 0.0
    vals["exclamation"] = 1.0 if "!" in text else 0.0
    caps = [w for w in ALL_CAPS_RE.findall(text) if w not in _CAPS_OK]
    vals["all_caps"] = 1.0 if caps else 0.0
    if caps:
        ev["all_caps"] = caps[0]
    vals["length"] = min(math.log1p(len(toks)) / 5.0, 1.5)
    vals["n_questions"] = min(text.count("?"), 3) / 3.0
    word_feat("why", frozenset({"why"}))
    vals["first_is_question"] = 1.0 if sents and sents[0].rstrip().endswith("?") else 0.0
    vals["you_count"] = min(sum(1 for t in toks if t in SECOND_STARTS), 4) / 4.0
    vals["i_count"] = min(sum(1 for t in toks if t in FIRST_STARTS), 4) / 4.0
    last = sents[-1].lower() if sents else ""
    vals["gratitude_end"] = 1.0 if GRATITUDE.search(last) else 0.0
    word_feat("modal_any", MODAL_W)
    rx_feat("help_word", HELP)
    cneg = next((t for t in toks if t.endswith("n't") or t == "cannot"), None)
    vals["contracted_negation"] = 1.0 if cneg else 0.0
    if cneg:
        ev["contracted_negation"] = cneg
    rx_feat("already_again", ALREADY)
    word_feat("conditional", CONDITIONAL_W)
    vals_lex = [lex[t] for t in toks if t in lex]
    vals["mean_valence"] = (sum(vals_lex) / len(vals_lex)) / 4.0 if vals_lex else 0.0
    vals["n_sentences"] = min(len(sents), 6) / 6.0
    rx_feat("politeness_but", POLITE_BUT)
    rx_feat("reassurance", REASSURE)
    vals["smiley"] = 1.0 if SMILEY_RE.search(text) else 0.0
    return PolitenessFeatures([vals[n] for n in FEATURE_NAMES], ev)


@dataclass(frozen=True)
class PolitenessModel:
    features: tuple[str, ...]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    platt_a: float
    platt_b: float
    meta: dict[str, Any]

    def decision(self, values: list[float]) -> tuple[float, list[float]]:
        """Linear decision value and each feature's contribution to it."""
        contrib = [
            c * (v - m) / s
            for c, v, m, s in zip(self.coef, values, self.mean, self.scale, strict=True)
        ]
        return self.intercept + sum(contrib), contrib

    def probability(self, values: list[float]) -> tuple[float, list[float]]:
        """Calibrated politeness in [0, 1] (Platt on the full-range score) + contributions."""
        z, contrib = self.decision(values)
        return 1.0 / (1.0 + math.exp(-(self.platt_a * z + self.platt_b))), contrib


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> PolitenessModel | None:
    """The shipped politeness model, or None when the json is missing or for other features."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if tuple(raw.get("features", ())) != FEATURE_NAMES:
        return None
    return PolitenessModel(
        features=tuple(raw["features"]),
        mean=[float(x) for x in raw["mean"]],
        scale=[float(x) for x in raw["scale"]],
        coef=[float(x) for x in raw["coef"]],
        intercept=float(raw["intercept"]),
        platt_a=float(raw["platt"]["a"]),
        platt_b=float(raw["platt"]["b"]),
        meta={k: v for k, v in raw.items() if k not in {"mean", "scale", "coef"}},
    )


def score_politeness(text: str) -> tuple[float, list[str]]:
    """Politeness in [0, 1] and the strategies that moved it most (signed)."""
    feats = extract_features(text)
    model = load_model()
    if model is None:  # no trained weights: count strategies, documented fallback
        good = ("gratitude", "apologizing", "hedges", "counterfactual_modal", "greeting", "please")
        bad = ("insult", "obligation", "direct_question", "imperative_start", "all_caps")
        idx = {n: i for i, n in enumerate(FEATURE_NAMES)}
        s = 0.5 + 0.1 * sum(feats.values[idx[g]] for g in good)
        s -= 0.15 * sum(feats.values[idx[b]] for b in bad)
        return max(0.0, min(1.0, s)), ["politeness model missing: strategy count fallback"]
    prob, contrib = model.probability(feats.values)
    ranked = sorted(
        (
            (c, n)
            for c, n in zip(contrib, FEATURE_NAMES, strict=True)
            if n in feats.evidence and abs(c) > 0.15
        ),
        key=lambda x: -abs(x[0]),
    )
    evidence = [
        f'{"+" if c > 0 else "-"} {STRATEGY_LABEL.get(n, n)}: "{feats.evidence[n]}"'
        for c, n in ranked[:5]
    ]
    return prob, evidence
