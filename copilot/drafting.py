"""Orchestration only: moment → context → prompt → generate → score (→ revise once).

`draft_reply()` returns a `Draft` ready for review; `stream_reply()` yields the text as it is
generated and then the final `Draft`. Everything model-facing is in `prompts/reply.*.j2`.

Facts about the member are never left to the model: the prompt lists only what is known, the
greeting by name is ensured by construction, and the tone card flags any invented fact.
Member text is masked for personal data before it reaches any model and restored in the draft.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from copilot.errors import InputError, MomentsError
from copilot.llm.base import ChatModel, complete
from copilot.prompts import render_prompt, render_template
from copilot.settings import Settings, get_settings
from copilot.types import (
    ChatMessage,
    Citation,
    Draft,
    DraftOptions,
    Flag,
    GenerationOptions,
    MaskedItem,
    Member,
    ModelInfo,
    Moment,
    MomentType,
    Post,
    PromptRef,
    Snippet,
    SnippetKind,
    ToneCard,
)

if TYPE_CHECKING:
    from copilot.retrieval import Retriever

MAX_POST_CHARS = 6000  # what reaches the prompt; longer posts are cut with a warning
GUIDELINE_CHARS = 900  # per guideline snippet in the prompt
EXAMPLE_CHARS = 700  # per past interaction in the prompt
THREAD_CHARS = 500  # per earlier message of the thread
REPLY_LABEL = "Approved staff reply:"  # how copilot.knowledge writes an interaction chunk
REFERENCE_MARKER = "Community guidelines (written by our team"  # reply.system.j2: rules end here
SYSTEM_TEMPLATE = "reply.system.j2"
REVISE_TEMPLATE = "reply.revise.j2"
# Small models follow sentence counts better than word counts; max_tokens is the hard stop and
# an unfinished last sentence is cut off (limits are not left to the model).
LENGTH_HINTS = {
    "short": "2 to 3 short sentences (about 50 words)",
    "medium": "3 to 5 sentences (about 90 words)",
    "long": "5 to 8 sentences (about 150 words)",
}
LENGTH_TOKENS = {"short": 120, "medium": 200, "long": 320}
WARMTH_HINTS = {
    "low": "Friendly but brief and to the point.",
    "medium": "Warm and friendly.",
    "high": "Very warm, caring and encouraging, like a friend who works here.",
}
FORMALITY_HINTS = {
    "casual": "Casual, conversational language.",
    "neutral": "Plain, natural language.",
    "formal": "Polite, professional language without slang.",
}
# Flags worth one regeneration with the problem named.
REVISABLE = {
    "copies_example",
    "echoes_post",
    "over_promising",
    "blame",
    "defensiveness",
    "hostility",
    "prompt_leak",
    "invented_fact",
}
_PREAMBLE = re.compile(
    r"^\s*(?:\*\*)?(?:reply|draft|response|here(?:'s| is) (?:the|a|my) (?:draft|reply|response)[^:\n]*)"
    r"(?:\*\*)?\s*:\s*",
    re.IGNORECASE,
)
_PLACEHOLDERS = re.compile(r"\[(?:your name|name|community manager|your title|signature)\]", re.I)
_SIGNOFF = re.compile(
    r"\n+(?:best|cheers|regards|warm regards|best regards|kind regards|thanks|thank you|warmly|"
    r"all the best)[,!.]?[ \t]*(?:\n+[^\n]{0,60})?\s*$",
    re.I,
)

Scorer = Callable[..., ToneCard]


@dataclass
class Grounding:
    guidelines: list[Snippet] = field(default_factory=list)
    examples: list[Snippet] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Inputs ------------------------------------------------------------------------------------


def validate_post(post: Post) -> list[str]:
    """Refuse an empty post; return warnings for posts that had to be cut."""
    if not post.text or not post.text.strip():
        raise InputError("The post is empty; there is nothing to reply to. Send the member's text.")
    warnings: list[str] = []
    if len(post.text) > MAX_POST_CHARS:
        warnings.append(
            f"The post is {len(post.text):,} characters; only the first {MAX_POST_CHARS:,} were "
            "used for the draft. Read the rest before approving."
        )
    return warnings


def member_facts(member: Member, today: date | None = None) -> list[str]:
    """The facts a draft may use about the member, as plain sentences. Nothing else is known."""
    facts: list[str] = []
    if member.name:
        facts.append(f"Name: {member.name}")
    if member.handle:
        facts.append(f"Forum handle: @{member.handle}")
    if member.joined_at:
        today = today or date.today()
        days = (today - member.joined_at).days
        if days <= 14:
            tenure = "joined in the last two weeks (a newcomer)"
        elif days < 365:
            tenure = f"member for about {max(1, days // 30)} months"
        else:
            tenure = f"member for about {days // 365} year{'s' if days >= 730 else ''}"
        facts.append(f"Joined on {member.joined_at.isoformat()} ({tenure})")
    if member.post_count is not None:
        facts.append(f"Posts so far: {member.post_count}")
    if member.roles:
        facts.append("Roles: " + ", ".join(member.roles))
    if member.badges:
        facts.append("Badges: " + ", ".join(member.badges))
    if member.language:
        facts.append(f"Preferred language: {member.language}")
    for text in member.staff_interactions[:3]:
        facts.append("Earlier exchange with our team: " + _one_line(text, 200))
    for text in member.recent_posts[:3]:
        facts.append("A recent post of theirs: " + _one_line(text, 200))
    return facts


def greeting_name(member: Member) -> str | None:
    """How to address the member: first name when known, else the handle."""
    if member.name and member.name.strip():
        return member.name.split()[0]
    return member.handle


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Privacy -----------------------------------------------------------------------------------


def mask_post(post: Post) -> tuple[Post, list[MaskedItem]]:
    """Mask personal data in every piece of member text before it reaches a model or a log.

    One `Masker` numbers placeholders across the post, its title, thread and member history,
    so the same address always gets the same placeholder.
    """
    from copilot.privacy import Masker

    masker = Masker([])
    member = post.member.model_copy(
        update={
            "recent_posts": [masker.mask(t) for t in post.member.recent_posts],
            "staff_interactions": [masker.mask(t) for t in post.member.staff_interactions],
        }
    )
    masked_post = post.model_copy(
        update={
            "text": masker.mask(post.text),
            "title": masker.mask(post.title) if post.title else post.title,
            "thread": [m.model_copy(update={"text": masker.mask(m.text)}) for m in post.thread],
            "member": member,
        }
    )
    return masked_post, masker.items


# Grounding ---------------------------------------------------------------------------------


def retrieve_grounding(
    post: Post, moment: Moment, retriever: Retriever | None, options: DraftOptions
) -> Grounding:
    """Guidelines for this moment (the playbook first) and similar approved past replies."""
    grounding = Grounding()
    if retriever is None:
        grounding.warnings.append("No knowledge index: the draft is not grounded in guidelines.")
        return grounding
    query = " ".join(filter(None, [post.title, post.text[:1500]]))
    try:
        if options.k_guidelines:
            playbook = retriever.search(
                query,
                k=2,
                kind=SnippetKind.GUIDELINE,
                moment=moment.type,
                community_id=post.community_id,
            )
            general = retriever.search(
                query,
                k=options.k_guidelines + 2,
                kind=SnippetKind.GUIDELINE,
                community_id=post.community_id,
            )
            grounding.guidelines = _unique([*playbook[:1], *general, *playbook[1:]])[
                : options.k_guidelines
            ]
        if options.k_examples:
            examples = retriever.search(
                query,
                k=options.k_examples,
                kind=SnippetKind.INTERACTION,
                moment=moment.type,
                community_id=post.community_id,
            )
            if not examples:
                examples = retriever.search(
                    query,
                    k=options.k_examples,
                    kind=SnippetKind.INTERACTION,
                    community_id=post.community_id,
                )
            grounding.examples = examples[: options.k_examples]
    except MomentsError as exc:
        grounding.warnings.append(f"Knowledge search failed, draft not grounded: {exc}")
    if options.k_guidelines and not grounding.guidelines and not grounding.warnings:
        grounding.warnings.append(
            "No guideline matched this post; run `moments index` to index the knowledge base."
        )
    return grounding


def _unique(snippets: Sequence[Snippet]) -> list[Snippet]:
    seen: set[str] = set()
    out: list[Snippet] = []
    for s in snippets:
        if s.id not in seen:
            seen.add(s.id)
            out.append(s)
    return out


def citations_for(grounding: Grounding) -> list[Citation]:
    return [
        Citation(
            id=s.id,
            source=s.source,
            title=s.title,
            heading=s.heading,
            kind=s.kind,
            moment=s.moment,
            score=s.score,
            text=s.text,
        )
        for s in [*grounding.guidelines, *grounding.examples]
    ]


# Prompt ------------------------------------------------------------------------------------


def _reply_part(snippet: Snippet) -> Snippet:
    """Of a past interaction, the approved reply only: a small model shown post+reply pairs
    continues the pattern with a new pair instead of replying."""
    _, sep, reply = snippet.text.rpartition(REPLY_LABEL)
    return snippet.model_copy(update={"text": reply.strip()}) if sep else snippet


def _trimmed(snippet: Snippet, limit: int) -> Snippet:
    """Keep prompts short: prompt processing dominates drafting time on a small CPU."""
    if len(snippet.text) <= limit:
        return snippet
    cut = snippet.text[:limit].rsplit(" ", 1)[0]
    return snippet.model_copy(update={"text": cut + " …"})


def build_prompt(
    post: Post, moment: Moment, grounding: Grounding, options: DraftOptions, settings: Settings
) -> PromptRef:
    name = greeting_name(post.member)
    variables: dict[str, Any] = {
        "community_name": settings.community_name,
        "brand_voice": settings.brand_voice,
        "member_name": name,
        "length_hint": LENGTH_HINTS[options.length],
        "warmth_hint": WARMTH_HINTS[options.warmth],
        "formality_hint": FORMALITY_HINTS[options.formality],
        "guidelines": [_trimmed(s, GUIDELINE_CHARS) for s in grounding.guidelines],
        "examples": [_trimmed(_reply_part(s), EXAMPLE_CHARS) for s in grounding.examples],
        "member_facts": member_facts(post.member),
        "thread": [
            m.model_copy(update={"text": _one_line(m.text, THREAD_CHARS)}) for m in post.thread[-4:]
        ],
        "title": post.title,
        "post_text": post.text[:MAX_POST_CHARS],
        "instruction": options.instruction,
    }
    return render_prompt(
        SYSTEM_TEMPLATE,
        f"reply.{moment.type.value}.j2",
        variables,
        prompts_dir=settings.resolved_prompts_dir,
    )


# Output ------------------------------------------------------------------------------------


_FENCE_LINE = re.compile(r"^.*(?:<<<|>>>|BEGIN UNTRUSTED|END UNTRUSTED).*$\n?", re.MULTILINE)
_ECHO_LABELS = re.compile(r"^(?:member post|approved staff reply|reply)\s*:\s*$", re.I | re.M)


def _strip_fences(text: str) -> str:
    """A small model sometimes imitates the prompt's fenced blocks: keep the reply inside."""
    if "<<<" not in text and ">>>" not in text and "UNTRUSTED" not in text:
        return text
    _, sep, after = text.rpartition(REPLY_LABEL)
    if sep:
        text = after
    text = _FENCE_LINE.sub("", text)
    return _ECHO_LABELS.sub("", text).strip()


def clean_reply(text: str, member_name: str | None, *, truncated: bool = False) -> str:
    """Remove model preambles and placeholders; ensure the member is greeted by name.

    `truncated` (the model hit max_tokens) drops the unfinished last sentence or list item."""
    text = _strip_fences(text)
    text = _PREAMBLE.sub("", text.strip(), count=1).strip().strip('"').strip()
    text = _PLACEHOLDERS.sub("", text).rstrip()
    text = _SIGNOFF.sub("", text).rstrip()
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = _drop_unfinished_sentence(text, truncated=truncated)
    text = _drop_meta_commentary(text)
    text = _drop_repeated_paragraph(text)
    if member_name and re.match(rf"{re.escape(member_name.split()[0])}\b[^,\n]{{0,30}},", text):
        text = "Hi " + member_name.split()[0] + "," + text.split(",", 1)[1]
    if member_name and member_name.split()[0].lower() not in text[:160].lower():
        first = member_name.split()[0]
        greeting = re.match(r"^(hi|hello|hey|dear|welcome)\b[^,\n!]*[,!]\s*", text, re.I)
        if greeting:
            text = f"{greeting.group(1).capitalize()} {first}, " + text[greeting.end() :]
        else:
            text = f"Hi {first}, " + (text[:1].lower() + text[1:] if text[:2] != "I " else text)
    return text.strip()


_LIST_ITEM = re.compile(r"^(?:[-*•]|\d{1,2}[.)])(?:\s|$)")
_BARE_NUMBER = re.compile(r"(?:^|\s)\d{1,2}[.)]$")  # "2." of an inline or line-start list
_SENTENCE_END = re.compile(r"[.!?…)\]\"'*]\s|[.!?…)\]\"'*]$|\n\n")


def _drop_unfinished_sentence(text: str, *, truncated: bool = False) -> str:
    """A reply cut by max_tokens ends mid-sentence: drop that fragment. Kept as is: text that
    ends a sentence, a list item, or a text that is all one unfinished sentence."""
    stripped = text.rstrip()
    if not stripped or stripped[-1] in ".!?…)]\"'*:" or stripped.endswith("```"):
        return stripped
    last_line = stripped.rsplit("\n", 1)[-1].lstrip()
    if _LIST_ITEM.match(last_line) and not truncated:
        return stripped
    ends = [
        m.end()
        for m in _SENTENCE_END.finditer(stripped)
        if not _BARE_NUMBER.search(stripped[: m.start() + 1])
    ]
    if not ends or ends[-1] < len(stripped) * 0.5:
        return stripped
    return stripped[: ends[-1]].rstrip()


_META = re.compile(
    r"^\s*\(?\s*(?:\*\*)?(?:note\b|this (?:reply|response|message|draft)\b|the (?:reply|response|"
    r"message|draft) above\b|in this (?:reply|response)\b)",
    re.IGNORECASE,
)


def _drop_meta_commentary(text: str) -> str:
    """Small models sometimes append a paragraph about the reply ("This reply is written as the
    community team would…", "Note: …"): that paragraph and what follows it are not for the
    member. The first paragraph is never dropped."""
    paragraphs = text.split("\n\n")
    for i, paragraph in enumerate(paragraphs[1:], start=1):
        if _META.match(paragraph):
            return "\n\n".join(paragraphs[:i]).rstrip()
    return text


# Flags a sentence can carry on its own: when one regeneration did not clear them, the
# sentence that carries the flag is taken out (and the reviewer told which), rather than
# sending a reviewer a draft that promises a refund or argues with the member.
REPAIRABLE = {"over_promising", "hostility", "defensiveness", "blame"}
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(*])")


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, paragraph by paragraph, list items whole."""
    spans = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        for piece in _SENTENCE_SPLIT.split(para.group(0)):
            index = text.index(piece, start)
            spans.append((index, index + len(piece)))
            start = index + len(piece)
    return spans


def repair_sentences(
    text: str, rescore: Callable[[str], ToneCard], card: ToneCard, max_cuts: int = 2
) -> tuple[str, ToneCard, list[str]]:
    """Take out, one at a time, the sentence whose removal clears the most `REPAIRABLE` flags,
    keeping the greeting and at least two sentences. Returns the text, its card and the
    sentences cut (none when no single sentence carries a flag)."""
    cut: list[str] = []
    for _ in range(max_cuts):
        flagged = {f.code for f in card.flags if f.code in REPAIRABLE}
        spans = _sentences(text)
        if not flagged or len(spans) <= 2:
            break
        best: tuple[int, str, str, ToneCard] | None = None  # flags left, sentence, text, card
        for start, end in spans[1:]:  # never the greeting sentence
            candidate = _join_without(text, start, end)
            candidate_card = rescore(candidate)
            left = len({f.code for f in candidate_card.flags if f.code in REPAIRABLE})
            if left < len(flagged) and (best is None or left < best[0]):
                best = (left, text[start:end], candidate, candidate_card)
        if best is None:
            break
        cut.append(best[1])
        text, card = best[2], best[3]
    return text, card, cut


def _join_without(text: str, start: int, end: int) -> str:
    """`text` without text[start:end], tidying the space or the empty line it leaves."""
    before, after = text[:start].rstrip(" "), text[end:].lstrip(" ")
    space = " " if before and not before.endswith("\n") and after[:1] not in ("\n", "") else ""
    joined = before + space + after
    joined = re.sub(r"\n{3,}", "\n\n", joined)
    return "\n".join(line.rstrip() for line in joined.strip().split("\n"))


def _drop_repeated_paragraph(text: str) -> str:
    """Small models sometimes close by restating an earlier sentence: drop that last paragraph."""
    head, sep, last = text.rpartition("\n\n")
    if not sep or not head.strip():
        return text
    words = re.findall(r"[a-z0-9']+", last.lower())
    earlier = set(re.findall(r"[a-z0-9']+", head.lower()))
    if len(words) >= 5 and sum(w in earlier for w in words) >= 0.9 * len(words):
        return head.rstrip()
    return text


def _hit_limit(pieces: int, options: GenerationOptions) -> bool:
    """The model stopped at max_tokens (each streamed piece is one token for our adapters)."""
    return pieces >= options.max_tokens - 1


def _generation_options(
    options: DraftOptions, settings: Settings, seed: int | None
) -> GenerationOptions:
    return GenerationOptions(
        temperature=settings.llm_temperature,
        max_tokens=min(settings.llm_max_tokens, LENGTH_TOKENS[options.length]),
        seed=seed,
        stop=["<|im_end|>", "<|endoftext|>"],
    )


def _score(
    text: str, post: Post, moment: Moment, system_prompt: str, examples: Sequence[str] = ()
) -> ToneCard:
    from copilot.tone import score_reply

    card = score_reply(text, post=post.text, member=post.member, moment=moment.type)
    echo = _echoes(text, post.text)
    if echo:
        card.flags.append(
            Flag(
                code="echoes_post",
                message="The draft repeats the member's post instead of replying to it.",
                evidence=[echo],
            )
        )
    for example in examples:
        copied = _echoes(text, example)
        if copied:
            card.flags.append(
                Flag(
                    code="copies_example",
                    message="The draft copies a past reply to someone else instead of answering "
                    "this member.",
                    evidence=[copied],
                )
            )
            break
    leak = _leaks_prompt(text, system_prompt.split(REFERENCE_MARKER, 1)[0])
    if leak and not any(f.code == "prompt_leak" for f in card.flags):
        card.flags.append(
            Flag(code="prompt_leak", message="The draft repeats our instructions.", evidence=[leak])
        )
    return card


def _echoes(text: str, post_text: str) -> str | None:
    """Half or more of the draft's 6-word runs copied from the member's post."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    source = " " + " ".join(re.findall(r"[a-z0-9']+", post_text.lower())) + " "
    runs = [" ".join(words[i : i + 6]) for i in range(max(0, len(words) - 5))]
    if len(runs) < 4:
        return None
    copied = [r for r in runs if f" {r} " in source]
    if len(copied) * 2 >= len(runs):
        return copied[0]
    return None


def _leaks_prompt(text: str, system_prompt: str) -> str | None:
    """A sentence of 8+ words copied from the system prompt, or the untrusted-fence markers."""
    if "UNTRUSTED" in text or "<<<" in text:
        return "fence markers"
    words = re.findall(r"[a-z']+", system_prompt.lower())
    reply = " ".join(re.findall(r"[a-z']+", text.lower()))
    for i in range(0, max(0, len(words) - 8)):
        shingle = " ".join(words[i : i + 8])
        if shingle in reply:
            return shingle
    return None


def _rank(card: ToneCard) -> tuple[bool, int, float]:
    """Order drafts for the reviewer: lower is better."""
    echoes = any(f.code in ("echoes_post", "copies_example") for f in card.flags)
    return (echoes, len(_problems(card)), -card.overall)


def _problems(card: ToneCard) -> list[str]:
    out = []
    for flag in card.flags:
        if flag.code in REVISABLE:
            evidence = "; ".join(f'"{e}"' for e in flag.evidence[:3])
            out.append(f"{flag.message}{' (' + evidence + ')' if evidence else ''}")
    return out


# The flow ----------------------------------------------------------------------------------


@dataclass
class _Prepared:
    moment: Moment
    masked_post: Post
    masked: list[MaskedItem]
    grounding: Grounding
    prompt: PromptRef
    warnings: list[str]
    timings: dict[str, float]


def _prepare(
    post: Post, retriever: Retriever | None, options: DraftOptions, settings: Settings
) -> _Prepared:
    from copilot.moments import classify_post

    timings: dict[str, float] = {}
    warnings = validate_post(post)
    t = time.perf_counter()
    moment = classify_post(post, embedder=getattr(retriever, "embedder", None))  # index's
    timings["classify"] = time.perf_counter() - t
    t = time.perf_counter()
    masked_post, masked = mask_post(post)
    timings["mask"] = time.perf_counter() - t
    t = time.perf_counter()
    grounding = retrieve_grounding(masked_post, moment, retriever, options)
    timings["retrieve"] = time.perf_counter() - t
    warnings.extend(grounding.warnings)
    t = time.perf_counter()
    prompt = build_prompt(masked_post, moment, grounding, options, settings)
    timings["render"] = time.perf_counter() - t
    return _Prepared(moment, masked_post, masked, grounding, prompt, warnings, timings)


def _finish(
    prep: _Prepared,
    post: Post,
    model: ChatModel,
    options: DraftOptions,
    settings: Settings,
    first_text: str,
    gen_seconds: float,
    first_pieces: int = 0,
) -> Draft:
    from copilot.privacy import unmask

    name = greeting_name(post.member)
    messages = list(prep.prompt.messages)
    system_prompt = messages[0].content
    gen = _generation_options(options, settings, seed=None)
    timings = dict(prep.timings)
    timings["generate"] = gen_seconds

    text = clean_reply(first_text, name, truncated=_hit_limit(first_pieces, gen))
    t = time.perf_counter()
    examples = [_reply_part(e).text for e in prep.grounding.examples]
    card = _score(text, prep.masked_post, prep.moment, system_prompt, examples)
    timings["score"] = time.perf_counter() - t
    attempts = 1
    warnings = list(prep.warnings)

    problems = _problems(card)
    grounding = prep.grounding
    if problems:
        revise = render_template(
            REVISE_TEMPLATE, {"problems": problems}, prompts_dir=settings.resolved_prompts_dir
        )
        if any(f.code == "copies_example" for f in card.flags):
            # A small model that copied an example copies it again while the example (or its
            # own copy) is in front of it: the retry is a fresh draft from the same prompt
            # without the examples.
            grounding = Grounding(guidelines=prep.grounding.guidelines)
            messages = list(
                build_prompt(prep.masked_post, prep.moment, grounding, options, settings).messages
            )
        else:
            messages = [
                *messages,
                ChatMessage(role="assistant", content=text),
                ChatMessage(role="user", content=revise),
            ]
        t = time.perf_counter()
        retry = complete(model, messages, gen)
        timings["regenerate"] = time.perf_counter() - t
        attempts = 2
        retry_text = clean_reply(retry.text, name, truncated=_hit_limit(retry.pieces, gen))
        retry_card = _score(retry_text, prep.masked_post, prep.moment, system_prompt, examples)
        # take the retry when it is better: a draft that only repeats the post is never better;
        # then fewer problems; then a better overall tone
        if retry_text and _rank(retry_card) < _rank(card):
            text, card = retry_text, retry_card
        else:
            grounding = prep.grounding
        text, card, cut = repair_sentences(
            text,
            lambda t: _score(t, prep.masked_post, prep.moment, system_prompt, examples),
            card,
        )
        for sentence in cut:
            warnings.append(
                "Removed a sentence that was still flagged after one regeneration: "
                f'"{unmask(sentence, prep.masked)}"'
            )
        if _problems(card):
            warnings.append(
                "Still flagged after one regeneration: " + "; ".join(f.code for f in card.flags)
            )

    variants: list[str] = []
    for i in range(1, options.variants):
        t = time.perf_counter()
        alt = complete(
            model, list(prep.prompt.messages), _generation_options(options, settings, seed=1000 + i)
        )
        timings[f"variant_{i}"] = time.perf_counter() - t
        alt_text = clean_reply(alt.text, name, truncated=_hit_limit(alt.pieces, gen))
        variants.append(unmask(alt_text, prep.masked))

    prompt = PromptRef(
        name=prep.prompt.name + ("+" + REVISE_TEMPLATE if attempts > 1 else ""),
        sha=prep.prompt.sha,
        messages=messages,
    )
    return Draft(
        moment=prep.moment,
        text=unmask(text, prep.masked),
        variants=variants,
        citations=citations_for(grounding),
        tone=card,
        warnings=warnings,
        prompt=prompt,
        model=ModelInfo(provider=model.provider, name=model.name, options=gen),
        timings={k: round(v, 4) for k, v in timings.items()},
        masked=prep.masked,
        attempts=attempts,
    )


def draft_reply(
    post: Post,
    *,
    model: ChatModel,
    retriever: Retriever | None,
    options: DraftOptions | None = None,
    settings: Settings | None = None,
) -> Draft:
    """Draft a reply to `post` for human review. Raises `InputError` for an empty post."""
    options = options or DraftOptions()
    settings = settings or get_settings()
    prep = _prepare(post, retriever, options, settings)
    t = time.perf_counter()
    first = complete(model, prep.prompt.messages, _generation_options(options, settings, seed=None))
    seconds = time.perf_counter() - t
    return _finish(prep, post, model, options, settings, first.text, seconds, first.pieces)


def stream_reply(
    post: Post,
    *,
    model: ChatModel,
    retriever: Retriever | None,
    options: DraftOptions | None = None,
    settings: Settings | None = None,
) -> Iterator[str | Draft]:
    """Yield the first attempt's text as it is generated, then the final `Draft`.

    The final draft may differ from the streamed text when a guardrail forced a regeneration;
    its `attempts` says so.
    """
    options = options or DraftOptions()
    settings = settings or get_settings()
    prep = _prepare(post, retriever, options, settings)
    t = time.perf_counter()
    parts: list[str] = []
    for piece in model.stream(
        prep.prompt.messages, _generation_options(options, settings, seed=None)
    ):
        parts.append(piece)
        yield piece
    seconds = time.perf_counter() - t
    yield _finish(prep, post, model, options, settings, "".join(parts), seconds, len(parts))


__all__ = ["draft_reply", "stream_reply", "member_facts", "clean_reply", "mask_post", "MomentType"]
