"""Crisis statements with the bundled model: how often do they pass the fact-lock, and at what cost?

    .venv/bin/python benchmarks/crisis_factlock.py [--quick] [--budget SECONDS] [--no-raw]

For every incident file in knowledge/incidents/ (plus a few generated variants), every stage and
every channel, `draft_channel` runs with the real bundled model (default settings, GGUF from
$MOMENTS_TEST_CACHE or <repo>/.moments-test-cache). Reported:

- share of statements with zero violations (goal >= 90%), attempts distribution, retry and
  fallback rates, seconds per statement;
- the raw engine underneath, for comparison: the same model asked to write the whole statement
  itself from the same facts (`crisis.raw.*.j2`), checked by the same fact-lock: its zero-violation
  share, how often it broke the channel limit, and seconds per statement. Ratios are printed.

Work is interleaved (incident x stage x channel round robin) and stops at --budget seconds, so the
figures always cover every stage and channel; --quick uses one incident and a 240 s budget.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import yaml  # noqa: E402

from copilot.crisis import (  # noqa: E402
    _CHANNEL_PROMPTS,
    _STAGE_LABELS,
    ChannelDraft,
    draft_channel,
    load_facts_file,
)
from copilot.factlock import CHANNEL_LIMITS, STAGES, Stage, check_fact_lock  # noqa: E402
from copilot.llm.base import ChatModel, complete  # noqa: E402
from copilot.prompts import render_prompt  # noqa: E402
from copilot.settings import REPO_ROOT, load_settings  # noqa: E402
from copilot.types import CHANNELS, Channel, GenerationOptions, IncidentFacts  # noqa: E402

RAW_OPTIONS = GenerationOptions(temperature=0.3, max_tokens=400)


def incidents(quick: bool) -> list[tuple[str, IncidentFacts]]:
    files = sorted((REPO_ROOT / "knowledge" / "incidents").glob("*.yaml"))
    found = [(path.stem, load_facts_file(path, stage="update")) for path in files]
    if quick:
        return found[:1]
    base = found[0][1]
    variants = [
        ("variant-not-harmed", base.model_copy(update={"members_harmed": False})),
        (
            "variant-sparse",
            base.model_copy(
                update={"known": [], "unknown": [], "workaround": None, "contact": None}
            ),
        ),
    ]
    return found + variants


def build_model() -> ChatModel:
    from copilot.llm.factory import build_chat_model

    cache = Path(os.environ.get("MOMENTS_TEST_CACHE") or REPO_ROOT / ".moments-test-cache")
    settings = load_settings(data_dir=cache, llm_provider="local")
    return build_chat_model(settings, progress=True)


def raw_statement(
    model: ChatModel, facts: IncidentFacts, channel: Channel, stage: Stage
) -> tuple[str, float]:
    """The raw engine: the model writes the whole statement from the facts."""
    label = _CHANNEL_PROMPTS[channel][0]
    limit = CHANNEL_LIMITS[channel] if channel in ("banner", "social") else 0
    data = facts.model_dump(exclude_none=True, exclude_defaults=True)
    if stage != "resolved":
        data.pop("resolved_at", None)
        data.pop("root_cause", None)
    prompt = render_prompt(
        "crisis.raw.system.j2",
        "crisis.raw.j2",
        {
            "community_name": "Lumen Makers",
            "brand_voice": load_settings().brand_voice,
            "channel_label": label,
            "stage_label": _STAGE_LABELS[stage],
            "limit": limit,
            "facts_yaml": yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        },
    )
    started = time.perf_counter()
    text = complete(model, prompt.messages, RAW_OPTIONS).text
    return text, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one incident, 240 s budget")
    parser.add_argument("--budget", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw-engine comparison")
    args = parser.parse_args()
    budget = args.budget or (240.0 if args.quick else 600.0)

    model = build_model()
    cases = list(itertools.product(incidents(args.quick), STAGES, CHANNELS))
    # round robin over stage x channel, so an early stop still covers every combination
    by_combo: dict[tuple[str, str], list[int]] = {}
    for i, (_, stage, channel) in enumerate(cases):
        by_combo.setdefault((stage, channel), []).append(i)
    order = [
        i for group in itertools.zip_longest(*by_combo.values()) for i in group if i is not None
    ]

    print(
        f"model: {model.provider}/{model.name}; {len(cases)} statements planned; budget {budget:.0f}s"
    )
    started = time.perf_counter()
    drafts: list[tuple[str, str, str, ChannelDraft]] = []
    raws: list[tuple[str, str, str, str, float, int]] = []
    for index in order:
        if time.perf_counter() - started > budget:
            print(f"budget reached after {len(drafts)} statements")
            break
        (name, facts), stage, channel = cases[index]
        draft = draft_channel(facts, channel, model=model, stage=stage)
        drafts.append((name, stage, channel, draft))
        codes = ",".join(v.code for v in draft.statement.violations) or "-"
        print(
            f"{name:28} {stage:8} {channel:6} {draft.source:8} attempts={draft.statement.attempts} "
            f"{len(draft.statement.text):4}ch {draft.seconds:5.1f}s violations={codes}",
            flush=True,
        )
        if not args.no_raw and channel in ("banner", "social"):
            text, seconds = raw_statement(model, facts, channel, stage)
            found = check_fact_lock(text, facts, channel, stage=stage)
            raws.append((name, stage, channel, text, seconds, len(found)))
            print(
                f"{'  raw engine':28} {stage:8} {channel:6} {'raw':8} {len(text):4}ch "
                f"{seconds:5.1f}s violations={','.join(v.code for v in found) or '-'}",
                flush=True,
            )
    report(drafts, raws)


def report(
    drafts: list[tuple[str, str, str, ChannelDraft]],
    raws: list[tuple[str, str, str, str, float, int]],
) -> None:
    if not drafts:
        print("no statements drafted")
        return
    n = len(drafts)
    clean = sum(1 for *_, d in drafts if not d.statement.violations)
    attempts = Counter(d.statement.attempts for *_, d in drafts)
    sources = Counter(d.source for *_, d in drafts)
    seconds = [d.seconds for *_, d in drafts]
    over = sum(1 for _, _, ch, d in drafts if len(d.statement.text) > CHANNEL_LIMITS[ch])
    codes = Counter(v.code for *_, d in drafts for v in d.statement.violations)
    print()
    print(f"statements: {n}")
    print(f"zero violations: {clean}/{n} = {clean / n:.0%}  (goal >= 90%)")
    print(f"over the channel limit: {over}/{n}")
    print("attempts (model calls): " + ", ".join(f"{k}: {v}" for k, v in sorted(attempts.items())))
    print(
        "framing source: "
        + ", ".join(f"{k}: {v} ({v / n:.0%})" for k, v in sorted(sources.items()))
    )
    print(f"fallback rate: {sources.get('fallback', 0) / n:.0%}")
    print(f"remaining violation codes: {dict(codes) or 'none'}")
    print(
        f"seconds per statement: mean {statistics.mean(seconds):.1f}, "
        f"median {statistics.median(seconds):.1f}, max {max(seconds):.1f}"
    )
    by_stage = Counter(stage for _, stage, _, d in drafts if not d.statement.violations)
    total_stage = Counter(stage for _, stage, _, _ in drafts)
    print(
        "zero violations by stage: "
        + ", ".join(f"{s}: {by_stage[s]}/{total_stage[s]}" for s in STAGES if total_stage[s])
    )
    if raws:
        raw_clean = sum(1 for *_, v in raws if v == 0)
        raw_over = sum(1 for _, _, ch, text, _, _ in raws if len(text) > CHANNEL_LIMITS[ch])
        raw_seconds = statistics.mean(s for *_, s, _ in raws)
        ours = [d for _, _, ch, d in drafts if ch in ("banner", "social")]
        ours_clean = sum(1 for d in ours if not d.statement.violations)
        ours_seconds = statistics.mean(d.seconds for d in ours) if ours else 0.0
        print()
        print(f"raw engine (banner + social, model writes everything): {len(raws)} statements")
        print(f"  zero violations: {raw_clean}/{len(raws)} = {raw_clean / len(raws):.0%}")
        print(f"  over the channel limit: {raw_over}/{len(raws)}")
        print(f"  seconds per statement: mean {raw_seconds:.1f}")
        if ours:
            ours_share = ours_clean / len(ours)
            raw_share = raw_clean / len(raws)
            ratio = f"{ours_share / raw_share:.2f}x" if raw_share else "inf (raw had none clean)"
            print(
                f"  fact-locked banner+social: zero violations {ours_clean}/{len(ours)} = "
                f"{ours_share:.0%}; ratio to raw {ratio}; time ratio "
                f"{ours_seconds / raw_seconds:.2f}x"
            )


if __name__ == "__main__":
    main()
