"""Where changes come from: one module per sender, behind one small interface.

A source module (`github`, `gitlab`, `generic`) defines `NAME` and `EVENTS`, a table from the
sender's event name to a parser `parse(body) -> list[ChangeFacts | ApprovalFacts]`. A parser
reads a verified JSON body, raises `BadPayload` (400, nothing written) when it is not the
sender's documented shape, and answers an empty list for a well-formed event Linecheck does not
use (a failed deploy, a closed-but-not-merged pull request). Parsers never touch the database;
`incidents.change.service` applies the facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from incidents.hooks.events import BadPayload

MAX_REPOSITORY = 200
MAX_LIST = 100
MAX_ITEM = 200

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class ChangeFacts:
    """What one delivery says about one change. None means "this delivery does not say"."""

    source: str
    repository: str
    revision: str
    service: str | None = None
    environment: str | None = None
    deployed_at: datetime | None = None  # a successful deploy to `environment`, at this time
    production: bool | None = None  # the sender's own word on whether `environment` is
    canary: bool | None = None
    version: str | None = None
    title: str | None = None
    url: str | None = None
    number: int | None = None
    author: str | None = None
    merged_at: datetime | None = None
    approvals: int | None = None
    checks_passed: bool | None = None
    failing_checks: tuple[str, ...] | None = None
    squashed: bool | None = None
    labels: tuple[str, ...] | None = None
    commit_messages: tuple[str, ...] = ()
    components: tuple[str, ...] | None = None
    declared_origin: str | None = None


@dataclass(frozen=True)
class ApprovalFacts:
    """A reviewer approved a pull / merge request, or withdrew (or was dismissed)."""

    source: str
    repository: str
    number: int
    reviewer: str
    approved: bool
    at: datetime


def sha(value, where: str) -> str:
    """A full commit SHA (40 or 64 hex digits), lower-case."""
    if not isinstance(value, str) or not _SHA.fullmatch(value.strip().lower()):
        raise BadPayload(f"{where} must be a full commit SHA", field=where)
    return value.strip().lower()


def sha_in_url(url) -> str | None:
    """The commit SHA a `…/commit/<sha>` URL ends with, if it does."""
    if not isinstance(url, str):
        return None
    last = url.rstrip("/").rsplit("/", 1)[-1].lower()
    return last if _SHA.fullmatch(last) else None


def texts(values, where: str, *, key: str | None = None) -> tuple[str, ...]:
    """Strings from a list (of strings, or of objects whose `key` is the string), clipped."""
    if values is None:
        return ()
    if not isinstance(values, list):
        raise BadPayload(f"{where} must be a list", field=where)
    found = []
    for value in values[:MAX_LIST]:
        if key is not None and isinstance(value, dict):
            value = value.get(key)
        if isinstance(value, str) and value.strip():
            found.append(value.strip()[:MAX_ITEM])
    return tuple(found)


def repository(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadPayload(f"{where} is required", field=where)
    return value.strip()[:MAX_REPOSITORY]
