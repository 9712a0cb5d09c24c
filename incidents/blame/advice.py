"""Prevention items that read as advice: people forget advice, so it rarely prevents anything."""

from __future__ import annotations

import re

NUDGE = ("This reads as advice, and advice is forgotten. Could a check, a constraint, an alert "
         "or a safe default make the defect impossible or impossible to miss instead?")

_ADVICE = re.compile(
    r"\b(?:be (?:more )?(?:careful|vigilant|mindful|aware)|pay (?:more |closer )?attention|"
    r"remember to|don't forget|do not forget|make sure (?:to|that)|remind(?:er)?s?\b|"
    r"(?:update|improve|write|add to|review) (?:the |our )?(?:docs|documentation|wiki|runbooks?|"
    r"readme|playbook)|document(?:ing)? (?:the|how|that|our)|"
    r"train(?:ing)?\b|educate|raise awareness|awareness|communicat(?:e|ion) better|"
    r"improve communication|double[- ]check|think twice|take more care|be extra)",
    re.IGNORECASE,
)


def advice_like(title: str) -> str | None:
    """The advice phrase in a prevention item's title, or None when it reads as structural."""
    match = _ADVICE.search(title or "")
    return match.group(0) if match else None
