"""Grafana unified alerting, webhook contact point (payload version 1).

Format: https://grafana.com/docs/grafana/latest/alerting/configure-notifications/
manage-contact-points/integrations/webhook-notifier/ — Alertmanager's payload plus `orgId`,
`title`, `state`, `message`, and per alert `dashboardURL`, `panelURL`, `silenceURL`, `values`.
"""

from __future__ import annotations

from typing import Any

from incidents.hooks.events import BadPayload, HookEvent, obj
from incidents.hooks.tools._alertgroup import parse_group, sample_group
from incidents.incident.models import Source

NAME = "grafana"
SOURCE = Source.GRAFANA
LABEL = "Grafana"
DOC = (
    "Grafana unified alerting webhook contact point, authenticated by a bearer token with the "
    "`hooks` or `hooks:grafana` scope (Authorization header scheme Bearer, credentials the "
    "token). Same rules as Alertmanager: `groupKey` groups alerts into one incident, each alert "
    "(by `fingerprint` and `startsAt`) lands once when it fires and once when it resolves, and "
    "the incident resolves when a notification with nothing truncated has `state` ok. "
    "`orgId`, `version` \"1\" and `state` (alerting or ok) are required."
)
STALE_AFTER_HOURS = 24  # Grafana repeats a firing group every repeat interval (4 h default)
_STATES = {"alerting": "firing", "ok": "resolved"}


def _link(alert: dict) -> Any:
    # The panel shows the signal itself; fall back to the dashboard, then the rule.
    return alert.get("panelURL") or alert.get("dashboardURL") or alert.get("generatorURL")


def _check_shape(body: Any) -> None:
    """Grafana's own fields around Alertmanager's payload: another sender's body is refused."""
    body = obj(body, "body")
    org = body.get("orgId")
    if isinstance(org, bool) or not isinstance(org, int):
        raise BadPayload("body.orgId is required (a number): Grafana sends it with every "
                         "notification; is this another sender's payload?", field="body.orgId")
    if body.get("version") != "1":
        raise BadPayload("body.version must be \"1\" (Grafana's webhook payload version)",
                         field="body.version")
    state = body.get("state")
    if not isinstance(state, str) or state not in _STATES:
        raise BadPayload("body.state must be alerting or ok", field="body.state")
    if body.get("status") in _STATES.values() and _STATES[state] != body["status"]:
        raise BadPayload(f"body.state {state} contradicts body.status", field="body.state")


def parse(body: Any) -> list[HookEvent]:
    _check_shape(body)
    return parse_group(body, label=LABEL, link=_link)


def samples() -> list[dict]:
    return sample_group(lambda status: {
        "orgId": 1, "version": "1", "state": "alerting" if status == "firing" else "ok",
        "title": f"[{status.upper()}] Linecheck test event", "message": "Test event"})
