"""The Events API: the url_verification challenge, and pin reactions onto the timeline."""

from __future__ import annotations

from flask import current_app

from incidents.appdb import get_session
from incidents.inbox import service as inbox
from incidents.outbox import service as outbox
from slackbot.channels import incident_for_channel
from slackbot.client import ReplyTo
from slackbot.jobs import PIN

SENDER = "slack"


def _is_pin(event: dict) -> bool:
    emoji = current_app.config["SLACK_PIN_EMOJI"].strip(":")
    item = event.get("item") or {}
    return (event.get("type") == "reaction_added" and event.get("reaction") == emoji
            and item.get("type") == "message" and bool(item.get("channel"))
            and bool(item.get("ts")))


def handle(envelope: dict) -> dict | None:
    """Answer an Events API request; each event_id is applied once however often it comes.

    The delivery is recorded and its job queued in one transaction, so "200" means "durably
    queued": a retry after a crash before the commit finds nothing recorded and is applied.
    """
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
    if incident is not None:
        item = event["item"]
        reactor = ReplyTo(channel_id=item["channel"], user_id=event.get("user"))
        outbox.enqueue(session=session, kind=PIN, key=f"event:{inbox.fit_key(event_id)}",
                       payload={"channel": item["channel"], "ts": item["ts"],
                                "reply": reactor.to_dict()}, incident_id=incident.id)
    session.commit()
    return None
