"""Prometheus Alertmanager, `webhook_config` receiver (payload version 4).

Format: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

from typing import Any

from incidents.hooks.events import HookEvent
from incidents.hooks.tools._alertgroup import parse_group
from incidents.incident.models import Source

NAME = "alertmanager"
SOURCE = Source.ALERTMANAGER
LABEL = "Alertmanager"
DOC = (
    "Prometheus Alertmanager webhook_config notifications (payload version 4), authenticated "
    "by a bearer token with the `hooks` scope (http_config.authorization). A firing group opens "
    "an incident or joins the open one with the same `groupKey`; each alert (by `fingerprint`) "
    "lands on the timeline once when it fires and once when it resolves; the incident resolves "
    "when every alert that fired on it has resolved. Severity comes from the `severity` label."
)


def parse(body: Any) -> list[HookEvent]:
    return parse_group(body, label=LABEL, link=lambda alert: alert.get("generatorURL"))
