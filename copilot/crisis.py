"""Crisis statements: incident facts in, one statement per channel out, every one fact-locked.

Facts are never left to the model. Each channel's statement is a Jinja2 skeleton
(`prompts/crisis.skeleton.<channel>.j2`) that places the facts verbatim; the model writes only
the framing: an opening (acknowledgement, apology when members were harmed) and a closing
(empathy, thanks). Per channel:

1. render the framing prompt (`crisis.system.j2` + `crisis.framing.j2`; facts fenced as data),
   generate (temperature 0.3, few tokens), parse `OPENING:` / `CLOSING:`;
2. assemble the statement (banner and social are *built to fit*: the best variant within the
   limit, dropping closing, contact, workaround, affected, then the model's opening, in that
   order), and run `check_fact_lock`;
3. if the framing caused violations, regenerate once with the problems named
   (`crisis.retry.j2`); if that still violates, use the deterministic `fallback_framing`;
4. whatever violations remain are kept on the `Statement`, never dropped.

`Statement.attempts` counts model calls (1 or 2); `ChannelDraft.source` says whether the final
framing came from the first answer, the retry or the fallback.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from pydantic import ValidationError

from copilot.errors import InputError
from copilot.factlock import (
    CHANNEL_LIMITS,
    STAGES,
    Stage,
    check_fact_lock,
    describe,
)
from copilot.llm.base import ChatModel, complete
from copilot.prompts import prompt_sha, render_prompt
from copilot.types import (
    CHANNELS,
    Channel,
    GenerationOptions,
    IncidentFacts,
    ModelInfo,
    Statement,
    StatementSet,
    Violation,
)

__all__ = [
    "CHANNELS",
    "STAGES",
    "ChannelDraft",
    "Framing",
    "check_fact_lock",
    "draft_channel",
    "draft_statements",
    "fallback_framing",
    "load_facts",
    "load_facts_file",
    "parse_framing",
    "validate_facts",
]

FRAMING_OPTIONS = GenerationOptions(temperature=0.3, max_tokens=96)
FIELD_LIMITS: dict[str, int] = {
    "title": 80,
    "started_at": 40,
    "next_update_at": 40,
    "resolved_at": 40,
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "initial": ("title", "what_happened", "started_at", "affected", "next_update_at"),
    "update": ("title", "what_happened", "started_at", "affected", "next_update_at"),
    "resolved": ("title", "what_happened", "started_at", "affected", "resolved_at"),
}
MINIMAL_EXAMPLE = """\
title: Lumen Cloud sync outage
what_happened: Scenes and remote access in the Lumen app are not loading.
started_at: 14:05 UTC on 3 March
affected: Members who use Lumen Cloud sync
next_update_at: 15:00 UTC"""

# Per channel: (label for the prompt, opening chars, closing chars or 0 for none).
_CHANNEL_PROMPTS: dict[str, tuple[str, int, int]] = {
    "forum": ("a forum announcement", 200, 160),
    "banner": ("a one-line status banner", 60, 0),
    "email": ("an email to affected members", 200, 160),
    "social": ("a short social media post", 90, 70),
}
_STAGE_LABELS = {
    "initial": "first announcement; the incident is ongoing",
    "update": "progress update; the incident is still ongoing",
    "resolved": "resolution notice; the incident is over",
}

# Deterministic framing: documented phrases that pass the fact-lock by construction.
FALLBACK_OPENINGS: dict[str, dict[bool, str]] = {
    "initial": {
        True: "We're sorry for the disruption this is causing, and we know how frustrating it is.",
        False: "We want to let you know about an issue our team is working on.",
    },
    "update": {
        True: "We're sorry this is still affecting you. Here is where things stand.",
        False: "Here is where things stand with this issue.",
    },
    "resolved": {
        True: "This issue is now resolved. We're sorry for the disruption it caused.",
        False: "This issue is now resolved.",
    },
}
FALLBACK_SHORT_OPENINGS: dict[bool, str] = {True: "Sorry for the disruption.", False: ""}
FALLBACK_CLOSINGS: dict[str, str] = {
    "initial": "Thank you for your patience while we work on this.",
    "update": "Thank you for your patience while we work on this.",
    "resolved": "Thank you for your patience and for sticking with us.",
}
DEFAULT_SIGNATURE = "The community team"


@dataclass(frozen=True)
class Framing:
    """The model-written parts of a statement."""

    opening: str
    closing: str = ""


@dataclass
class ChannelDraft:
    """One channel's statement plus how it was made (for benchmarks and the CLI)."""

    statement: Statement
    source: Literal["model", "retry", "fallback"]
    seconds: float = 0.0
    replies: list[str] = field(default_factory=list)  # raw model answers, in order


# Facts ---------------------------------------------------------------------------------------


def _missing_message(missing: Sequence[str], stage: str, extra: Sequence[str] = ()) -> str:
    example = MINIMAL_EXAMPLE
    if stage == "resolved":
        example = example.replace("next_update_at: 15:00 UTC", "resolved_at: 16:40 UTC")
    parts = []
    if missing:
        parts.append(
            f"incident facts are missing {', '.join(missing)} (needed for stage '{stage}')"
        )
    parts.extend(extra)
    return "; ".join(parts) + ". A minimal valid facts file:\n" + example


def load_facts(data: Mapping[str, Any], *, stage: str = "initial") -> IncidentFacts:
    """Validate raw facts (a YAML mapping) for `stage`; `InputError` names every problem."""
    if stage not in STAGES:
        raise InputError(f"unknown stage '{stage}'; use one of {', '.join(STAGES)}")
    if not isinstance(data, Mapping):
        raise InputError(
            _missing_message(list(REQUIRED[stage]), stage, ["the facts are not a mapping"])
        )
    missing = [
        name
        for name in REQUIRED[stage]
        if data.get(name) is None or (isinstance(data.get(name), str) and not data[name].strip())
    ]
    values = {k: v for k, v in data.items() if v is not None}
    try:
        facts = IncidentFacts.model_validate(values)
    except ValidationError as exc:
        problems: list[str] = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error.get("loc", ()))
            if error.get("type") == "missing":
                if name not in missing and name.split(".")[0] in REQUIRED[stage]:
                    missing.append(name)
                continue
            if error.get("type") == "extra_forbidden":
                problems.append(f"unknown field '{name}'")
            else:
                problems.append(f"field '{name}': {error.get('msg', 'invalid value')}")
        raise InputError(_missing_message(missing, stage, problems)) from None
    if missing:
        raise InputError(_missing_message(missing, stage))
    validate_facts(facts, stage)
    return facts


def validate_facts(facts: IncidentFacts, stage: str) -> None:
    """Stage requirements and length limits that keep the banner and social post buildable."""
    missing = [name for name in REQUIRED.get(stage, ()) if not getattr(facts, name, None)]
    too_long = [
        f"{name} is {len(value)} characters (at most {limit}, so it fits the banner)"
        for name, limit in FIELD_LIMITS.items()
        if (value := getattr(facts, name)) and len(value) > limit
    ]
    if missing or too_long:
        raise InputError(_missing_message(missing, stage, too_long))


def load_facts_file(path: Path, *, stage: str = "initial") -> IncidentFacts:
    """Read a YAML facts file; unreadable files and bad YAML become one readable `InputError`."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read facts file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"facts file {path} is not UTF-8 text") from None
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"facts file {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError(
            f"facts file {path} must be a YAML mapping of fields. "
            + _missing_message([], stage).split(". ", 1)[-1]
        )
    return load_facts(data, stage=stage)


# Framing -------------------------------------------------------------------------------------

_LABEL = re.compile(r"^\W*(opening|closing)\W*\s*[:\-–]\s*(.*)$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _clean(text: str) -> str:
    text = re.sub(r"[*_`#]+", "", text)
    text = " ".join(text.split()).strip().strip("\"'“”‘’").strip()
    return text


def parse_framing(reply: str) -> Framing:
    """`OPENING:` / `CLOSING:` lines; without labels, the first and last sentences."""
    opening: list[str] = []
    closing: list[str] = []
    current: list[str] | None = None
    for line in reply.splitlines():
        match = _LABEL.match(line)
        if match:
            current = opening if match.group(1).lower() == "opening" else closing
            if match.group(2).strip():
                current.append(match.group(2))
        elif current is not None and line.strip():
            current.append(line)
    if opening or closing:
        return Framing(_clean(" ".join(opening)), _clean(" ".join(closing)))
    sentences = [s for s in _SENTENCE_END.split(_clean(reply)) if s]
    if not sentences:
        return Framing("")
    if len(sentences) == 1:
        return Framing(sentences[0])
    return Framing(sentences[0], sentences[-1])


def _first_sentence(text: str) -> str:
    parts = _SENTENCE_END.split(text.strip(), maxsplit=1)
    return parts[0] if parts else ""


def _limit_sentences(text: str, count: int) -> str:
    return " ".join(_SENTENCE_END.split(text.strip())[:count])


def fallback_framing(facts: IncidentFacts, channel: Channel, stage: Stage) -> Framing:
    """The documented deterministic framing (passes the fact-lock by construction)."""
    harmed = facts.members_harmed
    if channel in ("banner", "social"):
        short = FALLBACK_SHORT_OPENINGS[harmed]
        if stage == "resolved" and not harmed:
            short = "Thanks for your patience."
        return Framing(short, "Thanks for your patience." if channel == "social" else "")
    return Framing(FALLBACK_OPENINGS[stage][harmed], FALLBACK_CLOSINGS[stage])


# Assembly ------------------------------------------------------------------------------------


def _period(text: object) -> str:
    value = str(text).strip()
    return value if not value or value[-1] in ".!?" else value + "."


@lru_cache(maxsize=4)
def _skeleton_env(directory: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["period"] = _period
    return env


def _prompts_dir(prompts_dir: Path | None) -> Path:
    if prompts_dir is not None:
        return prompts_dir
    from copilot.settings import get_settings

    return get_settings().resolved_prompts_dir


def _tidy(text: str, channel: Channel) -> str:
    if channel in ("banner", "social"):
        text = " ".join(text.split())
        return re.sub(r"\s+([.,!?])", r"\1", text).strip()
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _render(
    facts: IncidentFacts,
    channel: Channel,
    stage: Stage,
    framing: Framing,
    show: Mapping[str, bool],
    directory: Path,
    signature: str,
) -> str:
    template = _skeleton_env(str(directory)).get_template(f"crisis.skeleton.{channel}.j2")
    text = template.render(
        f=facts,
        stage=stage,
        opening=framing.opening,
        closing=framing.closing,
        show=dict(show),
        signature=signature,
    )
    return _tidy(text, channel)


_OPTIONAL = ("closing", "contact", "workaround", "started", "affected")  # dropped in this order


def assemble(
    facts: IncidentFacts,
    channel: Channel,
    stage: Stage,
    framing: Framing,
    *,
    prompts_dir: Path | None = None,
    signature: str = DEFAULT_SIGNATURE,
) -> str:
    """The statement for `channel`: skeleton + facts + framing, built to fit the channel limit.

    Forum and email take the framing as is. Banner and social pick the richest variant that
    fits: the model's opening (whole, then its first sentence) before optional facts, optional
    parts dropped in the order closing, contact, workaround, start time, affected; the
    deterministic short opening is the last resort. Facts are never cut.
    """
    directory = _prompts_dir(prompts_dir)
    if channel in ("forum", "email"):
        show = dict.fromkeys(_OPTIONAL, True)
        return _render(facts, channel, stage, framing, show, directory, signature)
    limit = CHANNEL_LIMITS[channel]
    fallback = fallback_framing(facts, channel, stage)
    tiny = "Sorry." if facts.members_harmed else ""
    openings = [framing.opening, _first_sentence(framing.opening), fallback.opening, tiny]
    closing = _first_sentence(framing.closing) if channel == "social" else ""
    candidates: list[tuple[int, str]] = []
    for rank, opening in enumerate(dict.fromkeys(openings)):
        for keep in itertools.product((True, False), repeat=len(_OPTIONAL)):
            show = dict(zip(_OPTIONAL, keep, strict=True))
            if channel == "banner":  # the banner is one or two sentences: no closing/contact
                if show["closing"] or show["contact"] or show["workaround"] or show["affected"]:
                    continue
            if show["closing"] and not closing:
                continue
            text = _render(
                facts, channel, stage, Framing(opening, closing), show, directory, signature
            )
            if len(text) <= limit:
                # Weights follow the drop order: later in _OPTIONAL = dropped later = worth more.
                score = sum(2**i for i, kept in enumerate(keep) if kept)
                candidates.append((-rank * 100 + score, text))
        if candidates:
            break
    if candidates:
        return max(candidates, key=lambda c: c[0])[1]
    minimal = dict.fromkeys(_OPTIONAL, False)
    return _render(facts, channel, stage, fallback, minimal, directory, signature)


# Generation ----------------------------------------------------------------------------------


def _framing_context(facts: IncidentFacts, *, local: bool) -> str:
    """What the model sees: the headline facts only (personal data masked for remote models)."""
    context = "\n".join(
        [
            f"Title: {facts.title}",
            f"What happened: {facts.what_happened}",
            f"Who is affected: {facts.affected}",
        ]
    )
    if local:
        return context
    from copilot.privacy import mask_pii

    return mask_pii(context)[0]


def _prompt_variables(
    facts: IncidentFacts,
    channel: Channel,
    stage: Stage,
    community_name: str,
    brand_voice: str,
    problems: Sequence[str] = (),
    *,
    local: bool = True,
) -> dict[str, Any]:
    label, opening_chars, closing_chars = _CHANNEL_PROMPTS[channel]
    return {
        "community_name": community_name,
        "brand_voice": brand_voice,
        "harmed": facts.members_harmed,
        "stage": stage,
        "stage_label": _STAGE_LABELS[stage],
        "channel_label": label,
        "opening_chars": opening_chars,
        "closing_chars": closing_chars,
        "want_closing": closing_chars > 0,
        "context": _framing_context(facts, local=local),
        "problems": list(problems),
    }


def _framing_violations(
    violations: Sequence[Violation], baseline: Sequence[Violation]
) -> list[Violation]:
    """Violations the framing caused: those the fallback-framed statement does not have."""

    def key(v: Violation) -> tuple[str, str]:
        return (v.code, "" if v.code == "too_long" else v.span.lower())

    known = {key(v) for v in baseline}
    return [v for v in violations if key(v) not in known]


def draft_channel(
    facts: IncidentFacts,
    channel: Channel,
    *,
    model: ChatModel,
    stage: Stage = "initial",
    prompts_dir: Path | None = None,
    community_name: str | None = None,
    brand_voice: str | None = None,
    signature: str = DEFAULT_SIGNATURE,
    options: GenerationOptions = FRAMING_OPTIONS,
) -> ChannelDraft:
    """One channel's statement: generate framing, assemble, check, retry once, fall back."""
    started = time.perf_counter()
    directory = _prompts_dir(prompts_dir)
    if community_name is None or brand_voice is None:
        from copilot.settings import get_settings

        settings = get_settings()
        community_name = community_name or settings.community_name
        brand_voice = brand_voice or settings.brand_voice

    def build(framing: Framing) -> tuple[str, list[Violation]]:
        text = assemble(facts, channel, stage, framing, prompts_dir=directory, signature=signature)
        return text, check_fact_lock(text, facts, channel, stage=stage)

    _, baseline = build(fallback_framing(facts, channel, stage))
    variables = _prompt_variables(
        facts, channel, stage, community_name, brand_voice, local=model.local
    )
    prompt = render_prompt(
        "crisis.system.j2", "crisis.framing.j2", variables, prompts_dir=directory
    )
    replies: list[str] = []
    info: ModelInfo | None = None
    source: Literal["model", "retry", "fallback"] = "model"
    text, violations = "", list[Violation]()
    for attempt in (1, 2):
        completion = complete(model, prompt.messages, options)
        info = completion.model
        replies.append(completion.text)
        framing = parse_framing(completion.text)
        framing = Framing(
            _limit_sentences(framing.opening, 2), _limit_sentences(framing.closing, 2)
        )
        text, violations = build(framing)
        if not framing.opening:
            violations = [
                Violation(code="empty_framing", message="the model wrote no opening", span=""),
                *violations,
            ]
        problems = _framing_violations(violations, baseline)
        if not problems:
            source = "model" if attempt == 1 else "retry"
            break
        if attempt == 1:
            retry_vars = _prompt_variables(
                facts,
                channel,
                stage,
                community_name,
                brand_voice,
                describe(problems),
                local=model.local,
            )
            prompt = render_prompt(
                "crisis.system.j2", "crisis.retry.j2", retry_vars, prompts_dir=directory
            )
    else:
        source = "fallback"
        text, violations = build(fallback_framing(facts, channel, stage))
    statement = Statement(
        channel=channel,
        stage=stage,
        text=text,
        violations=violations,
        prompt=prompt,
        model=info,
        attempts=len(replies),
    )
    return ChannelDraft(statement, source, time.perf_counter() - started, replies)


def draft_statements(
    facts: IncidentFacts,
    *,
    model: ChatModel,
    stage: Stage = "initial",
    channels: Sequence[Channel] = CHANNELS,
    prompts_dir: Path | None = None,
) -> StatementSet:
    """Statements for every channel at `stage`; each carries its remaining violations."""
    if stage not in STAGES:
        raise InputError(f"unknown stage '{stage}'; use one of {', '.join(STAGES)}")
    validate_facts(facts, stage)
    statements: dict[str, Statement] = {}
    for channel in channels:
        draft = draft_channel(facts, channel, model=model, stage=stage, prompts_dir=prompts_dir)
        statements[channel] = draft.statement
    return StatementSet(stage=stage, statements=statements)


def skeleton_sha(channel: Channel, prompts_dir: Path | None = None) -> str:
    """Version of a channel's skeleton template (sha256 of its source and the partials)."""
    return prompt_sha([f"crisis.skeleton.{channel}.j2"], _prompts_dir(prompts_dir))
