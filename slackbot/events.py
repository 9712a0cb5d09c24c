"""The Events API: the url_verification challenge, and pin reactions onto the timeline."""

from __future__ import annotations

from flask import current_app

from incidents.appdb import get_session
from incidents.inbox import service as inbox
from slackbot import background, pins
from slackbot.channels import incident_for_channel
from slackbot.client import SLACK_FAILURES, ReplyTo, describe_failure, web_client

SENDER = "slack"


def _is_pin(event: dict) -> bool:
    emoji = current_app.config["SLACK_PIN_EMOJI"].strip(":")
    item = event.get("item") or {}
    return (event.get("type") == "reaction_added" and event.get("reaction") == emoji
            and item.get("type") == "message" and bool(item.get("channel"))
            and bool(item.get("ts")))


def pin_reaction(incident_id: int, channel_id: str, ts: str, reactor: str | None) -> None:
    """Fetch the reacted-to message and put it on the timeline; tell the reactor if it fails."""
    reply = ReplyTo(channel_id=channel_id, user_id=reactor)
    try:
        message = pins.fetch_message(web_client(), channel_id, ts)
    except SLACK_FAILURES as exc:
        reply.send(f"That message could not be added to the timeline of #{incident_id}: "
                   f"{describe_failure(exc)}. Remove the reaction and add it again to retry.")
        return
    if message is None:
        reply.send("Slack did not find that message, so it was not added to the timeline.")
        return
    pins.add_message(incident_id=incident_id, channel_id=channel_id, message=message)


def handle(envelope: dict) -> dict | None:
    """Answer an Events API request; each event_id is applied once however often it comes."""
    kind = envelope.get("type")
    if kind == "url_verification":
        return {"challenge": envelope.get("challenge")}
    event_id = envelope.get("event_id")
    if kind != "event_callback" or not isinstance(event_id, str) or not event_id:
        return None
    session = get_session()
    event = envelope.get("event") or {}
    incident = None
    if _is_pin(event):
        incident = incident_for_channel(session, event["item"]["channel"])
    if not inbox.record_once(session=session, sender=SENDER, key=event_id,
                             incident_id=incident.id if incident else None):
        session.rollback()
        return None
    session.commit()
    if incident is not None:
        background.submit(pin_reaction, incident.id, event["item"]["channel"],
                          event["item"]["ts"], event.get("user"))
    return None
