"""Train and calibrate the politeness model shipped in copilot/data/politeness_model.json.

Data: Stanford Politeness Corpus, Wikipedia requests (Danescu-Niculescu-Mizil, Sudhof, Jurafsky,
Leskovec, Potts, ACL 2013), CC BY 4.0. Task from the paper: top vs bottom quartile by
`Normalized Score`; we report 10-fold cross-validated accuracy of a logistic regression on the
strategy features of `copilot.tone_politeness`, a bag-of-words ablation (which does not transfer
across communities), then train on all quartile rows and Platt-calibrate the decision value on
the full-range score (target: rated above the mean, z > 0) with out-of-fold predictions.

    .venv/bin/python -m evals.calibrate_politeness [--csv PATH] [--out PATH] [--no-write] [--cv-only]
"""

# ruff: noqa: T201 - a report script: printing is its job
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from scipy.stats import spearmanr
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from copilot.tone_politeness import FEATURE_NAMES, MODEL_PATH, extract_features

DEFAULT_CSV = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "politeness"
    / "wikipedia.annotated.csv"
)
ATTRIBUTION = (
    "Trained on the Stanford Politeness Corpus (Wikipedia requests): Danescu-Niculescu-Mizil, "
    "Sudhof, Jurafsky, Leskovec, Potts. 'A computational approach to politeness with application "
    "to social factors.' ACL 2013. CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."
)
C = 0.3
SEED = 13


def load(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["Request"] for r in rows], np.array([float(r["Normalized Score"]) for r in rows])


def cv_accuracy(make: Any, X: Any, y: Any, folds: int = 10) -> tuple[float, float]:
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    accs = []
    for tr, te in skf.split(X, y):
        model = make().fit(X[tr], y[tr])
        accs.append(float((model.predict(X[te]) == y[te]).mean()))
    return float(np.mean(accs)), float(np.std(accs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--cv-only",
        action="store_true",
        help="print the CV accuracy and stop (no ablation, no write)",
    )
    args = ap.parse_args(argv)

    texts, z = load(args.csv)
    X_all = np.array([extract_features(t).values for t in texts])
    lo, hi = np.quantile(z, 0.25), np.quantile(z, 0.75)
    q = (z <= lo) | (z >= hi)
    Xq, yq = X_all[q], (z[q] >= hi).astype(int)
    tq = [t for t, keep in zip(texts, q, strict=True) if keep]
    print(
        f"corpus: {len(texts)} requests; quartiles: {int(q.sum())} ({int(yq.sum())} polite / {int((1 - yq).sum())} impolite)"
    )

    def make_lr() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))

    acc, sd = cv_accuracy(make_lr, Xq, yq)
    print(f"strategy features + logistic regression, 10-fold CV accuracy: {acc:.4f} (sd {sd:.4f})")
    if args.cv_only:
        return 0

    # Ablation: bag of words from Wikipedia (in-domain only; it memorises community phrasing).
    skf = StratifiedKFold(n_splits=10, shuffle=True, random_state=SEED)
    tq_arr = np.array(tq, dtype=object)
    bow_accs, both_accs = [], []
    for tr, te in skf.split(Xq, yq):
        vec = CountVectorizer(ngram_range=(1, 2), min_df=2, binary=True, lowercase=True)
        B_tr = vec.fit_transform(tq_arr[tr])
        B_te = vec.transform(tq_arr[te])
        m = LogisticRegression(C=0.1, max_iter=3000).fit(B_tr, yq[tr])
        bow_accs.append(float((m.predict(B_te) == yq[te]).mean()))
        sc = StandardScaler().fit(Xq[tr])
        H_tr = hstack([B_tr, csr_matrix(sc.transform(Xq[tr]))]).tocsr()
        H_te = hstack([B_te, csr_matrix(sc.transform(Xq[te]))]).tocsr()
        m2 = LogisticRegression(C=0.1, max_iter=3000).fit(H_tr, yq[tr])
        both_accs.append(float((m2.predict(H_te) == yq[te]).mean()))
    bow = float(np.mean(bow_accs))
    both = float(np.mean(both_accs))
    print(f"ablation, bag of words (uni+bigrams) LR, 10-fold CV accuracy: {bow:.4f}")
    print(f"ablation, bag of words + strategy features, 10-fold CV accuracy: {both:.4f}")

    # Out-of-fold decision values for every request (train on quartile rows of other folds).
    kf = KFold(n_splits=10, shuffle=True, random_state=SEED)
    oof = np.zeros(len(texts))
    for tr, te in kf.split(X_all):
        trq = tr[q[tr]]
        m = make_lr().fit(X_all[trq], (z[trq] >= hi).astype(int))
        oof[te] = m.decision_function(X_all[te])
    rho = float(spearmanr(oof, z).statistic)
    print(f"full range, out-of-fold decision vs Normalized Score: Spearman rho = {rho:.4f}")
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof.reshape(-1, 1), (z > 0).astype(int))
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    p = 1 / (1 + np.exp(-(a * oof + b)))
    brier = float(np.mean((p - (z > 0)) ** 2))
    print(f"Platt calibration on z > 0: a = {a:.4f}, b = {b:.4f}, out-of-fold Brier = {brier:.4f}")

    final = make_lr().fit(Xq, yq)
    scaler, lr = final.named_steps["standardscaler"], final.named_steps["logisticregression"]
    coef = lr.coef_[0]
    top = sorted(zip(coef, FEATURE_NAMES, strict=True), key=lambda x: -abs(x[0]))[:10]
    print("largest weights:", ", ".join(f"{n} {c:+.2f}" for c, n in top))
    out = {
        "version": "politeness-lr-1",
        "trained_at": dt.date.today().isoformat(),
        "attribution": ATTRIBUTION,
        "features": list(FEATURE_NAMES),
        "mean": [float(x) for x in scaler.mean_],
        "scale": [float(x) if x > 0 else 1.0 for x in scaler.scale_],
        "coef": [float(x) for x in coef],
        "intercept": float(lr.intercept_[0]),
        "platt": {"a": a, "b": b, "target": "Normalized Score > 0", "oof_brier": round(brier, 4)},
        "training": {
            "task": "top vs bottom quartile by Normalized Score",
            "n_requests": len(texts),
            "n_quartile_rows": int(q.sum()),
            "C": C,
            "cv_folds": 10,
            "cv_seed": SEED,
            "cv_accuracy": round(acc, 4),
            "cv_accuracy_sd": round(sd, 4),
            "ablation_bow_cv_accuracy": round(bow, 4),
            "ablation_bow_plus_features_cv_accuracy": round(both, 4),
            "full_range_oof_spearman": round(rho, 4),
        },
    }
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
