"""PagerDuty Webhooks v3: one event per delivery, signed with X-PagerDuty-Signature.

Format: https://developer.pagerduty.com/docs/webhooks/v3-overview/ — `{"event": {"id",
"event_type", "resource_type", "occurred_at", "agent", "data"}}`; `data` is the incident for
incident.* events, or an object naming it under `data.incident` (notes, responders, status
updates).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from typing import Any

from incidents.hooks.events import (
    Action,
    HookEvent,
    clip,
    link_or_none,
    obj,
    severity,
    string,
    timestamp,
)
from incidents.incident.models import Source

NAME = "pagerduty"
SOURCE = Source.PAGERDUTY
LABEL = "PagerDuty"
DOC = (
    "PagerDuty Webhooks v3 (a webhook subscription). Authenticated by `X-PagerDuty-Signature` "
    "(HMAC-SHA256 of the raw body with PAGERDUTY_WEBHOOK_SECRET; any one of several "
    "comma-separated signatures may match) or by a bearer token with the `hooks` or "
    "`hooks:pagerduty` scope. `incident.triggered` opens an incident; `incident.resolved` "
    "resolves it (a merge says into which incident); `incident.reopened` reopens it; a worse "
    "priority on any event raises its severity; every other `incident.*` event lands on its "
    "timeline. Other event types answer 202 and are recorded, so they cannot be replayed."
)
SIGNATURE_HEADER = "X-PagerDuty-Signature"

_ACTIONS = {
    "incident.triggered": Action.TRIGGER,
    "incident.acknowledged": Action.ACKNOWLEDGE,
    "incident.resolved": Action.RESOLVE,
    "incident.annotated": Action.NOTE,
    "incident.reopened": Action.REOPEN,
}


def verify(raw: bytes, headers, config) -> bool:
    """True when any v1 signature matches the body under any configured secret."""
    secrets = [s.strip() for s in (config.get("PAGERDUTY_WEBHOOK_SECRET") or "").split(",")]
    secrets = [s for s in secrets if s]
    header = headers.get(SIGNATURE_HEADER, "")
    offered = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    if not secrets or not offered:
        return False
    expected = [hmac.new(s.encode(), raw, hashlib.sha256).hexdigest().encode() for s in secrets]
    # Bytes, not str: compare_digest refuses non-ASCII text, and a header may carry any.
    offered = [o.lower().encode("utf-8", "surrogateescape") for o in offered]
    # Compare every pair, so the time taken says nothing about which one matched.
    matches = [hmac.compare_digest(e, o) for e in expected for o in offered]
    return any(matches)


def _event(body: Any) -> dict:
    return obj(obj(body, "body").get("event"), "event")


def delivery_key(body: Any) -> str | None:
    return string(_event(body), "id", "event")


def parse(body: Any) -> list[HookEvent]:
    event = _event(body)
    event_id = string(event, "id", "event")
    event_type = string(event, "event_type", "event")
    occurred_at = timestamp(event.get("occurred_at"), "event.occurred_at")
    if not event_type.startswith("incident."):
        return [HookEvent(Action.OTHER, dedup_key=event_id)]
    data = obj(event.get("data"), "event.data")
    agent = event.get("agent") if isinstance(event.get("agent"), dict) else {}
    author = clip(agent.get("summary") if isinstance(agent.get("summary"), str) else "", 200)
    if data.get("type") == "incident":
        incident, where = data, "event.data"
    else:
        incident, where = obj(data.get("incident"), "event.data.incident"), "event.data.incident"
    incident_id = string(incident, "id", where)
    action = _ACTIONS.get(event_type, Action.NOTE)
    title = _title(incident)
    incident_key = incident.get("incident_key")
    return [
        HookEvent(
            action,
            dedup_key=incident_id,
            title=title,
            service=_summary(incident.get("service")),
            severity=severity(_summary(incident.get("priority"))),
            occurred_at=occurred_at,
            text=_text(event_type, data, incident, author, title),
            link=link_or_none(incident.get("html_url")),
            author=author or LABEL,
            event_key=f"pagerduty:{event_id}",
            fingerprint=clip(incident_key, 255) if isinstance(incident_key, str) else incident_id,
            note_kind="note" if event_type == "incident.annotated" else "action",
            priority_change=event_type == "incident.priority_updated",
        )
    ]


def _merged_into(incident: dict) -> str | None:
    """The incident this one was merged into: PagerDuty resolves a merged incident with
    `resolve_reason` {"type": "merge_resolve_reason", "incident": <reference>}."""
    reason = incident.get("resolve_reason")
    if not isinstance(reason, dict) or reason.get("type") != "merge_resolve_reason":
        return None
    into = reason.get("incident") if isinstance(reason.get("incident"), dict) else {}
    name = _summary(into) or (into.get("id") if isinstance(into.get("id"), str) else None)
    return clip(name, 300) if name else "another incident"


def _summary(reference: Any) -> str | None:
    if isinstance(reference, dict) and isinstance(reference.get("summary"), str):
        return reference["summary"].strip() or None
    return None


def _title(incident: dict) -> str:
    for key in ("title", "summary"):
        if isinstance(incident.get(key), str) and incident[key].strip():
            return clip(incident[key], 300)
    return f"PagerDuty incident {incident.get('id')}"


def _names(references: Any) -> str:
    if not isinstance(references, list):
        return ""
    return ", ".join(filter(None, (_summary(r) for r in references)))


def _text(event_type: str, data: dict, incident: dict, author: str, title: str) -> str:
    by = f" by {author}" if author else ""
    kind = event_type.removeprefix("incident.")
    if kind == "triggered":
        number = incident.get("number")
        urgency = incident.get("urgency")
        suffix = f" ({urgency} urgency)" if isinstance(urgency, str) else ""
        return f"PagerDuty incident #{number} triggered: {title}{suffix}"
    if kind == "annotated":
        return clip(data.get("content") if isinstance(data.get("content"), str) else "", 20_000) \
            or f"Note added in PagerDuty{by}"
    if kind == "status_update_published" and isinstance(data.get("message"), str):
        return clip(f"Status update in PagerDuty{by}: {data['message']}", 20_000)
    if kind == "priority_updated":
        priority = _summary(incident.get("priority")) or "none"
        return f"Priority changed to {priority} in PagerDuty{by}"
    if kind in ("reassigned", "escalated", "delegated") and _names(incident.get("assignees")):
        return f"{kind.capitalize()} in PagerDuty to {_names(incident.get('assignees'))}{by}"
    if kind.startswith("responder.") and isinstance(data.get("user"), dict):
        state = data.get("state") if isinstance(data.get("state"), str) else kind[10:]
        message = f": {data['message']}" if isinstance(data.get("message"), str) else ""
        return clip(f"Responder {_summary(data['user'])} {state}{message}", 20_000)
    if kind == "resolved":
        merged = _merged_into(incident)
        return f"Merged in PagerDuty into {merged}{by}" if merged else f"Resolved in PagerDuty{by}"
    if kind == "reopened":
        return f"Reopened in PagerDuty{by}"
    return f"{kind.replace('_', ' ').replace('.', ' ').capitalize()} in PagerDuty{by}"



def samples() -> list[dict]:
    """A documented v3 incident.triggered, then its incident.resolved (the test button)."""
    test = uuid.uuid4().hex[:12].upper()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    incident = {"id": f"LC{test}", "type": "incident", "number": 1, "status": "triggered",
                "title": "Linecheck test event", "urgency": "low",
                "service": {"id": "PLCTEST", "type": "service_reference",
                            "summary": "Linecheck test"},
                "priority": {"id": "PLCP4", "type": "priority_reference", "summary": "P4"}}
    return [{"event": {"id": f"{test}-{kind}", "event_type": f"incident.{kind}",
                       "resource_type": "incident", "occurred_at": now,
                       "agent": {"type": "user_reference", "summary": "Linecheck settings"},
                       "data": {**incident, "status": kind}}}
            for kind in ("triggered", "resolved")]
