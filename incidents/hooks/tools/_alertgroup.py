"""Alert-group notifications, the format Alertmanager's webhook_config sends and Grafana's
webhook contact point extends: `{"groupKey", "status", "commonLabels", "commonAnnotations",
"alerts": [{"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
"fingerprint"}]}`.

The group (groupKey) is one incident, and the incident follows the group as Alertmanager
reports it (notify/webhook/webhook.go, dispatch/dispatch.go):

- every notification carries every alert the group holds, firing and just resolved, unless
  `max_alerts` cut the list: then `truncatedAlerts` counts the hidden ones, and `status` was
  computed from the visible ones only;
- a resolved alert is sent once (with `send_resolved`) and then dropped from the group;
- an alert that resolves and fires again between two flushes is sent only as its new instance
  (a later `startsAt`, same `fingerprint`), never as the resolve of the old one.

So each alert becomes a timeline event when it fires and another when it resolves, and the
incident resolves when a notification says the whole group resolved with nothing truncated —
that is the one event here without an alert id.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from incidents.hooks.events import (
    Action,
    BadPayload,
    HookEvent,
    clip,
    link_or_none,
    obj,
    severity,
    string,
    strings,
    timestamp,
)

# Label names that carry the affected service, in order of preference.
SERVICE_LABELS = ("service", "app", "job")


def parse_group(body: Any, *, label: str, link: Callable[[dict], Any]) -> list[HookEvent]:
    """Events for every alert of one group notification; `link` picks an alert's best URL."""
    body = obj(body, "body")
    group_key = string(body, "groupKey", "body")
    status = string(body, "status", "body")
    if status not in ("firing", "resolved"):
        raise BadPayload("body.status must be firing or resolved", field="body.status")
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise BadPayload("body.alerts must be a non-empty list", field="body.alerts")
    truncated = body.get("truncatedAlerts", 0)
    if isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0:
        raise BadPayload("body.truncatedAlerts must be a count (a whole number, 0 or more)",
                         field="body.truncatedAlerts")
    common_labels = strings(body.get("commonLabels"), "body.commonLabels")
    common_annotations = strings(body.get("commonAnnotations"), "body.commonAnnotations")
    title = clip(common_annotations.get("summary") or common_labels.get("alertname"), 300)
    events = []
    for index, raw_alert in enumerate(alerts):
        where = f"body.alerts[{index}]"
        alert = obj(raw_alert, where)
        alert_status = string(alert, "status", where)
        if alert_status not in ("firing", "resolved"):
            raise BadPayload(f"{where}.status must be firing or resolved",
                             field=f"{where}.status")
        labels = strings(alert.get("labels"), f"{where}.labels")
        annotations = strings(alert.get("annotations"), f"{where}.annotations")
        starts_at = timestamp(alert.get("startsAt"), f"{where}.startsAt")
        if starts_at is None:  # Go's zero time: an alert that never started
            raise BadPayload(f"{where}.startsAt must be a real time", field=f"{where}.startsAt")
        ends_at = timestamp(alert.get("endsAt"), f"{where}.endsAt", required=False)
        fingerprint = string(alert, "fingerprint", where, required=False) or _fingerprint(labels)
        name = labels.get("alertname") or "alert"
        about = annotations.get("summary") or annotations.get("description") or ""
        firing = alert_status == "firing"
        events.append(
            HookEvent(
                Action.TRIGGER if firing else Action.RESOLVE,
                dedup_key=group_key,
                title=title or clip(about or name, 300) or f"{label} alert",
                service=next((labels[n] for n in SERVICE_LABELS if labels.get(n)), None),
                severity=severity(labels.get("severity") or common_labels.get("severity")),
                occurred_at=starts_at if firing else (ends_at or starts_at),
                text=clip(f"{'Firing' if firing else 'Resolved'}: {name}"
                          + (f" — {about}" if about else "")
                          + _label_text(labels), 20_000),
                link=link_or_none(link(alert)),
                author=label,
                alert_id=f"{fingerprint}:{starts_at.isoformat()}",
                fingerprint=clip(fingerprint, 255),
            )
        )
    if status == "resolved" and not truncated:
        # The whole group resolved: the incident ends with the last alert.
        ended = [e.occurred_at for e in events if e.action == Action.RESOLVE and e.occurred_at]
        events.append(HookEvent(Action.RESOLVE, dedup_key=group_key, author=label,
                                occurred_at=max(ended, default=None),
                                text=f"every alert of the {label} group resolved"))
    return events


def _fingerprint(labels: dict[str, str]) -> str:
    # Older Alertmanagers send no fingerprint; the label set is what identifies an alert.
    canonical = "\x00".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _label_text(labels: dict[str, str]) -> str:
    shown = {k: v for k, v in labels.items() if k != "alertname"}
    if not shown:
        return ""
    return " (" + ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) + ")"


def sample_group(extra: Callable[[str], dict] = lambda status: {}) -> list[dict]:
    """A documented group notification for the settings page's test button: one alert firing,
    then the group resolved (a fresh group key each time, so each test is a new incident)."""
    test = uuid.uuid4().hex[:12]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    labels = {"alertname": "LinecheckTestEvent", "severity": "info", "test": test}

    def notification(status: str) -> dict:
        alert = {"status": status, "labels": labels,
                 "annotations": {"summary": "Test event sent from Linecheck's settings page"},
                 "startsAt": now, "endsAt": now if status == "resolved" else
                 "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": test}
        return {"version": "4", "groupKey": f'{{}}:{{test="{test}"}}', "truncatedAlerts": 0,
                "status": status, "receiver": "linecheck", "groupLabels": {"test": test},
                "commonLabels": labels, "commonAnnotations": alert["annotations"],
                "externalURL": "", "alerts": [alert], **extra(status)}

    return [notification("firing"), notification("resolved")]
