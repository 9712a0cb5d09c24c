"""Modals and the message shortcut: what Slack posts to /slack/interactions."""

from __future__ import annotations

from incidents.appdb import get_session
from incidents.errors import DomainError
from incidents.inbox import service as inbox
from incidents.incident import service as incidents
from incidents.incident.models import Incident, Source
from incidents.outbox import service as outbox
from slackbot import modals, people
from slackbot.blocks import (
    DECLARE_CALLBACK,
    PICK_INCIDENT_CALLBACK,
    PIN_SHORTCUT_CALLBACK,
    build_pick_incident_modal,
)
from slackbot.channels import incident_for_channel
from slackbot.client import ReplyTo
from slackbot.commands import REF, channel_request
from slackbot.jobs import PIN

DECLARE_FIELDS = ("title", "severity", "service", "description")
# Signed interactions recorded once: a replayed form submission does not declare twice.
INTERACTION_SENDER = "slack-interaction"


def _errors(errors: dict[str, str]) -> dict:
    """Keep the modal open and show the messages under the named blocks."""
    return {"response_action": "errors", "errors": errors}


def _author(payload: dict) -> people.Author:
    user = payload.get("user") or {}
    return people.acting(session=get_session(), slack_user_id=user.get("id"),
                         slack_name=user.get("username") or user.get("name") or "")


def _declare_submitted(payload: dict, replay_key: str) -> dict | None:
    view = payload["view"]
    session = get_session()
    author = _author(payload)
    if not author.may_change:
        return _errors({"title": author.refusal})
    if not inbox.record_once(session=session, sender=INTERACTION_SENDER, key=replay_key):
        session.rollback()
        return None  # a replay of a submission already applied: close the form, do nothing
    metadata = modals.unpack(view)
    user_id = (payload.get("user") or {}).get("id")
    reply = ReplyTo(response_url=metadata.get("response_url"),
                    channel_id=metadata.get("channel_id"), user_id=user_id)
    try:
        incidents.declare(
            session=session, title=modals.submitted(view, "title"),
            severity=modals.submitted(view, "severity") or "SEV3",
            service=modals.submitted(view, "service") or None,
            description=modals.submitted(view, "description"),
            source=Source.SLACK, declared_by=author.user, author_name=author.name,
            slack_channel=channel_request(user_id, reply))
    except DomainError as exc:
        session.rollback()
        return _errors({exc.field if exc.field in DECLARE_FIELDS else "title": exc.message})
    session.commit()
    return None


def _queue_pin(incident_id: int, channel_id: str, message: dict, reply: ReplyTo,
               replay_key: str) -> None:
    """Queue the message for the timeline; the worker adds it and tells the person."""
    session = get_session()
    outbox.enqueue(session=session, kind=PIN, key=f"interaction:{replay_key}",
                   incident_id=incident_id,
                   payload={"channel": channel_id, "ts": message["ts"], "message": message,
                            "reply": reply.to_dict(), "confirm": True})
    session.commit()


def _pin_shortcut(payload: dict, replay_key: str) -> None:
    """The "Add to incident timeline" shortcut: at once in an incident channel, else ask which."""
    channel_id = (payload.get("channel") or {}).get("id") or ""
    message = payload.get("message") or {}
    user_id = (payload.get("user") or {}).get("id")
    reply = ReplyTo(response_url=payload.get("response_url"), channel_id=channel_id,
                    user_id=user_id)
    if not message.get("ts"):
        return None
    session = get_session()
    author = _author(payload)
    if not author.may_change:
        reply.queue(session, key=f"interaction:{replay_key}:refused", text=author.refusal)
        session.commit()
        return None
    incident = incident_for_channel(session, channel_id)
    if incident is not None:
        _queue_pin(incident.id, channel_id, message, reply, replay_key)
        return None
    metadata = modals.pack({"channel_id": channel_id, "response_url": payload.get("response_url"),
                            "ts": message["ts"], "user": message.get("user"),
                            "username": message.get("username"), "text": message.get("text")},
                           trim="text")
    view = build_pick_incident_modal(metadata, incidents.open_incidents(session=session, limit=10))
    modals.open_soon(payload.get("trigger_id"), view, reply,
                     "Or react with the pin emoji in the incident's channel.")
    return None


def _pin_submitted(payload: dict, replay_key: str) -> dict | None:
    view = payload["view"]
    author = _author(payload)
    if not author.may_change:
        return _errors({"incident": author.refusal})
    number = modals.submitted(view, "incident").lstrip("#")
    if not number.isdigit() or not REF.fullmatch(f"#{number}"):
        return _errors({"incident": "Type an incident number, like 12 or #12."})
    incident = get_session().get(Incident, int(number))
    if incident is None:
        return _errors({"incident": f"There is no incident #{number}."})
    metadata = modals.unpack(view)
    message = {key: metadata.get(key) for key in ("ts", "user", "username", "text")}
    if not message["ts"]:
        return None
    user_id = (payload.get("user") or {}).get("id")
    reply = ReplyTo(response_url=metadata.get("response_url"),
                    channel_id=metadata.get("channel_id"), user_id=user_id)
    _queue_pin(incident.id, metadata.get("channel_id") or "", message, reply, replay_key)
    return None


def handle(payload: dict, *, replay_key: str) -> dict | None:
    """Answer an interaction payload: a body for Slack, or None for an empty acknowledgement.

    `replay_key` names this signed request, so a replay of it changes nothing twice.
    """
    kind = payload.get("type")
    if kind == "view_submission":
        callback = (payload.get("view") or {}).get("callback_id")
        if callback == DECLARE_CALLBACK:
            return _declare_submitted(payload, replay_key)
        if callback == PICK_INCIDENT_CALLBACK:
            return _pin_submitted(payload, replay_key)
    if kind == "message_action" and payload.get("callback_id") == PIN_SHORTCUT_CALLBACK:
        return _pin_shortcut(payload, replay_key)
    return None
