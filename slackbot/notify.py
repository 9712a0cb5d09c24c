"""Tell an incident's channel what changed. Adapters call this after they commit.

Slack commands use it today; a browser or API adapter can call the same two functions:

    before = notify.snapshot(incident)
    service.update(...); session.commit()
    notify.post_changes(incident, before, by=user.display_name)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from incidents.appdb import new_session
from incidents.incident.models import Incident
from slackbot import background
from slackbot.blocks import build_change_notice
from slackbot.client import SLACK_FAILURES, web_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    status: str
    severity: str


def snapshot(incident: Incident) -> Snapshot:
    """What the notifier compares against: take it before changing the incident."""
    return Snapshot(status=str(incident.status), severity=str(incident.severity))


def change_lines(before: Snapshot, incident: Incident, by: str) -> list[str]:
    lines = []
    if str(incident.severity) != before.severity:
        lines.append(f"Severity {before.severity} → *{incident.severity}* ({by})")
    if str(incident.status) != before.status:
        lines.append(f"Status {before.status} → *{incident.status}* ({by})")
    return lines


def post_changes(incident: Incident, before: Snapshot, *, by: str) -> None:
    """After commit: post status and severity changes to the incident channel, if it has one."""
    if not incident.slack_channel_id or not current_app.config.get("SLACK_BOT_TOKEN"):
        return
    lines = change_lines(before, incident, by)
    if lines:
        background.submit(_post, incident.id, lines)


def _post(incident_id: int, lines: list[str]) -> None:
    with new_session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None or not incident.slack_channel_id:
            return
        text = build_change_notice(incident, lines, current_app.config["PUBLIC_BASE_URL"])
        channel = incident.slack_channel_id
    try:
        web_client().chat_postMessage(channel=channel, text=text)
    except SLACK_FAILURES:
        log.exception("could not post the change of incident %s to %s", incident_id, channel)
