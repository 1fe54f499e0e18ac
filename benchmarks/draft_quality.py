"""Draft quality with the bundled model, per moment, on the eval suite.

    .venv/bin/python benchmarks/draft_quality.py [--quick] [--suite PATH|NAME] [--from-run RUN.json]
                                                 [--per-moment N] [--no-crisis] [--model NAME]

Drafts every case of the suite (default: evals/suites/default.yaml, 64 cases, roughly 30-40 min
on 2 cores; --quick: smoke.yaml, 8 cases, one per moment) with the real bundled model
(GGUF from $MOMENTS_TEST_CACHE or <repo>/.moments-test-cache) and the real embedded index of
the default knowledge base, then prints per moment the share of drafts that
- address the member by name when a name or handle is known,
- cite at least one guideline (a citation of kind `guideline`),
- carry no guardrail flag,
- pass the case's assertions,
with the goal >= 90% on the first three lines, and overall. `--from-run` reads a run written by
`moments eval run` instead of drafting. Then, when copilot/crisis.py offers `draft_statements`,
the share of crisis statements (every channel, initial stage) with zero fact-lock violations for
each incident in knowledge/incidents/*.yaml (--quick: the first incident only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from copilot.settings import REPO_ROOT, Settings, load_settings  # noqa: E402
from copilot.types import MomentType  # noqa: E402

GOAL = 0.9


def bench_settings(model: str | None) -> Settings:
    """Settings whose data dir is a scratch folder of the test cache, on the bundled GGUF."""
    from copilot.models import ensure_bundled_model

    cache = Path(os.environ.get("MOMENTS_TEST_CACHE") or REPO_ROOT / ".moments-test-cache")
    base = load_settings(data_dir=cache, llm_provider="local")
    if model and (model.endswith(".gguf") or Path(model).is_file()):
        path = Path(model)
    else:
        path = ensure_bundled_model(base, progress=True, name=model or base.llm_model)
    return load_settings(data_dir=cache / "bench-draft-quality", llm_model_path=path)


def draft_run(suite_name: str, settings: Settings, per_moment: int | None = None) -> dict[str, Any]:
    from copilot.llm.factory import build_chat_model
    from evals.runner import open_retriever, run_suite
    from evals.suite import load_suite

    suite = load_suite(suite_name)
    if per_moment:
        # the first N cases of each moment, in suite order: a balanced subset for a bounded run
        seen: dict[str, int] = defaultdict(int)
        ids = []
        for case in suite.cases:
            seen[case.moment.value] += 1
            if seen[case.moment.value] <= per_moment:
                ids.append(case.id)
        suite = suite.select(ids)
    model = build_chat_model(settings, progress=False)
    retriever = open_retriever(settings, echo=print)
    total = len(suite.cases)
    done = [0]

    def progress(result: dict[str, Any]) -> None:
        done[0] += 1
        state = "pass" if result["passed"] else "FAIL"
        print(
            f"  [{done[0]}/{total}] {state} {result['id']} ({result['seconds']:.1f} s)", flush=True
        )

    return run_suite(
        suite,
        model_for=lambda case: model,
        retriever=retriever,
        settings=settings,
        model_name=model.name,
        use_cache=False,
        progress=progress,
    )


def first_name(post: dict[str, Any]) -> str | None:
    member = post.get("member") or {}
    if member.get("name"):
        return str(member["name"]).split()[0]
    return member.get("handle")


def table(run: dict[str, Any]) -> dict[str, dict[str, tuple[int, int]]]:
    """moment -> metric -> (hits, total)."""
    rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for case in run["cases"]:
        draft = case.get("draft")
        if not draft:
            continue
        for key in (case["moment"], "overall"):
            row = rows[key]
            name = first_name(case.get("post") or {})
            if name:
                row["name"][1] += 1
                row["name"][0] += int(name.lower() in case["text"].lower())
            row["guideline"][1] += 1
            row["guideline"][0] += int(
                any(c.get("kind") == "guideline" for c in draft.get("citations") or [])
            )
            row["no_flag"][1] += 1
            row["no_flag"][0] += int(not case["flags"])
            row["passed"][1] += 1
            row["passed"][0] += int(case["passed"])
    return {m: {k: (v[0], v[1]) for k, v in row.items()} for m, row in rows.items()}


def share(pair: tuple[int, int] | None) -> str:
    if not pair or not pair[1]:
        return "   -  "
    hits, total = pair
    mark = " " if hits / total >= GOAL else "!"
    return f"{hits / total:5.0%}{mark} ({hits}/{total})"


def print_table(run: dict[str, Any]) -> None:
    rows = table(run)
    print(f"\nDraft quality: {run['suite']} × {run['model']} (prompt {run['prompt_sha'][:12]})")
    print("(! = below the 90% goal; assertions pass rate has no goal, it is the suite's gate)\n")
    header = f"{'moment':<16}{'name when known':>20}{'cites a guideline':>20}{'no flag':>18}{'assertions pass':>20}"
    print(header)
    print("-" * len(header))
    order = [m.value for m in MomentType if m.value in rows] + ["overall"]
    for moment in order:
        r = rows[moment]
        if moment == "overall":
            print("-" * len(header))
        print(
            f"{moment:<16}{share(r.get('name')):>20}{share(r.get('guideline')):>20}"
            f"{share(r.get('no_flag')):>18}{share(r.get('passed')):>20}"
        )
    flags: dict[str, int] = defaultdict(int)
    for case in run["cases"]:
        for code in case["flags"]:
            flags[code] += 1
    drafting = [
        sum(v for k, v in (c.get("draft") or {}).get("timings", {}).items())
        for c in run["cases"]
        if c.get("draft")
    ]
    print(f"\nFlags: {dict(flags) or 'none'}")
    if drafting:
        print(
            f"Drafting time per case: mean {sum(drafting) / len(drafting):.1f} s "
            f"(run {run['seconds']:.0f} s for {len(run['cases'])} cases)"
        )


def crisis_share(settings: Settings, quick: bool) -> None:
    try:
        from copilot.crisis import draft_statements, load_facts_file
    except ImportError:
        print("\ncopilot/crisis.py has no draft_statements: crisis line skipped")
        return
    from copilot.llm.factory import build_chat_model

    model = build_chat_model(settings, progress=False)
    files = sorted((REPO_ROOT / "knowledge" / "incidents").glob("*.yaml"))[: 1 if quick else None]
    clean = total = 0
    print("\nCrisis statements (initial stage, every channel), zero fact-lock violations:")
    for path in files:
        facts = load_facts_file(path, stage="initial")
        started = time.perf_counter()
        result = draft_statements(facts, model=model, stage="initial")
        ok = sum(1 for s in result.statements.values() if not s.violations)
        clean += ok
        total += len(result.statements)
        codes = sorted({v.code for s in result.statements.values() for v in s.violations})
        print(
            f"  {path.stem:<28} {ok}/{len(result.statements)} "
            f"({time.perf_counter() - started:.0f} s){'  violations: ' + ', '.join(codes) if codes else ''}"
        )
    if total:
        mark = "" if clean / total >= GOAL else "  (below the 90% goal)"
        print(f"  overall: {clean}/{total} = {clean / total:.0%}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke.yaml (8 cases) and one incident"
    )
    parser.add_argument("--suite", default=None, help="suite path or name (default: default)")
    parser.add_argument(
        "--per-moment", type=int, default=None, help="only the first N cases of each moment"
    )
    parser.add_argument("--from-run", type=Path, default=None, help="read a run JSON instead")
    parser.add_argument("--no-crisis", action="store_true", help="skip the crisis statements")
    parser.add_argument("--model", default=None, help="bundled model name or GGUF path")
    parser.add_argument("--save", type=Path, default=None, help="write the run JSON here")
    args = parser.parse_args()

    settings: Settings | None = None
    if args.from_run:
        run = json.loads(args.from_run.read_text(encoding="utf-8"))
    else:
        settings = bench_settings(args.model)
        suite = args.suite or ("smoke" if args.quick else "default")
        print(f"Drafting {suite} with {settings.llm_model_path} …", flush=True)
        run = draft_run(suite, settings, args.per_moment)
        if args.save:
            args.save.write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
    print_table(run)
    if not args.no_crisis:
        crisis_share(settings or bench_settings(args.model), args.quick)


if __name__ == "__main__":
    main()
