"""Opsgenie outgoing Webhook integration: one alert action per delivery.

Format: https://docs.opsgenie.com/docs/webhook-integration and its alert action data —
`{"action": "Create" | "Acknowledge" | "AddNote" | "Close" | …, "alert": {"alertId", "alias",
"message", "entity", "tags", "username", "createdAt" (ms), "updatedAt" (ns), "note"?,
"priority"?}, "source": {"name", "type"}, "integrationId", "integrationName"}`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from incidents.hooks.events import (
    Action,
    HookEvent,
    clip,
    epoch,
    obj,
    severity,
    string,
)
from incidents.incident.models import Source

NAME = "opsgenie"
SOURCE = Source.OPSGENIE
LABEL = "Opsgenie"
DOC = (
    "Opsgenie outgoing Webhook integration, authenticated by a bearer token with the `hooks` "
    "or `hooks:opsgenie` scope (a custom header `Authorization: Bearer …`). `Create` opens an "
    "incident, deduplicated by the alert's `alias` (else `alertId`); `Acknowledge`, `AddNote` "
    "and the other alert actions land on its timeline, and a worse `priority` (on `Create` or "
    "`UpdatePriority`) raises its severity; `Close` resolves it. Unknown actions answer 202."
)

_ACTIONS = {
    "Create": Action.TRIGGER,
    "Acknowledge": Action.ACKNOWLEDGE,
    "AddNote": Action.NOTE,
    "Close": Action.RESOLVE,
}
# The other alert actions Opsgenie documents: each becomes a timeline entry.
_DESCRIBED = {
    "UnAcknowledge": "Unacknowledged",
    "AssignOwnership": "Ownership assigned",
    "TakeOwnership": "Ownership taken",
    "Escalate": "Escalated",
    "EscalateNext": "Escalated to the next level",
    "AddTeam": "Team added",
    "AddResponder": "Responder added",
    "AddRecipient": "Recipient added",
    "AddTags": "Tags added",
    "RemoveTags": "Tags removed",
    "AddDetails": "Details added",
    "RemoveDetails": "Details removed",
    "UpdatePriority": "Priority updated",
    "UpdateMessage": "Message updated",
    "UpdateDescription": "Description updated",
    "Snooze": "Snoozed",
    "SnoozeEnd": "Snooze ended",
    "Delete": "Alert deleted",
    "CustomAction": "Custom action run",
}


def parse(body: Any) -> list[HookEvent]:
    body = obj(body, "body")
    action_name = string(body, "action", "body")
    alert = obj(body.get("alert"), "body.alert")
    alert_id = string(alert, "alertId", "body.alert")
    alias = string(alert, "alias", "body.alert", required=False)
    dedup_key = alias or alert_id
    if action_name not in _ACTIONS and action_name not in _DESCRIBED:
        return [HookEvent(Action.OTHER, dedup_key=dedup_key)]
    action = _ACTIONS.get(action_name, Action.NOTE)
    message = clip(string(alert, "message", "body.alert", required=False), 300)
    created_at = epoch(alert.get("createdAt"), "body.alert.createdAt")
    updated_at = epoch(alert.get("updatedAt"), "body.alert.updatedAt")
    username = string(alert, "username", "body.alert", required=False) or ""
    note = string(alert, "note", "body.alert", required=False) or ""
    return [
        HookEvent(
            action,
            dedup_key=dedup_key,
            title=message or f"Opsgenie alert {alias or alert_id}",
            service=string(alert, "entity", "body.alert", required=False),
            severity=severity(alert.get("priority")),
            occurred_at=(created_at if action == Action.TRIGGER else updated_at) or updated_at,
            text=clip(_text(action_name, message, username, note, alert), 20_000),
            author=clip(username, 200) or LABEL,
            # Opsgenie has no event id; the alert, the action and its time identify one.
            event_key=f"opsgenie:{alert_id}:{action_name}:{alert.get('updatedAt')}",
            fingerprint=dedup_key,
            note_kind="note" if action_name == "AddNote" else "action",
            priority_change=action_name == "UpdatePriority",
        )
    ]


def _text(action: str, message: str, username: str, note: str, alert: dict) -> str:
    by = f" by {username}" if username else ""
    noted = f": {note}" if note else ""
    if action == "Create":
        tiny = alert.get("tinyId")
        return f"Opsgenie alert #{tiny} created: {message}" if tiny else f"Alert created: {message}"
    if action == "AddNote":
        return note or f"Note added in Opsgenie{by}"
    if action == "Acknowledge":
        return f"Acknowledged in Opsgenie{by}{noted}"
    if action == "Close":
        return f"closed in Opsgenie{by}{noted}"
    return f"{_DESCRIBED[action]} in Opsgenie{by}{noted}"


def samples() -> list[dict]:
    """A documented Create action, then Close (the settings page's test button)."""
    test = str(uuid.uuid4())
    now = time.time_ns()
    alert = {"alertId": test, "alias": f"linecheck-test-{test[:8]}", "message":
             "Linecheck test event", "username": "Linecheck settings", "tinyId": "0",
             "entity": "", "priority": "P5", "createdAt": now // 1_000_000}
    return [{"action": action, "source": {"name": "", "type": "web"},
             "alert": {**alert, "updatedAt": now + step},
             "integrationName": "Linecheck test"}
            for step, action in enumerate(("Create", "Close"))]
