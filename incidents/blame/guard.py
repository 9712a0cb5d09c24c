"""The blame-language guard: find sentences that point at a person instead of the system.

A pure function over text. The text is cut into sentences; each is read by the rules
(`rules.py`, plain phrasings with a span to highlight) and by a linear model trained on real
post-incident writing (`model.py`), which catches blame the rules cannot name. A rule's hit
is flagged with its phrase; a sentence only the model flags is flagged whole, with the
model's confidence. Every step is linear in the length of the text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from incidents.blame import model, rules
from incidents.blame.rules import QUESTIONS, RULES

__all__ = ["Flag", "QUESTIONS", "RULES", "check", "normalise"]

# Where a sentence ends: a run of stops followed by a space or the end ("3.5" and
# "example.com" stay whole), or a line break. The look-behind lets a run match only from its
# first character and the possessive `++` never gives characters back, so a run of 100,000
# dots is scanned once, not once per dot.
BOUNDARY = re.compile(r"(?<![.!?])[.!?]++(?=\s|\Z)|\n")
# Markdown that opens a line but is not part of the sentence: headings, bullets, quotes,
# numbers, emphasis.
_LEAD = re.compile(r"[\s#>*\-+_`|]*(?:\d{1,3}[.)]\s+)?[*_`\"“'(]*")
MAX_SENTENCE = 2_000
_LETTER = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[^\W\d_]+")
MIN_WORDS = 4


@dataclass(frozen=True)
class Flag:
    start: int
    end: int
    rule: str
    question: str
    phrase: str
    label: str = ""
    reason: str = ""
    confidence: float | None = None  # set when the model alone flagged the sentence

    @property
    def key(self) -> tuple[str, str]:
        """What a kept flag is remembered by: the rule and the phrase, case and spacing aside."""
        return self.rule, normalise(self.phrase)

    def as_dict(self) -> dict:
        return asdict(self)


def normalise(phrase: str) -> str:
    return " ".join(phrase.replace("’", "'").lower().split())[:300]


def sentences(text: str):
    """(start, sentence) for each sentence of the text, leading Markdown left out.

    Very long runs without a stop are cut into pieces the model reads one by one.
    """
    start = 0
    for boundary in BOUNDARY.finditer(text):
        yield from _pieces(text, start, boundary.end())
        start = boundary.end()
    yield from _pieces(text, start, len(text))


def _pieces(text: str, start: int, end: int):
    start = _LEAD.match(text, start, end).end()
    while start < end:
        piece_end = min(end, start + MAX_SENTENCE)
        piece = text[start:piece_end]
        if piece.strip():
            yield start, piece
        start = piece_end


def check(text: str) -> list[Flag]:
    """Return the blame flags in `text`, in order, spans not overlapping."""
    if not text:
        return []
    classifier = model.load()
    found: list[Flag] = []
    for offset, sentence in sentences(text):
        if not _LETTER.search(sentence):
            continue  # "1.", "---", "?!": nothing to blame anyone with
        hits = rules.hits(sentence)
        if hits:
            found += [_flag(text, offset + h.start, offset + h.end, h.rule) for h in hits]
            continue
        if len(_WORDS.findall(sentence)) < MIN_WORDS:
            continue  # a heading or a fragment: too little for the model to judge
        probability = classifier.probability(sentence)
        if probability >= classifier.threshold:
            end = offset + len(sentence.rstrip())
            found.append(_flag(text, offset, end, "model", round(probability, 2)))
    return _without_overlaps(found)


def blameful(sentence: str) -> bool:
    """Whether the guard flags anything in this sentence (what the evaluation counts)."""
    return bool(check(sentence))


def _flag(text: str, start: int, end: int, rule: str, confidence: float | None = None) -> Flag:
    about = RULES[rule]
    return Flag(start=start, end=end, rule=rule, question=about.question,
                phrase=text[start:end], label=about.label, reason=about.reason,
                confidence=confidence)


def _without_overlaps(flags: list[Flag]) -> list[Flag]:
    """Keep the earliest, then longest, flag where spans overlap."""
    result: list[Flag] = []
    for flag in sorted(flags, key=lambda f: (f.start, -(f.end - f.start))):
        if result and flag.start < result[-1].end:
            continue
        result.append(flag)
    return result
