"""Any JSON sender: the product's own documented event shape (see the README)."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma

from incidents.hooks.events import (
    Action,
    BadPayload,
    HookEvent,
    in_utc,
    link_or_none,
    severity,
)
from incidents.incident.models import Source

NAME = "generic"
SOURCE = Source.GENERIC
LABEL = "Generic JSON"
DOC = (
    "Any sender, in Linecheck's own JSON shape; bearer token with the `hooks` or "
    "`hooks:generic` scope. "
    "`status` trigger opens an incident (or joins the open one with the same `dedup_key`), "
    "acknowledge and note add to its timeline, resolve resolves it. Send `event_id` to make "
    "retries of one event harmless even when the body changes; without it the body's SHA-256 "
    "identifies the delivery."
)


class GenericEvent(ma.Schema):
    """One event from any sender."""

    dedup_key = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=255),
        metadata={"description": "Groups events into one incident while it is open"})
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["trigger", "acknowledge", "resolve", "note"]),
        metadata={"description": "trigger | acknowledge | resolve | note"})
    title = ma.fields.String(
        validate=ma.validate.Length(max=300),
        metadata={"description": "Incident title; required when status is trigger"})
    severity = ma.fields.String(
        metadata={"description": "SEV1..SEV4, 1..4, or critical/high/warning/info; "
                                 "default: the sender's default severity"})
    service = ma.fields.String(validate=ma.validate.Length(max=200))
    occurred_at = ma.fields.AwareDateTime(
        metadata={"description": "ISO 8601 with a zone; default: when it arrives"})
    text = ma.fields.String(validate=ma.validate.Length(max=20_000),
                            metadata={"description": "Timeline text"})
    link = ma.fields.Url(schemes={"http", "https"}, validate=ma.validate.Length(max=2000))
    event_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "The sender's id for this event (delivery deduplication)"})

    @ma.validates_schema
    def _trigger_needs_title(self, data, **_kwargs):
        if data.get("status") == "trigger" and not (data.get("title") or "").strip():
            raise ma.ValidationError("title is required when status is trigger", "title")
        if "severity" in data and severity(data["severity"]) is None:
            raise ma.ValidationError("severity must be SEV1..SEV4 (or 1..4, critical, high, "
                                     "warning, info)", "severity")


SCHEMA = GenericEvent
_ACTIONS = {"trigger": Action.TRIGGER, "acknowledge": Action.ACKNOWLEDGE,
            "resolve": Action.RESOLVE, "note": Action.NOTE}
_DEFAULT_TEXT = {"trigger": "Triggered", "acknowledge": "Acknowledged", "note": "Note"}


def _load(body: Any) -> dict:
    if not isinstance(body, dict):
        raise BadPayload("body must be a JSON object", field="body")
    try:
        return GenericEvent().load(body)
    except ma.ValidationError as exc:
        fields = exc.normalized_messages()
        names = ", ".join(sorted(fields))
        first = sorted(fields)[0]
        detail = fields[first][0] if isinstance(fields[first], list) else fields[first]
        raise BadPayload(f"invalid field(s): {names} ({first}: {detail})", field=first,
                         fields=fields) from None


def delivery_key(body: Any) -> str | None:
    event_id = body.get("event_id") if isinstance(body, dict) else None
    return event_id if isinstance(event_id, str) and event_id else None


def parse(body: Any) -> list[HookEvent]:
    data = _load(body)
    status = data["status"]
    text = (data.get("text") or "").strip()
    if not text and status != "resolve":
        text = f"{_DEFAULT_TEXT[status]}: {data.get('title') or data['dedup_key']}"
    occurred_at = data.get("occurred_at")
    return [
        HookEvent(
            _ACTIONS[status],
            dedup_key=data["dedup_key"],
            title=(data.get("title") or "").strip(),
            service=(data.get("service") or "").strip() or None,
            severity=severity(data["severity"]) if "severity" in data else None,
            occurred_at=in_utc(occurred_at, "occurred_at") if occurred_at else None,
            text=text,
            link=link_or_none(data.get("link")),
            author=LABEL,
            event_key=f"generic:{data['event_id']}" if data.get("event_id") else None,
            fingerprint=data["dedup_key"],
            note_kind="note" if status == "note" else "action",
        )
    ]


def samples() -> list[dict]:
    """A trigger, then its resolve (the settings page's test button)."""
    test = uuid.uuid4().hex[:12]
    return [{"dedup_key": f"linecheck-test-{test}", "status": status, "event_id":
             f"linecheck-test-{test}-{status}", "title": "Linecheck test event",
             "severity": "SEV4"} for status in ("trigger", "resolve")]
