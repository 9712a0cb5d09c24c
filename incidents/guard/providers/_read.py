"""Reading the fields every CI payload has, the same way for each provider."""

from __future__ import annotations

from typing import Any

from incidents.guard.models import MAX_BRANCH, MAX_NAME
from incidents.hooks.events import BadPayload, obj, string


def text(container: dict, name: str, where: str, *, required: bool = True,
         limit: int = MAX_NAME) -> str | None:
    value = string(container, name, where, required=required)
    if value is not None and "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise BadPayload(f"{where}.{name} must not contain NUL characters",
                         field=f"{where}.{name}")
    if value is not None and len(value) > limit:
        raise BadPayload(f"{where}.{name} is longer than {limit} characters",
                         field=f"{where}.{name}")
    return value


def branch(container: dict, name: str, where: str) -> str | None:
    return text(container, name, where, required=False, limit=MAX_BRANCH)


def an_id(container: dict, name: str, where: str) -> int:
    value = container.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadPayload(f"{where}.{name} must be a non-negative integer",
                         field=f"{where}.{name}")
    return value


def section(body: dict, name: str) -> dict:
    return obj(body.get(name), name)


def optional_section(body: dict, name: str) -> dict:
    value: Any = body.get(name)
    return {} if value is None else obj(value, name)
