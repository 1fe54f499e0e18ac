"""The scorers keep their measured agreement with the hand-labelled test half, and the shipped
politeness model is the one the calibration script reports.

Floors are the figures measured on the test half (evals/README.md) minus 0.05; the test half
was never used for tuning.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.tone_politeness import FEATURE_NAMES, MODEL_PATH, load_model, score_politeness
from evals.validate_tone import evaluate, load

# Measured on the test half with `python -m evals.validate_tone --split test` (tone-1.4).
MEASURED_TEST_RHO = {
    "empathy": 0.819,
    "emotional_reactions": 0.707,
    "interpretations": 0.818,
    "explorations": 0.938,
    "politeness": 0.681,
    "warmth": 0.786,
    "personalization": 0.889,
    "clarity": 0.596,
    "hostility": 0.338,
    "over_promising": 0.958,
    "defensiveness": 0.684,
    "guideline_compliance": 0.751,
    "overall": 0.851,
}
SHARED_CSV = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "politeness"
    / "wikipedia.annotated.csv"
)


@pytest.fixture(scope="module")
def test_half() -> dict[str, dict[str, float]]:
    return evaluate(load(split="test"))


def test_labelled_file_is_complete_and_split_by_post() -> None:
    rows = load(split="all")
    assert len(rows) >= 160
    assert {r["moment"] for r in rows} == {
        "welcome",
        "first_question",
        "complaint",
        "conflict",
        "crisis",
        "contribution",
        "milestone",
        "question",
    }
    split_of_post: dict[str, set[str]] = {}
    for r in rows:
        split_of_post.setdefault(r["post_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of_post.values())  # a post never spans both halves


@pytest.mark.parametrize("dim", sorted(MEASURED_TEST_RHO))
def test_agreement_on_the_test_half_stays_above_the_measured_floor(
    test_half: dict[str, dict[str, float]], dim: str
) -> None:
    assert test_half[dim]["rho"] >= MEASURED_TEST_RHO[dim] - 0.05


@pytest.mark.parametrize("dim", ["empathy", "politeness", "hostility", "defensiveness", "overall"])
def test_scorers_beat_the_vader_baseline(test_half: dict[str, dict[str, float]], dim: str) -> None:
    assert test_half[dim]["rho"] > test_half[dim]["vader_rho"]


def test_shipped_politeness_model_matches_features_and_carries_attribution() -> None:
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert tuple(raw["features"]) == FEATURE_NAMES
    assert "CC BY 4.0" in raw["attribution"] and "Danescu-Niculescu-Mizil" in raw["attribution"]
    assert load_model() is not None
    polite, _ = score_politeness("Hi! Thanks so much, could you please take a look when you can?")
    rude, _ = score_politeness("Why did you revert my edit? Fix it.")
    assert polite > 0.7 > 0.4 > rude


@pytest.mark.skipif(
    not SHARED_CSV.exists(), reason="the Stanford Politeness CSV is not on this machine"
)
def test_recorded_cv_accuracy_is_what_the_calibration_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from evals.calibrate_politeness import main

    assert main(["--csv", str(SHARED_CSV), "--cv-only"]) == 0
    out = capsys.readouterr().out
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    printed = f"10-fold CV accuracy: {raw['training']['cv_accuracy']:.4f}"
    assert printed in out
