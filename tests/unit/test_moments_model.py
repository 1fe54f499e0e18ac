"""The learned layer of the moments classifier without a real model: the shipped weights, the
fusion arithmetic, and how classify_post, drafting and the API reach it through a fake embedder
that answers in the bundled model's vector space (unit tests may not load MiniLM)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.testing import build_harness
from copilot.drafting import draft_reply
from copilot.embeddings import BUNDLED_MODEL_NAME, FakeEmbedder
from copilot.errors import LLMUnavailableError, ModelError
from copilot.llm.fake import FakeChatModel
from copilot.moments import classify_post
from copilot.moments_model import (
    EXTRA_FEATURES,
    MomentsModel,
    embedding_text,
    extra_features,
    load_model,
)
from copilot.types import DraftOptions, Member, MomentType, Post

REPO = Path(__file__).resolve().parents[2]
REGULAR = Member(handle="reg", joined_at=date(2023, 1, 1), post_count=150)
QUESTION = Post(
    text="Is there a way to export my saved layouts as a file? I want a backup before I reinstall.",
    member=REGULAR,
)


def direction(kind: str) -> np.ndarray:
    """A unit vector along the shipped model's embedding weights for `kind` minus the mean of
    the others: the embedding that speaks most for `kind`."""
    model = load_model()
    emb = model.coef[:, : model.dimension] / model.scale[: model.dimension]
    i = model.classes.index(kind)
    v = emb[i] - np.delete(emb, i, axis=0).mean(0)
    result: np.ndarray = v / np.linalg.norm(v)
    return result


class BundledSpaceEmbedder:
    """Answers as the bundled MiniLM would be named, with a chosen vector; records the texts."""

    name = f"sentence-transformers/{BUNDLED_MODEL_NAME}"
    dimension = 384

    def __init__(self, vector: np.ndarray, *, fail: bool = False) -> None:
        self.vector = vector
        self.fail = fail
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.texts.append(text)
        if self.fail:
            raise LLMUnavailableError("embedding server down")
        return [float(x) for x in self.vector]


# The shipped model ---------------------------------------------------------------------------


def test_shipped_model_matches_the_classes_the_embedder_and_the_training_data() -> None:
    model = load_model()
    assert model.classes == tuple(kind.value for kind in MomentType)
    assert model.embedder == f"sentence-transformers/{BUNDLED_MODEL_NAME}"
    assert model.dimension == 384
    training = model.info["training"]
    assert all("blind" not in path for path in training["data"])
    digest = hashlib.sha256()
    for path in training["data"]:
        digest.update((REPO / path).read_bytes())
    assert training["data_sha256"] == digest.hexdigest(), "data changed: rerun train_moments"
    assert 0.0 < model.rules_weight < 10.0


def test_malformed_model_file_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"version": "x", "embedder": "e", "dimension": 4, "classes": ["a"]}')
    with pytest.raises(ModelError):
        load_model(bad)


def tiny_model(rules_weight: float) -> MomentsModel:
    width = 2 + len(EXTRA_FEATURES)
    coef = np.zeros((2, width))
    coef[0, 0] = 1.0  # class "a" likes the first embedding axis
    coef[1, 1] = 1.0
    return MomentsModel(
        version="t",
        embedder="e",
        dimension=2,
        classes=("a", "b"),
        mean=np.zeros(width),
        scale=np.ones(width),
        coef=coef,
        intercept=np.zeros(2),
        rules_weight=rules_weight,
        info={},
    )


def test_the_rules_vote_adds_its_weight_to_one_logit() -> None:
    extra = [0.0] * len(EXTRA_FEATURES)
    leaning_a = [0.8, 0.6]  # logits 0.8 vs 0.6
    alone = tiny_model(1.0).decide(leaning_a, extra, None)
    assert max(alone, key=alone.__getitem__) == "a"
    voted = tiny_model(1.0).decide(leaning_a, extra, "b")
    assert max(voted, key=voted.__getitem__) == "b"
    assert voted["b"] == pytest.approx(1 / (1 + np.exp(0.8 - 1.6)))
    weak = tiny_model(0.1).decide(leaning_a, extra, "b")
    assert max(weak, key=weak.__getitem__) == "a"  # a small vote does not overturn a margin


def test_wrong_vector_size_is_refused() -> None:
    with pytest.raises(ModelError, match="2-d vector"):
        tiny_model(1.0).logits([1.0, 0.0, 0.0], [0.0] * len(EXTRA_FEATURES))


def test_extra_features_read_the_profile_and_the_shape() -> None:
    post = Post(text="Hi @mira, is this on?!", member=Member(post_count=0))
    text = embedding_text(post)
    feats = dict(
        zip(EXTRA_FEATURES, extra_features(post, ["first_post", "newcomer"], text), strict=True)
    )
    assert feats["member:first_post"] == feats["member:post_count_zero"] == 1.0
    assert feats["member:long_time_member"] == feats["member:no_profile"] == 0.0
    assert feats["shape:asks"] == feats["shape:mentions"] == feats["shape:exclaims"] == 1.0


# classify_post with an embedding -------------------------------------------------------------


def test_without_an_embedding_the_rules_decide() -> None:
    moment = classify_post(QUESTION)
    assert moment.method == "rules"
    assert moment.type is MomentType.QUESTION


def test_the_learned_layer_can_overrule_the_rules() -> None:
    """An embedding that speaks strongly for a crisis turns the calm question into one; the
    rules' urgency logic follows the new type and the evidence keeps what the rules said."""
    moment = classify_post(QUESTION, vector=direction("crisis") * 1.0)
    assert moment.method == "rules+embed"
    assert moment.type is MomentType.CRISIS
    assert moment.urgency.value in ("high", "critical")
    assert moment.evidence[0].startswith(f"{load_model().version}: crisis")
    assert "rules said question" in moment.evidence[0]
    assert sum(moment.scores.values()) == pytest.approx(1.0, abs=0.01)
    assert moment.confidence == pytest.approx(moment.scores["crisis"], abs=0.001)


def test_an_embedding_that_agrees_keeps_the_rules_verdict() -> None:
    moment = classify_post(QUESTION, vector=direction("question"))
    assert (moment.method, moment.type) == ("rules+embed", MomentType.QUESTION)
    assert moment.scores["question"] > 0.5


def test_the_embedder_embeds_the_cleaned_title_and_text() -> None:
    embedder = BundledSpaceEmbedder(direction("question"))
    post = Post(title="Export?", text="Can I export layouts? ```code here```", member=REGULAR)
    moment = classify_post(post, embedder=embedder)
    assert moment.method == "rules+embed"
    assert embedder.texts == [embedding_text(post)]
    assert "code here" not in embedder.texts[0] and embedder.texts[0].startswith("Export?\n")


def test_an_embedder_of_another_space_leaves_the_rules_and_says_why() -> None:
    moment = classify_post(QUESTION, embedder=FakeEmbedder(384))
    assert moment.method == "rules"
    assert moment.evidence[0].startswith("embed: not used (embedder fake-hash-384")


def test_a_failing_embedder_leaves_the_rules_and_says_why() -> None:
    moment = classify_post(QUESTION, embedder=BundledSpaceEmbedder(direction("crisis"), fail=True))
    assert (moment.method, moment.type) == ("rules", MomentType.QUESTION)
    assert "embedding server down" in moment.evidence[0]


def test_a_vector_of_the_wrong_size_leaves_the_rules() -> None:
    moment = classify_post(QUESTION, vector=[0.1] * 64)
    assert moment.method == "rules" and "384-d vector" in moment.evidence[0]


# Drafting and the API reach the learned layer ------------------------------------------------


class IndexLike:
    """A retriever that, like KnowledgeIndex, carries the embedder its vectors come from."""

    def __init__(self, embedder: object) -> None:
        self.embedder = embedder

    def search(self, query: str, **kwargs: object) -> list[object]:
        return []


def test_drafting_classifies_with_the_index_embedder() -> None:
    embedder = BundledSpaceEmbedder(direction("crisis"))
    model = FakeChatModel(default="Hi, thanks for flagging this. We are looking into it now.")
    draft = draft_reply(
        QUESTION, model=model, retriever=IndexLike(embedder), options=DraftOptions()
    )
    assert draft.moment.method == "rules+embed"
    assert draft.moment.type is MomentType.CRISIS
    assert embedder.texts[0] == embedding_text(QUESTION)


def test_api_classifies_with_the_open_index_embedder(tmp_path: Path) -> None:
    embedder = BundledSpaceEmbedder(direction("crisis"))
    harness = build_harness(tmp_path, model=FakeChatModel(), index=IndexLike(embedder))
    try:
        client = TestClient(harness.app)
        body = {"text": QUESTION.text, "member": {"post_count": 150, "joined_at": "2023-01-01"}}
        response = client.post("/v1/moments", json=body, headers=harness.auth("plugin"))
        assert response.status_code == 200, response.text
        assert response.json()["method"] == "rules+embed"
        assert response.json()["type"] == "crisis"
    finally:
        harness.store.close()
