"""An LLM judge: a second opinion beside the deterministic tone scores, never the only signal.

    judge_reply(model, post=post, reply=text)   # {"scores": {dim: 1..5}, "missing": None, ...}
    judge_pair(model, a, b, post, repeat=3)      # {"verdict": "a"|"b"|"tie", "flip_rate": ...}

The rubric is in `prompts/judge.system.j2` + `prompts/judge.rubric.j2` (pairwise:
`judge.pair.j2`); the post and the replies enter only through the `untrusted` filter. Scores
are parsed leniently from JSON (code fences, prose around it, "4/5", strings). Pairwise verdicts
are asked in both orders; when the orders disagree the verdict is a tie (position bias).
A judge that cannot be reached or answers nonsense never breaks a run: the result says
`missing` with the reason and the deterministic scores stand alone.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from copilot.errors import LLMError, LLMUnavailableError, MomentsError
from copilot.llm.base import complete
from copilot.prompts import render_prompt
from copilot.types import GenerationOptions, MomentType, Post

if TYPE_CHECKING:
    from pathlib import Path

    from copilot.llm.base import ChatModel

JUDGE_DIMENSIONS: tuple[str, ...] = (
    "empathy",
    "politeness",
    "warmth",
    "personalization",
    "clarity",
    "guideline_compliance",
)
SYSTEM = "judge.system.j2"
RUBRIC = "judge.rubric.j2"
PAIR = "judge.pair.j2"
_OBJECT = re.compile(r"\{.*\}", re.S)
_PAIR_NUM = re.compile(r'"?([a-z_]+)"?\s*[:=]\s*"?([1-5])(?:\.\d+)?(?:\s*/\s*5)?"?', re.I)
_WINNER = re.compile(r'"?winner"?\s*[:=]\s*"?(A|B|tie)\b', re.I)


def _options(seed: int | None = None) -> GenerationOptions:
    return GenerationOptions(temperature=0.2 if seed is None else 0.7, max_tokens=160, seed=seed)


def _post_text(post: Post | str) -> str:
    if isinstance(post, str):
        return post
    return "\n\n".join(filter(None, [post.title, post.text]))


def _variables(post: Post | str, community_name: str) -> dict[str, Any]:
    return {"community_name": community_name, "post": _post_text(post)}


def _first_object(text: str) -> dict[str, Any] | None:
    cleaned = re.sub(r"```(?:json)?", "", text)
    match = _OBJECT.search(cleaned)
    if match is None:
        return None
    candidate = match.group(0)
    # try the longest object, then shrink to the first closing brace
    for end in [len(candidate), *[m.end() for m in re.finditer(r"\}", candidate)]]:
        try:
            data = json.loads(candidate[:end])
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def _score_value(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        m = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)", value)
        if m is None:
            return None
        number = float(m.group(1))
    else:
        return None
    if not 1.0 <= number <= 5.0:
        return None
    return int(round(number))


def parse_scores(text: str) -> dict[str, int]:
    """Rubric scores (1..5) per judge dimension from a model answer; missing ones are left out."""
    scores: dict[str, int] = {}
    data = _first_object(text)
    if data is not None:
        lowered = {str(k).lower().strip(): v for k, v in data.items()}
        for dim in JUDGE_DIMENSIONS:
            value = _score_value(lowered.get(dim))
            if value is not None:
                scores[dim] = value
    if len(scores) < len(JUDGE_DIMENSIONS):
        for key, value in _PAIR_NUM.findall(text):
            dim = key.lower()
            if dim in JUDGE_DIMENSIONS and dim not in scores:
                scores[dim] = int(value)
    return scores


def parse_winner(text: str) -> str | None:
    """ "A", "B" or "tie" from a pairwise answer, or None when it cannot be read."""
    data = _first_object(text)
    raw: Any = data.get("winner") if data else None
    if not isinstance(raw, str):
        m = _WINNER.search(text)
        raw = m.group(1) if m else None
    if raw is None:
        return None
    raw = raw.strip().strip('"').lower()
    return {"a": "A", "b": "B", "tie": "tie", "reply a": "A", "reply b": "B"}.get(raw)


def judge_reply(
    model: ChatModel,
    *,
    post: Post | str,
    reply: str,
    moment: MomentType | None = None,
    community_name: str = "Lumen Makers",
    prompts_dir: Path | None = None,
) -> dict[str, Any]:
    """Rubric scores 1..5 for one reply. Never raises for model trouble: `missing` says why."""
    result: dict[str, Any] = {"model": model.name, "scores": {}, "missing": None, "raw": ""}
    try:
        prompt = render_prompt(
            SYSTEM,
            RUBRIC,
            {**_variables(post, community_name), "reply": reply, "moment": moment},
            prompts_dir=prompts_dir,
        )
        result["prompt_sha"] = prompt.sha
        answer = complete(model, prompt.messages, _options()).text
    except LLMUnavailableError as exc:
        result["missing"] = f"judge model unreachable: {exc}"
        return result
    except LLMError as exc:
        result["missing"] = f"judge model failed: {exc}"
        return result
    result["raw"] = answer[:600]
    scores = parse_scores(answer)
    if len(scores) * 2 < len(JUDGE_DIMENSIONS):
        result["missing"] = "judge answer had no readable scores"
    result["scores"] = scores
    return result


def _ask_pair(
    model: ChatModel,
    first: str,
    second: str,
    post: Post | str,
    community_name: str,
    prompts_dir: Path | None,
    seed: int | None,
) -> str | None:
    prompt = render_prompt(
        SYSTEM,
        PAIR,
        {**_variables(post, community_name), "reply_a": first, "reply_b": second},
        prompts_dir=prompts_dir,
    )
    return parse_winner(complete(model, prompt.messages, _options(seed)).text)


def judge_pair(
    model: ChatModel,
    a: str,
    b: str,
    post: Post | str,
    *,
    repeat: int = 1,
    community_name: str = "Lumen Makers",
    prompts_dir: Path | None = None,
) -> dict[str, Any]:
    """Which reply is better: "a", "b" or "tie", asked in both orders `repeat` times.

    Each round asks A=a,B=b and then A=b,B=a; if the two answers disagree (or one is unreadable)
    the round is a tie. `verdict` is the most common round verdict (a tie between them is a tie);
    `flip_rate` is the share of rounds whose verdict differs from it; `order_disagreement` is
    the share of rounds where the order changed the answer.
    """
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    rounds: list[dict[str, Any]] = []
    try:
        for i in range(repeat):
            seed = None if repeat == 1 else 1000 + i
            forward = _ask_pair(model, a, b, post, community_name, prompts_dir, seed)
            backward = _ask_pair(model, b, a, post, community_name, prompts_dir, seed)
            first = {"A": "a", "B": "b", "tie": "tie"}.get(forward or "", None)
            second = {"A": "b", "B": "a", "tie": "tie"}.get(backward or "", None)
            agreed = first is not None and first == second
            rounds.append(
                {
                    "forward": first,
                    "backward": second,
                    "verdict": first if agreed else "tie",
                    "order_agreed": agreed,
                }
            )
    except MomentsError as exc:
        return {
            "verdict": None,
            "missing": f"judge model unreachable: {exc}"
            if isinstance(exc, LLMUnavailableError)
            else f"judge model failed: {exc}",
            "rounds": rounds,
            "flip_rate": None,
            "order_disagreement": None,
        }
    counts = Counter(r["verdict"] for r in rounds)
    top = counts.most_common()
    verdict = top[0][0] if len(top) == 1 or top[0][1] > top[1][1] else "tie"
    flips = sum(1 for r in rounds if r["verdict"] != verdict)
    return {
        "verdict": verdict,
        "missing": None,
        "rounds": rounds,
        "flip_rate": flips / len(rounds),
        "order_disagreement": sum(1 for r in rounds if not r["order_agreed"]) / len(rounds),
    }
