"""Form helpers shared by every blueprint's forms."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from wtforms import SelectChoice


def choices(values: Iterable[Enum | str]) -> list[SelectChoice]:
    """Select options from enum members or strings, labelled `in progress` for `in_progress`."""
    options = []
    for member in values:
        value = member.value if isinstance(member, Enum) else str(member)
        options.append(SelectChoice(value, value.replace("_", " ")))
    return options
