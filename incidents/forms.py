"""Form helpers shared by every blueprint's forms."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from wtforms import SelectChoice, SelectField


def choices(values: Iterable[Enum | str]) -> list[SelectChoice]:
    """Select options from enum members or strings, labelled `in progress` for `in_progress`."""
    options = []
    for member in values:
        value = member.value if isinstance(member, Enum) else str(member)
        options.append(SelectChoice(value, value.replace("_", " ")))
    return options


def team_field(label: str) -> SelectField:
    """A choice of the existing teams (the view fills them in with `team_choices`); a name that
    is none of theirs reaches the service, which says which teams there are."""
    return SelectField(label, choices=[], validate_choice=False)


def team_choices(names: Iterable[str], none_label: str = "no team") -> list[SelectChoice]:
    return [SelectChoice("", f"— {none_label} —")] + [SelectChoice(name, name) for name in names]
