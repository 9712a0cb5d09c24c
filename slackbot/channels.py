"""The slow part of declaring: the incident's own channel, the invite, the announcement."""

from __future__ import annotations

import logging
import re

from flask import current_app
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.appdb import new_session
from incidents.incident.models import Incident
from slackbot.blocks import build_announcement
from slackbot.client import SLACK_FAILURES, ReplyTo, describe_failure, error_code, web_client

log = logging.getLogger(__name__)

MAX_NAME = 80  # Slack's limit for channel names
NAME_ATTEMPTS = 5
HARMLESS_INVITE_ERRORS = {"already_in_channel", "cant_invite_self"}


def channel_name(incident_id: int, title: str) -> str:
    """`inc-12-checkout-errors`: lower case, digits and hyphens, as Slack requires."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"inc-{incident_id}-{slug}"[:MAX_NAME].rstrip("-")


def create_channel(client: WebClient, name: str) -> dict:
    """Create a public channel; when the name is taken, try `name-2`, `name-3`…"""
    for attempt in range(1, NAME_ATTEMPTS + 1):
        suffix = "" if attempt == 1 else f"-{attempt}"
        candidate = name[:MAX_NAME - len(suffix)] + suffix
        try:
            return client.conversations_create(name=candidate)["channel"]
        except SlackApiError as exc:
            if error_code(exc) != "name_taken" or attempt == NAME_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def start_incident(incident_id: int, declarer_slack_id: str | None, declared_by: str,
                   reply: ReplyTo) -> None:
    """Open the incident channel, invite the declarer and announce; report how it went.

    The incident is already committed: whatever Slack answers, it is not lost, and the
    person is told what did not work.
    """
    base_url = current_app.config["PUBLIC_BASE_URL"]
    client = web_client()
    with new_session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            return
        name = channel_name(incident.id, incident.title)
    try:
        channel = create_channel(client, name)
    except SLACK_FAILURES as exc:
        log.warning("creating the channel of incident %s failed: %s", incident_id, exc)
        reply.send(f"Incident #{incident_id} is declared, but its Slack channel could not be "
                   f"created: {describe_failure(exc)}. Name it in commands instead: "
                   f"`/incident note #{incident_id} …`.")
        return
    with new_session() as session:
        incident = session.get(Incident, incident_id)
        incident.slack_channel_id = channel["id"]
        incident.slack_channel_name = channel.get("name") or name
        session.commit()
        text, blocks = build_announcement(incident, base_url, declared_by)
    problems = []
    if declarer_slack_id:
        try:
            client.conversations_invite(channel=channel["id"], users=declarer_slack_id)
        except SLACK_FAILURES as exc:
            if error_code(exc) not in HARMLESS_INVITE_ERRORS:
                problems.append(f"inviting you to <#{channel['id']}> failed: "
                                f"{describe_failure(exc)}")
    try:
        client.chat_postMessage(channel=channel["id"], text=text, blocks=blocks)
    except SLACK_FAILURES as exc:
        problems.append(f"posting the announcement failed: {describe_failure(exc)}")
    reply.send(text, blocks=blocks, in_channel=True)
    if problems:
        reply.send(f"Incident #{incident_id} is declared in <#{channel['id']}>, but "
                   + "; ".join(problems) + ".")


def incident_for_channel(session: Session, channel_id: str | None) -> Incident | None:
    """The incident whose own channel this is, if any."""
    if not channel_id:
        return None
    return session.scalar(select(Incident).where(Incident.slack_channel_id == channel_id))
