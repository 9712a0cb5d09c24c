"""Slack messages onto an incident's timeline: once each, at their own time, by their author."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk import WebClient

from incidents.appdb import new_session
from incidents.incident.models import Incident, Source
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind
from incidents.timeline.service import MAX_TEXT
from slackbot import people


def event_key(channel_id: str, ts: str) -> str:
    """The timeline's exactly-once key for a Slack message."""
    return f"slack:{channel_id}:{ts}"


def message_time(ts: str) -> datetime:
    """A Slack `ts` ("1360782400.498405") is the message's own Unix time."""
    return datetime.fromtimestamp(float(ts), UTC)


def fetch_message(client: WebClient, channel_id: str, ts: str) -> dict | None:
    """One message by its ts: conversations.history, or conversations.replies for a reply."""
    found = client.conversations_history(channel=channel_id, latest=ts, inclusive=True,
                                         limit=1).get("messages") or []
    for message in found:
        if message.get("ts") == ts:
            return message
    # A thread reply is not in the channel's history; its thread holds it. Slack answers
    # with the thread's parent first, then the replies between oldest and latest.
    replies = client.conversations_replies(channel=channel_id, ts=ts, oldest=ts, latest=ts,
                                           inclusive=True, limit=2).get("messages") or []
    return next((m for m in replies if m.get("ts") == ts), None)


def message_text(message: dict) -> str:
    text = (message.get("text") or "").strip()
    if not text:
        names = [f.get("name") or "a file" for f in message.get("files") or []]
        text = "shared " + ", ".join(names) if names else "(a message without text)"
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def add_message(*, incident_id: int, channel_id: str, message: dict, reply=None,
                reply_key: str = "") -> bool | None:
    """Add the message to the timeline; False when it is there already, None without incident.

    With `reply` (a ReplyTo), the person is told how it went, queued in the same transaction.
    """
    slack_user = message.get("user")
    with new_session() as session:
        linked = people.author(session=session, slack_user_id=slack_user).user
    name = ""
    if linked is None:  # ask Slack outside any transaction: it may be slow
        name = (people.slack_name(slack_user) or message.get("username")
                or (message.get("bot_profile") or {}).get("name") or "")
    with new_session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            return None
        who = people.author(session=session, slack_user_id=slack_user, slack_name=name)
        event = timeline.add_event(
            session=session, incident=incident, text=message_text(message),
            kind=EventKind.MESSAGE, occurred_at=message_time(message["ts"]), author=who.user,
            author_name=who.name, source=str(Source.SLACK),
            external_key=event_key(channel_id, message["ts"]),
        )
        if reply is not None:
            reply.queue(session, key=reply_key, incident_id=incident_id,
                        text=f"Added to the timeline of #{incident_id}." if event is not None
                        else f"That message is already on the timeline of #{incident_id}.")
        session.commit()
    return event is not None
