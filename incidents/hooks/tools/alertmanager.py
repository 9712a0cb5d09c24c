"""Prometheus Alertmanager, `webhook_config` receiver (payload version 4).

Format: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

from typing import Any

from incidents.hooks.events import BadPayload, HookEvent, obj
from incidents.hooks.tools._alertgroup import parse_group, sample_group
from incidents.incident.models import Source

NAME = "alertmanager"
SOURCE = Source.ALERTMANAGER
LABEL = "Alertmanager"
DOC = (
    "Prometheus Alertmanager webhook_config notifications (payload version 4), authenticated "
    "by a bearer token with the `hooks` or `hooks:alertmanager` scope "
    "(http_config.authorization). A firing group opens an incident or joins the open one with "
    "the same `groupKey`; each alert (by `fingerprint` and `startsAt`) lands on the timeline "
    "once when it fires and once when it resolves, and a new `startsAt` for a fingerprint ends "
    "its earlier firing. The incident resolves when a notification with nothing truncated says "
    "the group resolved. The worst `severity` label opens it; a worse alert joining raises it."
)
STALE_AFTER_HOURS = 24  # Alertmanager repeats a firing group every repeat_interval (4 h default)


def parse(body: Any) -> list[HookEvent]:
    version = obj(body, "body").get("version")
    if version != "4":
        raise BadPayload("body.version must be \"4\" (Alertmanager's webhook payload version); "
                         "is this another sender's notification?", field="body.version")
    return parse_group(body, label=LABEL, link=lambda alert: alert.get("generatorURL"))


def samples() -> list[dict]:
    return sample_group()
