"""The blame model at run time: a logistic regression read from plain JSON weights.

Scoring a sentence is a sum of the weights of its features (see `features.py`), so it costs a
few dictionary look-ups per word and needs no library: no pickle, nothing downloaded, and the
weights file is reviewable text. `python -m incidents.blame.train` writes the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from incidents.blame.features import features

WEIGHTS = Path(__file__).with_name("data") / "model.json"


@dataclass(frozen=True)
class Model:
    bias: float
    weights: dict[str, float]
    threshold: float

    def probability(self, sentence: str, signals: frozenset[str] = frozenset()) -> float:
        """How likely the sentence is blameful, 0..1."""
        found = features(sentence, signals)
        if not found:
            return 0.0
        # Training scaled each sentence's binary features to unit length; so does this.
        total = sum(self.weights.get(name, 0.0) for name in found) / math.sqrt(len(found))
        return 1.0 / (1.0 + math.exp(-(self.bias + total)))


def from_dict(data: dict) -> Model:
    return Model(bias=float(data["bias"]), weights=dict(data["weights"]),
                 threshold=float(data["threshold"]))


@cache
def load(path: Path = WEIGHTS) -> Model:
    """The shipped model (read once per process)."""
    with open(path, encoding="utf-8") as handle:
        return from_dict(json.load(handle))
