"""Retrain the blame model: `python -m incidents.blame.train [--corpus PATH]`.

Learns from the shared corpus's `train` split and the project's written sentences, never
from `heldout`. The decision threshold is chosen by cross-validation on `train` (folds
grouped by source document, as the corpus's own split is), for the guard as a whole — rules
and model together. Writes `data/model.json`: plain weights, reviewable, no pickle. The seed
is fixed, so the same data gives the same file.

scikit-learn is needed here only (the `train` extra); the guard scores with plain Python.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from incidents.blame import corpus, rules
from incidents.blame.features import features
from incidents.blame.model import WEIGHTS, Model

SEED = 20250611
C = 3.0
FOLDS = 5


def signals(text: str) -> frozenset[str]:
    return frozenset(hit.rule for hit in rules.hits(text))


def fit(sentences: list[corpus.Sentence]) -> Model:
    """A logistic regression over the sentences' features, as plain weights."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import normalize

    vectorizer = DictVectorizer()
    matrix = normalize(vectorizer.fit_transform(
        [dict.fromkeys(features(s.text, signals(s.text)), 1) for s in sentences]))
    labels = [s.blameful for s in sentences]
    regression = LogisticRegression(C=C, class_weight="balanced", solver="liblinear",
                                    random_state=SEED, max_iter=5000).fit(matrix, labels)
    weights = {name: round(float(w), 5)
               for name, w in zip(vectorizer.get_feature_names_out(), regression.coef_[0],
                                  strict=True)
               if abs(w) >= 1e-5}
    return Model(bias=round(float(regression.intercept_[0]), 5), weights=weights,
                 threshold=0.5)


def folds(sentences: list[corpus.Sentence]) -> list[int]:
    """A fold per sentence; all sentences of one source document share a fold."""
    sources = sorted({s.source for s in sentences})
    random.Random(SEED).shuffle(sources)
    fold_of = {source: index % FOLDS for index, source in enumerate(sources)}
    return [fold_of[s.source] for s in sentences]


def cross_validate(train: list[corpus.Sentence], extra: list[corpus.Sentence]):
    """Out-of-fold (rule hit, model probability) for each `train` sentence."""
    assignment = folds(train)
    scores: list[tuple[bool, float]] = [(False, 0.0)] * len(train)
    for fold in range(FOLDS):
        learn = [s for s, f in zip(train, assignment, strict=True) if f != fold] + extra
        model = fit(learn)
        for index, (sentence, f) in enumerate(zip(train, assignment, strict=True)):
            if f == fold:
                hit = bool(rules.hits(sentence.text))
                scores[index] = (hit, model.probability(sentence.text))
    return scores


def figures(sentences, predicted) -> dict:
    """Precision, recall and F1 of `predicted` (booleans) against the labels."""
    pairs = list(zip((s.blameful for s in sentences), predicted, strict=True))
    tp = sum(1 for truth, guess in pairs if truth and guess)
    fp = sum(1 for truth, guess in pairs if not truth and guess)
    fn = sum(1 for truth, guess in pairs if truth and not guess)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "items": len(pairs)}


def choose_threshold(train, scores) -> tuple[float, dict]:
    """The threshold with the best cross-validated F1 of the whole guard on `train`."""
    best = None
    for step in range(20, 91):
        threshold = step / 100
        predicted = [hit or p >= threshold for hit, p in scores]
        result = figures(train, predicted)
        if best is None or result["f1"] > best[1]["f1"]:
            best = (threshold, result)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="folder holding corpus.json (default: ../shared/blame)")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    train = corpus.load(args.corpus, split="train")
    extra = corpus.written()
    scores = cross_validate(train, extra)
    threshold, cv = choose_threshold(train, scores)
    hard = [i for i, s in enumerate(train) if s.hard]
    cv_hard = figures([train[i] for i in hard],
                      [scores[i][0] or scores[i][1] >= threshold for i in hard])
    model = fit(train + extra)
    payload = {
        "about": "Blame model for incidents.blame.guard; written by "
                 "`python -m incidents.blame.train`. Logistic regression over the features "
                 "of incidents/blame/features.py, each sentence scaled to unit length.",
        "trained_on": {"corpus_train": len(train), "written": len(extra), "seed": SEED,
                       "C": C},
        "cross_validated_on_train": {"threshold": threshold, "all": cv, "hard": cv_hard},
        "threshold": threshold,
        "bias": model.bias,
        "weights": dict(sorted(model.weights.items())),
    }
    args.out.write_text(json.dumps(payload, indent=0, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    print(f"trained on {len(train)} corpus sentences (train) + {len(extra)} written; "
          f"{len(model.weights)} weights → {args.out}")
    print(f"cross-validated on train ({FOLDS} folds by source): threshold {threshold}; "
          f"all P {cv['precision']:.2f} R {cv['recall']:.2f} F1 {cv['f1']:.2f}; "
          f"hard P {cv_hard['precision']:.2f} R {cv_hard['recall']:.2f} F1 {cv_hard['f1']:.2f}")


if __name__ == "__main__":
    main()
