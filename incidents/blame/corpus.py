"""The labelled sentences the model learns from and is measured on.

The shared corpus (real sentences from published post-incident writing, labelled, split into
`train` and `heldout`) stays in its own folder beside the checkout, `../shared/blame/`; it is
read from there and never copied into the project. `data/written.txt` holds sentences
written for this project, labelled by the corpus's rules, that add to `train`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
WRITTEN = Path(__file__).with_name("data") / "written.txt"


@dataclass(frozen=True)
class Sentence:
    text: str
    blameful: bool
    hard: bool
    category: str
    source: str  # the document it came from (sentences of one document stay in one fold)


def default_path() -> Path:
    """`BLAME_CORPUS` if set, else `../shared/blame` beside the checkout."""
    return Path(os.environ.get("BLAME_CORPUS") or CHECKOUT.parent / "shared" / "blame")


def load(path: Path | None = None, *, split: str) -> list[Sentence]:
    """The corpus's sentences of one split (`train` or `heldout`)."""
    folder = Path(path) if path else default_path()
    with open(folder / "corpus.json", encoding="utf-8") as handle:
        items = json.load(handle)
    return [Sentence(text=item["text"], blameful=bool(item["blameful"]),
                     hard=bool(item["hard"]), category=item["category"],
                     source=item["source"])
            for item in items if item["split"] == split]


def written(path: Path = WRITTEN) -> list[Sentence]:
    """The project's own sentences: `B|N category | text` a line, `#` for comments."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, rest = line.split(" ", 1)
        category, text = rest.split(" | ", 1)
        found.append(Sentence(text=text.strip(), blameful=label == "B", hard=False,
                              category=category, source=f"written:{number}"))
    return found
