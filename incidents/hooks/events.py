"""The one shape every paging tool's payload is turned into, and helpers for reading payloads.

A tool module parses a verified body into a list of `HookEvent`s and raises `BadPayload` when the
body does not have its documented shape; the shared service applies the events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from incidents.errors import InvalidInput

MAX_KEY = 255
MAX_TITLE = 300
MAX_LINK = 2000
MAX_TEXT = 20_000


class BadPayload(InvalidInput):
    """The body is JSON but not the sender's documented shape (answered 400)."""


class Action(StrEnum):
    TRIGGER = "trigger"  # open an incident, or join the open one with the same dedup key
    ACKNOWLEDGE = "acknowledge"
    NOTE = "note"  # a note, or any other change at the sender worth a timeline entry
    RESOLVE = "resolve"  # with an alert id: that alert ended; without: the whole incident did
    REOPEN = "reopen"  # the sender reopened what it had resolved (PagerDuty incident.reopened)
    OTHER = "other"  # a well-formed event this product does not use


@dataclass(frozen=True)
class HookEvent:
    """One thing that happened at a sender, in the product's words."""

    action: Action
    dedup_key: str  # groups events into one incident (PagerDuty incident id, groupKey, alias…)
    title: str = ""
    service: str | None = None
    severity: str | None = None  # SEV1..SEV4 when the payload says; else the sender's default
    occurred_at: datetime | None = None
    text: str = ""
    link: str | None = None
    author: str = ""
    event_key: str | None = None  # the sender's id for this event, so it lands once
    alert_id: str | None = None  # one alert of a group (fingerprint + start): see `external_key`
    fingerprint: str | None = None  # the alert's identity, for recurrence matching
    note_kind: str = "note"  # timeline kind for NOTE events: note or action
    # The sender changed the incident's priority: a worse one raises the severity.
    priority_change: bool = False

    @property
    def external_key(self) -> str | None:
        """The timeline key that makes this event land once per incident.

        Grouped alerts (Alertmanager, Grafana) are keyed by alert and action, so the firing and
        the resolution of one alert are two events, and the incident resolves once every alert
        that fired on it has resolved.
        """
        key = f"{self.action}:{self.alert_id}" if self.alert_id else self.event_key
        return fit_key(key) if key else None


def fit_key(key: str) -> str:
    """Keep a key within the column; a longer one is replaced by its SHA-256."""
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def clip(text: str | None, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link_or_none(url: Any) -> str | None:
    if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= MAX_LINK:
        return url
    return None


# --- reading payloads -------------------------------------------------------------------------

def obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise BadPayload(f"{where} must be a JSON object", field=where)
    return value


def string(container: dict, name: str, where: str, *, required: bool = True) -> str | None:
    """The string at container[name]; missing or null is an error only when required."""
    value = container.get(name)
    if value is None or value == "":
        if required:
            raise BadPayload(f"{where}.{name} is required", field=f"{where}.{name}")
        return None
    if not isinstance(value, str):
        raise BadPayload(f"{where}.{name} must be a string", field=f"{where}.{name}")
    return value


def strings(value: Any, where: str) -> dict[str, str]:
    """A label or annotation map: strings to strings (missing means empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadPayload(f"{where} must be an object of strings", field=where)
    return value


def timestamp(value: Any, where: str, *, required: bool = True) -> datetime | None:
    """An ISO 8601 time with a zone; Go's zero time ("0001-01-01T00:00:00Z") counts as none."""
    if value is None or value == "":
        if required:
            raise BadPayload(f"{where} is required", field=where)
        return None
    if not isinstance(value, str):
        raise BadPayload(f"{where} must be an ISO 8601 time", field=where)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadPayload(f"{where} is not an ISO 8601 time: {value[:40]!r}", field=where) from None
    if parsed.tzinfo is None:
        raise BadPayload(f"{where} must include a time zone", field=where)
    if parsed.year <= 1:
        return None
    return in_utc(parsed, where)


def in_utc(value: datetime, where: str) -> datetime:
    """The same instant in UTC; one that UTC cannot hold (year 9999 west of Greenwich) is bad."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise BadPayload(f"{where} is out of range", field=where) from None


def epoch(value: Any, where: str) -> datetime | None:
    """Epoch seconds, milliseconds, microseconds or nanoseconds (Opsgenie mixes them)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadPayload(f"{where} must be a number (epoch time)", field=where)
    for limit, divisor in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if value > limit:
            value = value / divisor
            break
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadPayload(f"{where} is not a valid epoch time", field=where) from None


# Words senders use for urgency, mapped onto the product's four severities.
_SEVERITY_WORDS = {
    "critical": "SEV1", "crit": "SEV1", "page": "SEV1", "p1": "SEV1", "sev1": "SEV1",
    "high": "SEV2", "error": "SEV2", "major": "SEV2", "p2": "SEV2", "sev2": "SEV2",
    "warning": "SEV3", "warn": "SEV3", "medium": "SEV3", "moderate": "SEV3", "p3": "SEV3",
    "sev3": "SEV3",
    "info": "SEV4", "low": "SEV4", "minor": "SEV4", "p4": "SEV4", "p5": "SEV4", "sev4": "SEV4",
    "1": "SEV1", "2": "SEV2", "3": "SEV3", "4": "SEV4",
}


def severity(word: Any) -> str | None:
    """SEV1..SEV4 for a sender's severity or priority word, None when it is not one we know."""
    if not isinstance(word, str | int) or isinstance(word, bool):
        return None
    return _SEVERITY_WORDS.get(str(word).strip().lower())


def worst(*severities: str | None) -> str | None:
    """The most severe of these SEV1..SEV4 values (SEV1 is the worst), ignoring None."""
    known = [s for s in severities if s]
    return min(known) if known else None
