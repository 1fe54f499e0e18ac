"""Politeness: Danescu-Niculescu-Mizil et al. (2013) strategies + static word embeddings, linear.

Two feature blocks feed one linear model (ridge regression on the politeness score, then Platt):

1. The paper's politeness strategies, done as the paper describes them: gratitude (and specific
   thanks), apologising, hedges (a Hyland-style hedge lexicon, presence and count), deference,
   sentence-initial greetings, "please" at the start vs elsewhere, indirect "by the way",
   counterfactual modals ("could / would you") vs indicative ones ("can / will you"),
   subjunctive ("would it be possible", "I was wondering"), factuality, direct questions, direct
   starts, first- and second-person starts, first-person plural, positive and negative lexicon;
   plus position features (a politeness marker in the first sentence; whether the closing
   question is indirect, a wh-question or yes/no) and a few domain-neutral extras (imperative
   starts, accusing questions, insults, shouting, obligation modals, offers of help).
2. Word choice: the mean of all-MiniLM-L6-v2's *static* word-piece embeddings (the input
   embedding matrix of the bundled model; no transformer pass). A linear model on a mean of
   embeddings is a per-piece weight (`E @ coef`), so scoring a reply is a tokenizer lookup and a
   sum. Unlike a bag of words, a word never seen in training gets the weight of its neighbours
   in embedding space, which is what lets it move to other communities.

None of the strategy features is a Wikipedia word. Weights are trained by
`evals/calibrate_politeness.py` on the Stanford Politeness Corpus (Wikipedia requests, CC BY 4.0)
and shipped in `copilot/data/politeness_model.json`, with a strategy-only fallback model for when
the bundled embedding files are missing.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from copilot.tone_text import Rule, sentences, shouted_words, tokens, vader_lexicon

MODEL_PATH = Path(__file__).resolve().parent / "data" / "politeness_model.json"

_W = r"(?<![a-z'])"  # word start
_E = r"(?![a-z])"  # word end


def _rx(*alternatives: str) -> Rule:
    return Rule(_W + "(?:" + "|".join(alternatives) + ")" + _E)


GRATITUDE = _rx(r"thank(?:s|\s+you)?", r"appreciate[ds]?", r"appreciated", r"grateful", r"cheers")
SPECIFIC_THANKS = _rx(
    r"thank(?:s| you) (?:so |very |a lot |again |in advance )?(?:much )?for",
    r"thank(?:s| you) (?:so|very) much",
    r"thanks (?:a lot|again|in advance)",
    r"many thanks",
    r"much appreciated",
    r"(?:i|we)(?:'d| would)? (?:really |truly )?appreciate",
    r"(?:i'm|i am|we're|we are) (?:very |really |so )?grateful",
)
APOLOGY = _rx(
    r"sorry",
    r"apologi[sz]e[sd]?",
    r"apologies",
    r"oops",
    r"woops",
    r"excuse me",
    r"forgive me",
    r"my bad",
    r"pardon",
    r"my fault",
    r"our fault",
    r"on us",
    r"regret (?:that|any|the)",
)
# A Hyland-style hedge lexicon (Hyland 2005, as the paper uses it), minus the modals that have
# their own features: single words are counted on the tokens (a set lookup), phrases by a rule.
HEDGE_WORDS = frozenset(
    """maybe perhaps possibly possible probably probable presumably plausibly plausible might
    suggest suggests suggested suggestion apparent apparently appear appears seem seems seemed
    seemingly somewhat fairly rather quite relatively roughly approximately almost mostly mainly
    largely generally usually typically often sometimes likely unlikely unclear uncertain doubt
    doubtful""".split()
)
HEDGE_PHRASES = _rx(
    r"i (?:think|believe|guess|suppose|feel|suspect)",
    r"in my (?:opinion|view)",
    r"to my knowledge",
    r"as far as i (?:know|can tell)",
    r"may be",
    r"tend(?:s|ed)? to",
    r"a (?:bit|little)",
    r"(?:kind|sort) of",
    r"not sure",
    r"if possible",
    r"in case",
)
COUNTERFACTUAL = _rx(
    r"(?:could|would|might)(?:n't)? (?:you|u|we|i|someone|anyone|somebody|it be)",
)
INDICATIVE = _rx(r"(?:can|will) (?:you|u|someone|anyone|somebody)", r"can i")
SUBJUNCTIVE = _rx(
    r"would (?:it|that) be",
    r"could (?:it|that) be",
    r"were you",
    r"if you could",
    r"if you would",
    r"would you (?:mind|be|like|consider|care)",
    r"do you mind",
    r"if you (?:don't mind|have (?:a moment|time|a minute)|get a chance)",
    r"when you (?:have|get) (?:a|the) (?:chance|moment|minute|time)",
    r"i was (?:wondering|hoping)",
    r"i wonder",
    r"wondering if",
    r"would be (?:great|nice|helpful|good|lovely|awesome|appreciated)",
    r"would (?:like|love|appreciate)",
    r"i'd (?:like|love|appreciate)",
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
ACCUSING = _rx(
    r"you (?:never|always|keep|didn't|don't|haven't|did not|do not|have not|can't)",
    r"what (?:the hell|the heck|on earth|is wrong)",
    r"how (?:dare|many times|on earth|come)",
    r"who (?:the hell|do you think)",
    r"is that clear",
    r"got it\?",
    r"stop \w+ing",
)
OFFER = _rx(
    r"let me know",
    r"feel free",
    r"happy to",
    r"glad to",
    r"pleased to",
    r"if you (?:want|like|need|prefer)",
    r"hope (?:this|that|it) helps",
    r"i hope",
    r"hope you",
)
# Bare "Enjoy!" is left out: it closes sarcasm as often as kindness. "welcome" is a greeting.
GOOD_WISHES = _rx(
    r"good luck",
    r"best wishes",
    r"take care",
    r"enjoy (?:your|the|it)",
    r"congrat\w*",
    r"have a (?:good|great|nice|lovely) \w+",
)
INCLUSIVE = _rx(
    r"let's",
    r"shall we",
    r"(?:we can|we could|we might|we should) (?:try|look|work|discuss|talk)",
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
DEFERENCE_PHRASE = _rx(
    r"(?:good|great|nice|excellent|awesome|brilliant|impressive|wonderful|fantastic) "
    r"(?:work|job|point|idea|question|catch|call|find|suggestion)",
    r"well done",
    r"you(?:'re| are) (?:right|correct)",
    r"fair point",
)
SMILEY_RE = re.compile(r"[:;]-?[)D]|\(:|\^\^")
REPEATED_MARKS_RE = re.compile(r"[!?]\s*[!?]")
FIRST_SENTENCE_POLITE_W = frozenset(
    "thanks thank sorry apologies hi hello hey please dear appreciate welcome".split()
)
INDIRECT_OPENERS = ("could", "would", "might", "may", "do you mind", "is it possible", "would it")
YES_NO_OPENERS = frozenset("can will do did does are is have has was were should shall".split())

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
    "specific_thanks",
    "apologizing",
    "hedges",
    "hedge_count",
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
    "inclusive_we",
    "first_person",
    "first_person_start",
    "second_person",
    "second_person_start",
    "direct_question",
    "direct_start",
    "imperative_start",
    "obligation",
    "accusing",
    "offer_help",
    "good_wishes",
    "insult",
    "negation",
    "positive_lexicon",
    "negative_lexicon",
    "question",
    "ends_with_question",
    "exclamation",
    "repeated_marks",
    "shouting",
    "length",
    "n_questions",
    "why",
    "first_is_question",
    "first_sentence_polite",
    "closing_indirect_request",
    "closing_wh_question",
    "closing_yes_no_question",
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
WORD_CHOICE = "word_choice"  # the static-embedding block, reported like a feature

# Human-readable names for evidence.
STRATEGY_LABEL: dict[str, str] = {
    "gratitude": "gratitude",
    "specific_thanks": "specific thanks",
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
    "inclusive_we": "inclusive 'let's'",
    "direct_question": "direct question",
    "direct_start": "direct start",
    "second_person_start": "starts with 'you'",
    "imperative_start": "imperative",
    "obligation": "obligation / accusing question",
    "accusing": "accusing",
    "offer_help": "offer of help",
    "good_wishes": "good wishes",
    "insult": "insult / profanity",
    "negative_lexicon": "negative words",
    "positive_lexicon": "positive words",
    "shouting": "shouting",
    "repeated_marks": "repeated ?! marks",
    "why": "why-question",
    "first_sentence_polite": "polite opening",
    "closing_indirect_request": "closes with an indirect request",
    "closing_wh_question": "closes with a wh-question",
    "politeness_but": "'thanks, but' / 'sorry, but'",
    "reassurance": "reassurance",
    "help_word": "help",
    "mean_valence": "overall word valence",
    WORD_CHOICE: "word choice",
}


@dataclass(frozen=True)
class PolitenessFeatures:
    values: list[float]
    evidence: dict[str, str]  # feature -> the phrase that triggered it


def _first_match(rx: Rule | re.Pattern[str], low: str) -> str | None:
    m = rx.search(low)
    return m.group(0) if m else None


def _closing_question(sents: list[str]) -> tuple[str, str]:
    """The kind of the last question sentence ("indirect", "wh", "yes_no" or "") and its text."""
    for s in reversed(sents[-2:]):
        if not s.rstrip().endswith("?"):
            continue
        low = s.lower().replace("’", "'")
        head = tokens(low[:24])[:1]
        if low.startswith(INDIRECT_OPENERS):
            return "indirect", s
        if head and head[0] in WH_STARTS:
            return "wh", s
        if head and head[0] in YES_NO_OPENERS:
            return "yes_no", s
        return "", s
    return "", ""


def extract_features(text: str, low: str | None = None) -> PolitenessFeatures:
    """Politeness strategy features of one text (binary presence, a few clipped counts).

    `low` is `text.lower().replace("’", "'")` when the caller already has it: passing the same
    string object lets the rules reuse its cached 4-grams (`Rule` in copilot.tone_text).
    """
    if low is None:
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
    rx_feat("specific_thanks", SPECIFIC_THANKS)
    rx_feat("apologizing", APOLOGY)
    hedges = [t for t in toks if t in HEDGE_WORDS] + HEDGE_PHRASES.findall(low)
    vals["hedges"] = 1.0 if hedges else 0.0
    vals["hedge_count"] = min(len(hedges), 3) / 3.0
    if hedges:
        ev["hedges"] = hedges[0]
    start_feat("deference", DEFERENCE_STARTS)
    if not vals["deference"]:
        rx_feat("deference", DEFERENCE_PHRASE)
    start_feat("greeting", GREETING_STARTS)
    if not vals["greeting"] and low.startswith(("good morning", "good afternoon", "good evening")):
        vals["greeting"], ev["greeting"] = 1.0, "good morning"
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
    rx_feat("inclusive_we", INCLUSIVE)
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
    rx_feat("accusing", ACCUSING)
    rx_feat("offer_help", OFFER)
    rx_feat("good_wishes", GOOD_WISHES)
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
    marks = REPEATED_MARKS_RE.search(text)
    vals["repeated_marks"] = 1.0 if marks else 0.0
    if marks:
        ev["repeated_marks"] = marks.group(0)
    loud, _ = shouted_words(text)
    vals["shouting"] = 1.0 if len(loud) >= 2 else 0.0
    if vals["shouting"]:
        ev["shouting"] = " ".join(loud[:4])
    vals["length"] = min(math.log1p(len(toks)) / 5.0, 1.5)
    vals["n_questions"] = min(text.count("?"), 3) / 3.0
    word_feat("why", frozenset({"why"}))
    vals["first_is_question"] = 1.0 if sents and sents[0].rstrip().endswith("?") else 0.0
    first_words = set(tokens(sents[0].lower())) if sents else set()
    opener = first_words & FIRST_SENTENCE_POLITE_W
    vals["first_sentence_polite"] = 1.0 if opener else 0.0
    if opener:
        ev["first_sentence_polite"] = min(opener)
    kind, closing = _closing_question(sents)
    for k in ("indirect", "wh", "yes_no"):
        name = {
            "indirect": "closing_indirect_request",
            "wh": "closing_wh_question",
            "yes_no": "closing_yes_no_question",
        }[k]
        vals[name] = 1.0 if kind == k else 0.0
        if kind == k:
            ev[name] = closing[:60]
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


# Word choice: static word-piece embeddings of the bundled all-MiniLM-L6-v2 ---------------------

EMBEDDING_TENSOR = "embeddings.word_embeddings.weight"
# Not words: links, Wikipedia's "<url>" placeholder and ''italic'' markup. Stripped both in
# training and when scoring, so neither domain's link format carries weight.
_NOT_WORDS_RE = re.compile(r"https?://\S+|www\.\S+|<url>|''+")
# BERT's pre-tokenizer splits on whitespace and on every punctuation character; this split is at
# least as fine, so word pieces of each piece are the pieces of the whole text (tested).
_PIECE_RE = re.compile(r"[^\W_]+|[^\w\s]|_")
_WORD_CACHE_MAX = 200_000
# Function words are scored like any other but not named as evidence: they explain nothing.
_EVIDENCE_SKIP = frozenset(
    """the and for are but not was were has had have its it's this that with from they them their
    there these those what which who whom into onto than then also been being does did""".split()
)


class StaticWordPieces:
    """The bundled model's WordPiece tokenizer and its input word-embedding matrix.

    No transformer runs: the tokenizer (Rust, `tokenizers`) splits a word into pieces and the
    matrix is read once from `model.safetensors`, only when asked for. This is a lookup table
    of the installed package, read offline; it is not a model call, so the unit-test guard
    against real models does not apply (the scorer must give the same numbers in tests).
    """

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        self.model_dir = model_dir
        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()
        self._ids: dict[str, tuple[int, ...]] = {}

    def word_ids(self, word: str) -> tuple[int, ...]:
        """Word-piece ids of one pre-split word (cached)."""
        ids = self._ids.get(word)
        if ids is None:
            if len(self._ids) >= _WORD_CACHE_MAX:
                self._ids.clear()
            ids = tuple(self._tok.encode(word, add_special_tokens=False).ids)
            self._ids[word] = ids
        return ids

    def ids(self, text: str) -> list[int]:
        """Word-piece ids of a text, links and markup removed."""
        out: list[int] = []
        for word in words_for_embedding(text):
            out.extend(self.word_ids(word))
        return out

    def matrix(self) -> Any:
        """The (vocabulary x 384) float32 input embedding matrix (numpy), read on each call."""
        from safetensors import safe_open

        with safe_open(str(self.model_dir / "model.safetensors"), "np") as fh:
            return fh.get_tensor(EMBEDDING_TENSOR)


def words_for_embedding(text: str) -> list[str]:
    """Lower-cased words and punctuation marks of a text, as the embedding block sees them."""
    return _PIECE_RE.findall(_NOT_WORDS_RE.sub(" ", text.lower()))


def bundled_word_pieces() -> StaticWordPieces | None:
    """The bundled model's tokenizer + matrix, or None when the package or its files are missing."""
    try:
        from copilot.embeddings import bundled_model_path

        path = bundled_model_path()
        if not (path / "tokenizer.json").is_file() or not (path / "model.safetensors").is_file():
            return None
        return StaticWordPieces(path)
    except Exception:  # noqa: BLE001 - any failure means: score with the strategy-only model
        return None


@dataclass
class WordChoice:
    """Per-piece weights of the linear model on the mean static embedding.

    `coef . (mean(E[ids]) - mu) / sigma` equals the mean over pieces of `w[id] - base`, with
    `w = E @ (coef / sigma)` and `base = coef . mu / sigma`; words are cached with the sum of
    their pieces' values and their piece count.
    """

    pieces: StaticWordPieces
    weights: list[float]  # w[id] - base, per vocabulary entry
    empty: float  # contribution of a text without words (its mean embedding is 0)
    # word -> (sum of its pieces' values, piece count, mean piece value or None for short words)
    _words: dict[str, tuple[float, int, float | None]] = field(default_factory=dict)

    def word(self, word: str) -> tuple[float, int, float | None]:
        ids = self.pieces.word_ids(word)
        if len(self._words) >= _WORD_CACHE_MAX:
            self._words.clear()
        total = sum(self.weights[i] for i in ids)
        mean = total / len(ids) if ids and len(word) > 2 else None
        hit = (total, len(ids), mean)
        self._words[word] = hit
        return hit

    def contribution(self, text: str) -> tuple[float, list[tuple[float, str]]]:
        """The block's contribution to the decision and the mean piece value of each word."""
        total, n = 0.0, 0
        cache = self._words
        words = words_for_embedding(text)
        for w in words:
            hit = cache.get(w)
            if hit is None:
                hit = self.word(w)
            total += hit[0]
            n += hit[1]
        if n == 0:
            return self.empty, []
        per_word = []
        for w in set(words):
            hit = cache.get(w)  # another thread may have emptied the cache meanwhile
            if hit is not None and hit[2] is not None and w not in _EVIDENCE_SKIP:
                per_word.append((hit[2], w))
        return total / n, per_word


@dataclass(frozen=True)
class LinearHead:
    """Standardised linear decision over the strategy features + Platt calibration."""

    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    platt_a: float
    platt_b: float

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LinearHead:
        return cls(
            mean=[float(x) for x in raw["mean"]],
            scale=[float(x) for x in raw["scale"]],
            coef=[float(x) for x in raw["coef"]],
            intercept=float(raw["intercept"]),
            platt_a=float(raw["platt"]["a"]),
            platt_b=float(raw["platt"]["b"]),
        )

    def decision(self, values: list[float]) -> tuple[float, list[float]]:
        """Linear decision value and each feature's contribution to it."""
        contrib = [
            c * (v - m) / s
            for c, v, m, s in zip(self.coef, values, self.mean, self.scale, strict=True)
        ]
        return self.intercept + sum(contrib), contrib

    def probability(self, z: float) -> float:
        """Calibrated politeness in [0, 1] from a decision value."""
        return 1.0 / (1.0 + math.exp(-(self.platt_a * z + self.platt_b)))


@dataclass(eq=False)
class PolitenessModel:
    """The shipped model: strategies + word choice, and a strategy-only fallback."""

    features: tuple[str, ...]
    head: LinearHead  # strategy part of the full model (with word choice)
    fallback: LinearHead  # strategy-only model, used when the embedding files are missing
    embedding: dict[str, Any]  # mean / scale / coef of the word-choice block
    meta: dict[str, Any]
    _word_choice: WordChoice | None = None
    _loaded: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def word_choice(self) -> WordChoice | None:
        """The word-choice block, built on first use (reads the 47 MB matrix once)."""
        if self._loaded:
            return self._word_choice
        with self._lock:
            if not self._loaded:
                self._word_choice = _build_word_choice(self.embedding)
                self._loaded = True
        return self._word_choice


def _build_word_choice(emb: dict[str, Any]) -> WordChoice | None:
    pieces = bundled_word_pieces()
    if pieces is None:
        return None
    import numpy as np

    try:
        matrix = pieces.matrix()
    except Exception:  # noqa: BLE001 - unreadable matrix: strategy-only fallback
        return None
    coef = np.asarray(emb["coef"], dtype=np.float64)
    mu = np.asarray(emb["mean"], dtype=np.float64)
    sigma = np.asarray(emb["scale"], dtype=np.float64)
    if matrix.shape[1] != coef.shape[0]:
        return None
    direction = coef / sigma
    base = float(direction @ mu)
    weights = (matrix.astype(np.float64) @ direction - base).tolist()
    return WordChoice(pieces=pieces, weights=weights, empty=-base)


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> PolitenessModel | None:
    """The shipped politeness model, or None when the json is missing or for other features."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if tuple(raw.get("features", ())) != FEATURE_NAMES:
        return None
    try:
        return PolitenessModel(
            features=tuple(raw["features"]),
            head=LinearHead.from_json(raw),
            fallback=LinearHead.from_json(raw["fallback"]),
            embedding=dict(raw["embedding"]),
            meta={k: v for k, v in raw.items() if k not in {"mean", "scale", "coef", "embedding"}},
        )
    except (KeyError, TypeError, ValueError):
        return None


def _count_fallback(values: list[float]) -> float:
    good = ("gratitude", "apologizing", "hedges", "counterfactual_modal", "greeting", "please")
    bad = ("insult", "obligation", "direct_question", "imperative_start", "shouting")
    idx = {n: i for i, n in enumerate(FEATURE_NAMES)}
    s = 0.5 + 0.1 * sum(values[idx[g]] for g in good)
    s -= 0.15 * sum(values[idx[b]] for b in bad)
    return max(0.0, min(1.0, s))


def score_politeness(text: str, low: str | None = None) -> tuple[float, list[str]]:
    """Politeness in [0, 1] and the strategies that moved it most (signed).

    `low`: the caller's `text.lower().replace("’", "'")`, if it has one (see extract_features).
    """
    feats = extract_features(text, low)
    model = load_model()
    if model is None:  # no trained weights: count strategies, documented fallback
        return _count_fallback(feats.values), ["politeness model missing: strategy count fallback"]
    wc = model.word_choice()
    head = model.head if wc is not None else model.fallback
    z, contrib = head.decision(feats.values)
    names = list(FEATURE_NAMES)
    evidence_of = dict(feats.evidence)
    notes: list[str] = []
    if wc is not None:
        wz, per_word = wc.contribution(text)
        z += wz
        contrib.append(wz)
        names.append(WORD_CHOICE)
        sign = 1.0 if wz > 0 else -1.0
        top = sorted((p for p in per_word if p[0] * sign > 0), key=lambda p: -abs(p[0]))[:3]
        if top:
            evidence_of[WORD_CHOICE] = ", ".join(w for _, w in top)
    else:
        notes.append("word-choice block unavailable (bundled embedding files missing)")
    prob = head.probability(z)
    # rank by effect in logit units so the threshold means the same for both heads
    ranked = sorted(
        (
            (c, n)
            for c, n in zip(contrib, names, strict=True)
            if n in evidence_of and abs(c * head.platt_a) > 0.15
        ),
        key=lambda x: -abs(x[0]),
    )
    evidence = [
        f'{"+" if c > 0 else "-"} {STRATEGY_LABEL.get(n, n)}: "{evidence_of[n]}"'
        for c, n in ranked[:5]
    ]
    return prob, evidence + notes
