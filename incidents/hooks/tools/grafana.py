"""Grafana unified alerting, webhook contact point (payload version 1).

Format: https://grafana.com/docs/grafana/latest/alerting/configure-notifications/
manage-contact-points/integrations/webhook-notifier/ — Alertmanager's payload plus `orgId`,
`title`, `state`, `message`, and per alert `dashboardURL`, `panelURL`, `silenceURL`, `values`.
"""

from __future__ import annotations

from typing import Any

from incidents.hooks.events import HookEvent
from incidents.hooks.tools._alertgroup import parse_group
from incidents.incident.models import Source

NAME = "grafana"
SOURCE = Source.GRAFANA
LABEL = "Grafana"
DOC = (
    "Grafana unified alerting webhook contact point, authenticated by a bearer token with the "
    "`hooks` scope (Authorization header scheme Bearer, credentials the token). Same rules as "
    "Alertmanager: `groupKey` groups alerts into one incident, each alert (by `fingerprint`) "
    "lands once when it fires and once when it resolves, and the incident resolves when every "
    "alert that fired on it has resolved."
)


def _link(alert: dict) -> Any:
    # The panel shows the signal itself; fall back to the dashboard, then the rule.
    return alert.get("panelURL") or alert.get("dashboardURL") or alert.get("generatorURL")


def parse(body: Any) -> list[HookEvent]:
    return parse_group(body, label=LABEL, link=_link)
