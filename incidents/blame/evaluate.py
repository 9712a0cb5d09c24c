"""Measure the guard: `python -m incidents.blame.evaluate [--corpus PATH] [--split heldout]`.

Runs the whole guard (rules and the shipped model) on every sentence of a corpus split and
prints precision, recall and F1 — overall, on the corpus's `hard` subset, and recall or
false flags per category. A sentence counts as flagged when the guard flags anything in it.
The `heldout` split is for reporting only: nothing is tuned on it.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from incidents.blame import corpus, guard
from incidents.blame.train import figures


def evaluate(sentences: list[corpus.Sentence]) -> dict:
    """Figures of the guard on these sentences: all, hard, and per category."""
    flagged = [guard.blameful(s.text) for s in sentences]
    hard = [i for i, s in enumerate(sentences) if s.hard]
    per_category: Counter = Counter()
    hits: Counter = Counter()
    for sentence, flag in zip(sentences, flagged, strict=True):
        per_category[sentence.category] += 1
        hits[sentence.category] += flag
    return {
        "all": figures(sentences, flagged),
        "hard": figures([sentences[i] for i in hard], [flagged[i] for i in hard]),
        "categories": {name: (hits[name], per_category[name]) for name in sorted(per_category)},
        "blameful": {s.category for s in sentences if s.blameful},
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="folder holding corpus.json (default: ../shared/blame)")
    parser.add_argument("--split", choices=["heldout", "train", "written"], default="heldout")
    args = parser.parse_args(argv)
    sentences = (corpus.written() if args.split == "written"
                 else corpus.load(args.corpus, split=args.split))
    started = time.perf_counter()
    result = evaluate(sentences)
    elapsed = time.perf_counter() - started
    print(f"blame guard on the {args.split} split: {len(sentences)} sentences, "
          f"{elapsed * 1000 / max(len(sentences), 1):.2f} ms each")
    if args.split != "heldout":
        print("  (the model learnt from this split: these figures flatter it)")
    for name in ("all", "hard"):
        r = result[name]
        print(f"  {name:<4} precision {r['precision']:.2f}  recall {r['recall']:.2f}  "
              f"F1 {r['f1']:.2f}  ({r['items']} sentences)")
    print("  by category (flagged / sentences):")
    for name, (flagged, total) in result["categories"].items():
        kind = "blameful, caught" if name in result["blameful"] else "blameless, flagged"
        print(f"    {name:<8} {flagged:>3} / {total:<3} {kind}")


if __name__ == "__main__":
    main()
