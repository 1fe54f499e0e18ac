"""What the eval harness costs on top of drafting, and what the cache saves.

    .venv/bin/python benchmarks/eval_overhead.py [--quick] [--model scripted|bundled] [--no-index]

Runs a suite twice through `evals.runner.run_suite` in a scratch data dir: first with an empty
cache (every case drafted), then again (every case served from <data_dir>/eval-cache/). Prints,
per case on average: the harness's wall time, the drafting time alone (the sum of the draft's own
stage timings: classify, mask, retrieve, render, generate, score, regenerate), their ratio (the
harness overhead: cache I/O, JSON, assertions), the cached rerun time and its ratio to drafting,
and the time to write the run JSON + HTML report.

--model scripted (default) replays each case's reference reply: generation is ~free, so the
ratio shows the harness against retrieval + scoring. --model bundled drafts with the real 1.5B
model (use --quick: smoke.yaml, 8 cases, a few minutes on 2 cores).
--no-index drafts without retrieval (no embedder load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from copilot.settings import REPO_ROOT, load_settings  # noqa: E402
from evals.runner import (  # noqa: E402
    ModelFor,
    open_retriever,
    run_suite,
    scripted_model_for,
    write_run,
)
from evals.suite import load_suite  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke.yaml (8 cases)")
    parser.add_argument("--suite", default=None)
    parser.add_argument("--model", choices=["scripted", "bundled"], default="scripted")
    parser.add_argument("--no-index", action="store_true", help="no retrieval")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="eval-overhead-"))
    overrides: dict[str, object] = {"data_dir": scratch}
    model_for: ModelFor = scripted_model_for
    name = "scripted"
    if args.model == "bundled":
        from copilot.llm.factory import build_chat_model
        from copilot.models import ensure_bundled_model

        cache = Path(os.environ.get("MOMENTS_TEST_CACHE") or REPO_ROOT / ".moments-test-cache")
        path = ensure_bundled_model(load_settings(data_dir=cache), progress=True)
        overrides["llm_model_path"] = path
        model = build_chat_model(load_settings(**overrides), progress=False)
        name = model.name

        def model_for(case: object) -> object:  # type: ignore[no-redef]
            return model

    settings = load_settings(**overrides)
    suite = load_suite(args.suite or ("smoke" if args.quick else "default"))
    started = time.perf_counter()
    retriever = None if args.no_index else open_retriever(settings, echo=print)
    index_seconds = time.perf_counter() - started
    print(
        f"{suite.name}: {len(suite.cases)} cases × {name}; index ready in {index_seconds:.1f} s",
        flush=True,
    )

    t = time.perf_counter()
    first = run_suite(
        suite, model_for=model_for, retriever=retriever, settings=settings, model_name=name
    )
    first_wall = time.perf_counter() - t
    t = time.perf_counter()
    second = run_suite(
        suite, model_for=model_for, retriever=retriever, settings=settings, model_name=name
    )
    second_wall = time.perf_counter() - t
    t = time.perf_counter()
    write_run(first, scratch / "runs")
    write_seconds = time.perf_counter() - t

    n = len(suite.cases)
    drafting = [sum((c.get("draft") or {}).get("timings", {}).values()) for c in first["cases"]]
    generate = [
        sum(
            v
            for k, v in (c.get("draft") or {}).get("timings", {}).items()
            if k.startswith(("generate", "regenerate", "variant"))
        )
        for c in first["cases"]
    ]
    per_case = first_wall / n
    draft_mean = statistics.fmean(drafting)
    cached = second_wall / n
    assert all(c["cached"] for c in second["cases"]), "second run was not served from the cache"
    print(f"\nper case (mean over {n}):")
    print(f"  harness wall time, fresh     {per_case * 1000:9.1f} ms")
    print(
        f"  drafting alone (timings)     {draft_mean * 1000:9.1f} ms  (generation {statistics.fmean(generate) * 1000:.1f} ms)"
    )
    print(f"  ratio harness / drafting     {per_case / draft_mean:9.2f}x")
    print(
        f"  cached rerun                 {cached * 1000:9.2f} ms  ({cached / draft_mean:.3f}x drafting)"
    )
    print(f"  write JSON + HTML (run)      {write_seconds * 1000:9.1f} ms for {n} cases")
    print(f"\nwhole suite: fresh {first_wall:.1f} s, cached {second_wall:.2f} s")


if __name__ == "__main__":
    main()
