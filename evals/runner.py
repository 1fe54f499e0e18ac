"""Run a suite: draft each case with `copilot.drafting.draft_reply`, score, check assertions.

    run = run_suite(suite, model_for=lambda case: model, retriever=index, settings=settings)
    run["cases"][0]["passed"], run["summary"]["empathy"]

Results are cached per (case content hash, prompt sha, model name + options, scorer version)
in `<data_dir>/eval-cache/<key>.json`, so a rerun with nothing changed drafts nothing.
Assertions are re-checked on every run (they are cheap and may have been edited).
A case whose drafting fails is a failed case with the reason; the other cases still run.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.errors import InputError, MomentsError
from copilot.prompts import prompt_sha
from copilot.settings import Settings
from copilot.tone import DIMENSIONS, HIGHER_IS_WORSE, SCORER_VERSION
from copilot.types import ChatMessage, Draft, DraftOptions, GenerationOptions, MomentType
from evals.suite import Assertions, Case, Suite

if TYPE_CHECKING:
    from copilot.llm.base import ChatModel
    from copilot.retrieval import Retriever

RUN_FORMAT = 1
ModelFor = Callable[[Case], "ChatModel"]


# Models made for evals ------------------------------------------------------------------------


class ScriptedChatModel:
    """Answers every call with one fixed reply: the case's reference (or a templated reply).

    `moments eval run --model scripted` drafts each case with its own scripted model, so CI can
    run the whole pipeline (retrieval, prompt, cleaning, scoring, assertions) in seconds.
    """

    provider = "scripted"
    local = True

    def __init__(self, reply: str, name: str = "scripted") -> None:
        self.reply = reply
        self.name = name
        self.calls = 0

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        self.calls += 1
        return iter([self.reply])


_TEMPLATES: dict[MomentType, str] = {
    MomentType.WELCOME: "Welcome to Lumen Makers, {name}! It's great to have you here. "
    "The Getting Started guide is a good first stop, and feel free to share what you're building.",
    MomentType.FIRST_QUESTION: "Hi {name}, welcome, and thanks for asking! This is a good question. "
    "Could you tell us which LumenOS version your Hub runs? The Getting Started guide covers the "
    "basics, and we'll help you from there.",
    MomentType.COMPLAINT: "Hi {name}, I'm really sorry about this, and thank you for telling us. "
    "That sounds frustrating. Could you open a support ticket so the team can look at your case? "
    "I'll keep an eye on it here too.",
    MomentType.CONFLICT: "Hi {name}, thanks for caring about this. I can see why this got heated. "
    "Let's keep the discussion about the ideas, not each other. Could each of you share what "
    "you'd like to see?",
    MomentType.CRISIS: "Hi {name}, I'm sorry, you're right that something is wrong. The team is "
    "investigating and we'll post the next update on the status page.",
    MomentType.CONTRIBUTION: "Thank you so much, {name}! This is a real gift to Lumen Makers. "
    "We'll share it in the next community update.",
    MomentType.MILESTONE: "Congratulations, {name}! That's a wonderful milestone, and thank you for "
    "being part of Lumen Makers.",
    MomentType.QUESTION: "Hi {name}, thanks for asking. The product FAQ covers this; start with "
    "Settings > Hub in the app and let us know if anything is unclear.",
}


def templated_reply(case: Case) -> str:
    """A plain reply built from the case, used when a case has no `reference`."""
    name = (case.member.name or case.member.handle or "there").split()[0]
    return _TEMPLATES[case.moment].format(name=name)


def scripted_model_for(case: Case) -> ScriptedChatModel:
    return ScriptedChatModel(case.reference or templated_reply(case))


# Keys and cache -------------------------------------------------------------------------------


def current_prompt_sha(settings: Settings) -> str:
    """The sha256 of every reply template (system, per moment, revise, shared partials)."""
    names = ["reply.system.j2", *[f"reply.{m.value}.j2" for m in MomentType], "reply.revise.j2"]
    return prompt_sha(names, settings.resolved_prompts_dir)


def check_prompt_version(settings: Settings, prefix: str | None) -> str:
    """The current prompt sha; `InputError` if it does not start with `prefix`."""
    sha = current_prompt_sha(settings)
    if prefix and not sha.startswith(prefix.lower()):
        raise InputError(
            f"the prompts' version is {sha[:12]}, not {prefix}: the reply templates in "
            f"{settings.resolved_prompts_dir} changed",
            hint=f"review the prompt change, then pin the new version with --prompt-version {sha[:12]}",
        )
    return sha


def model_key(model: ChatModel, settings: Settings) -> dict[str, Any]:
    """What identifies a model's output for caching: provider, name and generation options."""
    return {
        "provider": model.provider,
        "name": model.name,
        "temperature": settings.llm_temperature,
        "max_tokens": settings.llm_max_tokens,
        "context": settings.llm_context,
    }


def cache_key(case: Case, prompt: str, model: dict[str, Any], grounded: bool) -> str:
    blob = json.dumps(
        {
            "case": case.content_hash(),
            "prompt": prompt,
            "model": model,
            "scorer": SCORER_VERSION,
            "grounded": grounded,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class ResultCache:
    """One JSON file per key under `directory`; safe to share between threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        path = self.directory / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{key}.{threading.get_ident()}.tmp"
            tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.directory / f"{key}.json")


# Assertions -----------------------------------------------------------------------------------


def check_assertions(
    assertions: Assertions, text: str, scores: dict[str, float], flags: Sequence[str]
) -> list[str]:
    """Every failed assertion, as a readable reason (empty = passed)."""
    failures: list[str] = []
    for dim, low in assertions.min.items():
        if scores.get(dim, 0.0) < low:
            failures.append(f"{dim} {scores.get(dim, 0.0):.2f} < min {low:.2f}")
    for dim, high in assertions.max.items():
        if scores.get(dim, 0.0) > high:
            failures.append(f"{dim} {scores.get(dim, 0.0):.2f} > max {high:.2f}")
    low_text = text.lower()
    for needle in assertions.must_include:
        if needle.lower() not in low_text:
            failures.append(f'missing "{needle}"')
    for needle in assertions.must_not_include:
        if needle.lower() in low_text:
            failures.append(f'contains "{needle}"')
    if assertions.max_chars is not None and len(text) > assertions.max_chars:
        failures.append(f"{len(text)} chars > max_chars {assertions.max_chars}")
    if assertions.min_chars is not None and len(text) < assertions.min_chars:
        failures.append(f"{len(text)} chars < min_chars {assertions.min_chars}")
    for code in assertions.no_flags:
        if code in flags:
            failures.append(f"flagged {code}")
    return failures


# Running --------------------------------------------------------------------------------------


def _draft_case(
    case: Case, model: ChatModel, retriever: Retriever | None, settings: Settings
) -> Draft:
    from copilot.drafting import draft_reply

    return draft_reply(
        case.post, model=model, retriever=retriever, options=DraftOptions(), settings=settings
    )


def case_result(
    case: Case, draft: Draft, *, cached: bool, seconds: float, judge: dict[str, Any] | None
) -> dict[str, Any]:
    from copilot.commands.drafting import draft_to_json

    scores = {d: round(draft.tone.scores[d].score, 4) for d in DIMENSIONS if d in draft.tone.scores}
    flags = [f.code for f in draft.tone.flags]
    failures = check_assertions(case.assertions, draft.text, scores, flags)
    result: dict[str, Any] = {
        "id": case.id,
        "moment": case.moment.value,
        "classified_as": draft.moment.type.value,
        "passed": not failures,
        "failures": failures,
        "scores": scores,
        "flags": flags,
        "text": draft.text,
        "draft": draft_to_json(draft),
        "cached": cached,
        "seconds": round(seconds, 4),
        "post": case.post.model_dump(mode="json"),
        "assertions": case.assertions.to_json(),
    }
    if judge is not None:
        result["judge"] = judge
    return result


def error_result(case: Case, reason: str, seconds: float) -> dict[str, Any]:
    return {
        "id": case.id,
        "moment": case.moment.value,
        "classified_as": None,
        "passed": False,
        "failures": [f"draft failed: {reason}"],
        "scores": {},
        "flags": [],
        "text": "",
        "draft": None,
        "cached": False,
        "seconds": round(seconds, 4),
        "post": case.post.model_dump(mode="json"),
        "assertions": case.assertions.to_json(),
    }


def run_case(
    case: Case,
    *,
    model: ChatModel,
    retriever: Retriever | None,
    settings: Settings,
    prompt: str,
    cache: ResultCache | None,
    judge_model: ChatModel | None = None,
) -> dict[str, Any]:
    """Draft (or read from the cache), score and check one case."""
    started = time.perf_counter()
    key = cache_key(case, prompt, model_key(model, settings), retriever is not None)
    hit = cache.get(key) if cache is not None else None
    judge: dict[str, Any] | None = None
    if hit is not None and "draft" in hit:
        draft = Draft.model_validate(hit["draft"])
        cached = True
        if judge_model is not None:
            judge = hit.get("judge")
    else:
        try:
            draft = _draft_case(case, model, retriever, settings)
        except MomentsError as exc:
            return error_result(case, str(exc), time.perf_counter() - started)
        cached = False
    if judge_model is not None and judge is None:
        from evals.judge import judge_reply

        judge = judge_reply(
            judge_model,
            post=case.post,
            reply=draft.text,
            moment=case.moment,
            community_name=settings.community_name,
            prompts_dir=settings.resolved_prompts_dir,
        )
    if cache is not None and (not cached or judge is not None):
        entry: dict[str, Any] = {"draft": draft.model_dump(mode="json"), "case": case.id}
        if judge is not None and judge.get("missing") is None:
            entry["judge"] = judge
        cache.put(key, entry)
    return case_result(
        case, draft, cached=cached, seconds=time.perf_counter() - started, judge=judge
    )


def summarise(cases: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean per dimension over the cases that have scores."""
    scored = [c for c in cases if c.get("scores")]
    if not scored:
        return {}
    return {
        d: round(sum(c["scores"].get(d, 0.0) for c in scored) / len(scored), 4) for d in DIMENSIONS
    }


def run_suite(
    suite: Suite,
    *,
    model_for: ModelFor,
    retriever: Retriever | None,
    settings: Settings,
    model_name: str,
    jobs: int = 1,
    use_cache: bool = True,
    judge: bool = False,
    prompt_version: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run every case of `suite`; returns the run as a JSON-ready dict (see evals/README.md)."""
    prompt = check_prompt_version(settings, prompt_version)
    cache = ResultCache(settings.resolved_data_dir / "eval-cache") if use_cache else None
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()

    def one(case: Case) -> dict[str, Any]:
        model = model_for(case)
        result = run_case(
            case,
            model=model,
            retriever=retriever,
            settings=settings,
            prompt=prompt,
            cache=cache,
            judge_model=model if judge else None,
        )
        if progress is not None:
            progress(result)
        return result

    if jobs > 1:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(one, suite.cases))
    else:
        results = [one(case) for case in suite.cases]
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    return {
        "format": RUN_FORMAT,
        "run_id": f"{stamp}-{slug(suite.name)}-{slug(model_name)}",
        "suite": suite.name,
        "suite_path": str(suite.path),
        "suite_sha": suite.sha,
        "model": model_name,
        "prompt_sha": prompt,
        "scorer_version": SCORER_VERSION,
        "higher_is_worse": sorted(HIGHER_IS_WORSE),
        "judge": judge,
        "started_at": started_at.isoformat(),
        "seconds": round(time.perf_counter() - t0, 3),
        "cases": results,
        "summary": summarise(results),
        "classifier_agreement": round(
            sum(1 for r in results if r["classified_as"] == r["moment"]) / max(1, len(results)), 4
        ),
        "passed": sum(1 for r in results if r["passed"]),
        "failed": sum(1 for r in results if not r["passed"]),
    }


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", Path(text).stem if "/" in text else text).strip("-")


def write_run(run: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write `<run_id>.json` and `<run_id>.html` into `out_dir`; returns both paths."""
    from evals.report import render_run_html

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{run['run_id']}.json"
    json_path.write_text(json.dumps(run, indent=1, ensure_ascii=False), encoding="utf-8")
    html_path = json_path.with_suffix(".html")
    html_path.write_text(render_run_html(run), encoding="utf-8")
    return json_path, html_path


def load_run(path: Path) -> dict[str, Any]:
    """Read a run JSON written by `write_run` (`InputError` if it is not one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: no such run file",
            hint="runs are in MOMENTS_EVAL_RUNS_DIR (default <data_dir>/eval-runs/)",
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a run JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise InputError(f"{path}: not a run JSON (no 'cases' list)")
    return data


# Models and retriever for the CLI ---------------------------------------------------------------


def resolve_model(name: str | None, settings: Settings) -> tuple[ModelFor, str, Settings]:
    """(model per case, model name for the run, settings) for `--model NAME`.

    `scripted` (each case's reference reply), `fake` (one fixed generic reply for every case,
    a pipeline check), a bundled model name, a GGUF path, or with the openai provider a server
    model name. None = the configured model (`MOMENTS_LLM_MODEL`).
    """
    if name == "scripted":
        return scripted_model_for, "scripted", settings
    if name == "fake":
        from copilot.llm.fake import FakeChatModel

        fake = FakeChatModel(
            name="fake",
            default="Hi, thanks for your post. Please check the docs and let us know.",
        )
        return (lambda case: fake), "fake", settings
    from copilot.llm.factory import build_chat_model
    from copilot.settings import load_settings

    if name:
        overrides: dict[str, object] = {
            k: v
            for k, v in settings.model_dump().items()
            if k not in {"llm_model", "llm_model_path"}
        }
        if name.endswith(".gguf") or Path(name).is_file():
            path = Path(name).expanduser()
            if not path.is_file():
                raise InputError(f"--model {name}: no such GGUF file")
            settings = load_settings(**overrides, llm_model_path=path)
        else:
            settings = load_settings(**overrides, llm_model=name)
    model = build_chat_model(settings)
    return (lambda case: model), model.name, settings


def open_retriever(settings: Settings, echo: Callable[[str], None] | None = None) -> Retriever:
    """The knowledge index in the data dir; indexes the default knowledge base when empty."""
    from copilot.retrieval import open_index

    index = open_index(settings)
    stats = index.stats()
    if stats.guidelines + stats.interactions == 0:
        if echo is not None:
            echo(f"Indexing the knowledge base in {settings.resolved_knowledge_dir} …")
        index.index_paths([settings.resolved_knowledge_dir])
    return index
