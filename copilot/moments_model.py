"""The learned layer of the moments classifier: a logistic regression over a sentence embedding.

Why: the phrase rules (`copilot.moments`, rules-2) score 0.91 macro-F1 on the labelled test split
but 0.76 on posts written without seeing them (crises asked as calm questions, clashes without
insults). A sentence embedding reads the meaning of a post, not its wording, so it carries over
to phrasings no cue was written for.

How a post is decided (`decide`):

1. features = [L2-normalised 384-d all-MiniLM-L6-v2 embedding of title + text (`embedding_text`),
   member signals (first post, newcomer, long-time member, post_count 0, no profile), the shape
   of the text (asks, @mentions, exclamations, VADER compound, length)], standardised with the
   training mean and scale stored in the model file;
2. a multinomial logistic regression gives one logit per moment;
3. the rules' verdict is added as a vote of `rules_weight` nats to its moment, and the softmax
   of the sum decides.

The rules are a vote added after the regression, not a feature inside it: the rules were tuned
on the very posts the regression is trained on (they score 0.98 there), so a regression would
learn to copy them. `rules_weight` is instead chosen on posts an older rules version had never
seen (see evals/train_moments.py), which is how much the rules are worth on unseen posts.

Inference is numpy only; evals/train_moments.py (scikit-learn) writes copilot/data/
moments_model.json. The model is tied to the embedder it was trained with (`embedder` in the
file): any other vector space is refused, and the caller keeps the rules' verdict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from copilot.errors import ModelError

if TYPE_CHECKING:
    from copilot.types import Post

MODEL_PATH = Path(__file__).resolve().parent / "data" / "moments_model.json"
MEMBER_FEATURES = (
    "member:first_post",
    "member:newcomer",
    "member:long_time_member",
    "member:post_count_zero",
    "member:no_profile",
)
SHAPE_FEATURES = (
    "shape:asks",  # a question mark anywhere
    "shape:question_marks",  # how many, capped at 3
    "shape:mentions",  # an @handle
    "shape:vader_compound",  # raw VADER compound (not the patched member sentiment)
    "shape:exclaims",
    "shape:log_length",
)
EXTRA_FEATURES = MEMBER_FEATURES + SHAPE_FEATURES


def embedding_text(post: Post) -> str:
    """What is embedded: the cleaned title and text, as the rules read them."""
    from copilot.moments import clean_text

    return clean_text("\n".join(part for part in (post.title, post.text) if part))


def extra_features(post: Post, signals: list[str], text: str) -> list[float]:
    """Member and shape features, in `EXTRA_FEATURES` order. `signals` come from the rules (their
    profile logic: few posts or a recent join), `text` is `embedding_text(post)`."""
    from copilot.moments import _compound

    member = post.member
    no_profile = member.post_count is None and member.joined_at is None
    return [
        float("first_post" in signals),
        float("newcomer" in signals),
        float("long_time_member" in signals),
        float(member.post_count == 0),
        float(no_profile),
        float("?" in text),
        float(min(text.count("?"), 3)),
        float("@" in text),
        _compound(text) if text else 0.0,
        float("!" in text),
        math.log1p(len(text)),
    ]


@dataclass(frozen=True)
class MomentsModel:
    """Weights of the learned layer and what they were trained with."""

    version: str
    embedder: str  # the vector space: an embedder's `name`
    dimension: int
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray
    rules_weight: float
    info: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MomentsModel:
        model = cls(
            version=str(data["version"]),
            embedder=str(data["embedder"]),
            dimension=int(data["dimension"]),
            classes=tuple(data["classes"]),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=np.asarray(data["intercept"], dtype=np.float64),
            rules_weight=float(data["rules_weight"]),
            info={k: data[k] for k in ("features", "training", "trained_at") if k in data},
        )
        width = model.dimension + len(EXTRA_FEATURES)
        shapes = (model.mean.shape, model.scale.shape, model.coef.shape, model.intercept.shape)
        if shapes != ((width,), (width,), (len(model.classes), width), (len(model.classes),)):
            raise ModelError(f"the moments model's arrays do not fit {width} features: {shapes}")
        return model

    def logits(self, vector: Sequence[float] | np.ndarray, extra: list[float]) -> np.ndarray:
        """The regression's logit per class for one post (before the rules' vote)."""
        emb = np.asarray(vector, dtype=np.float64).ravel()
        if emb.shape != (self.dimension,):
            raise ModelError(
                f"the moments model expects a {self.dimension}-d vector, got {emb.shape[0]}"
            )
        norm = float(np.linalg.norm(emb))
        if norm > 0:
            emb = emb / norm
        x = (np.concatenate([emb, np.asarray(extra, dtype=np.float64)]) - self.mean) / self.scale
        result: np.ndarray = self.coef @ x + self.intercept
        return result

    def decide(
        self, vector: Sequence[float] | np.ndarray, extra: list[float], rules_type: str | None
    ) -> dict[str, float]:
        """Probability per class after adding the rules' vote (`rules_type`, if any)."""
        z = self.logits(vector, extra)
        if rules_type in self.classes:
            z[self.classes.index(rules_type)] += self.rules_weight
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {kind: float(p[i]) for i, kind in enumerate(self.classes)}


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> MomentsModel:
    """The shipped model (read once per process). ModelError when missing or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return MomentsModel.from_json(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"cannot read the moments model at {path}: {exc}",
            hint="retrain it: .venv/bin/python -m evals.train_moments",
        ) from exc


__all__ = [
    "EXTRA_FEATURES",
    "MODEL_PATH",
    "MomentsModel",
    "embedding_text",
    "extra_features",
    "load_model",
]
