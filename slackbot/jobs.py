"""What the worker does for Slack: each `@outbox.handler` carries out one kind of job.

Every handler first looks at what is already done, so a run cut off at any line can run again:
the channel id is stored the moment Slack returns it, together with the jobs that follow it
(invite, announce, answer the declarer); a pinned message lands on the timeline under the
message's own key; a notice or reminder is one post, marked done right after Slack took it.
Slack's answers become outcomes through `client.job_failure`: rate limits and outages are
retried, permanent errors (`channel_not_found`, `not_in_channel`, `invalid_auth`…) go dead.
"""

from __future__ import annotations

from flask import current_app

from incidents.appdb import new_session
from incidents.incident import service as incidents
from incidents.incident.models import Incident
from incidents.outbox import service as outbox
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionItem
from slackbot import channels, pins, reminders
from slackbot.blocks import (
    build_announcement,
    build_change_notice,
    build_item_notice,
    build_reminder,
)
from slackbot.client import (
    REPLY,
    SLACK_FAILURES,
    ReplyTo,
    describe_failure,
    error_code,
    job_failure,
)
from slackbot.client import web_client as client

INVITE = "slack.invite"
ANNOUNCE = "slack.announce"
PIN = "slack.pin"
HARMLESS_INVITE_ERRORS = {"already_in_channel", "cant_invite_self"}


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _attempt(call):
    """Make a Slack call; a failure becomes the job's outcome."""
    try:
        return call()
    except SLACK_FAILURES as exc:
        raise job_failure(exc) from exc


# --- declaring: channel, invite, announcement --------------------------------------------------

@outbox.handler(incidents.OPEN_CHANNEL, failure="The incident's Slack channel could not be created")
def open_channel(job: outbox.Job) -> None:
    reply = ReplyTo.of(job.payload.get("reply"))
    with new_session(write=False) as session:
        incident = session.get(Incident, job.incident_id)
        if incident is None or incident.slack_channel_id:
            return  # gone, or done by an earlier run (its follow-ups were queued with the id)
        name = channels.channel_name(incident.id, incident.title)
    try:
        channel = channels.create_or_adopt(client(), name)
    except SLACK_FAILURES as exc:
        failure = job_failure(exc)
        _tell_channel_delayed(job, reply, exc, failure)
        raise failure from exc
    with new_session() as session:
        incident = session.get(Incident, job.incident_id)
        incidents.set_slack_channel(session=session, incident=incident, channel_id=channel["id"],
                                    channel_name=channel.get("name") or name)
        key = f"incident:{incident.id}"
        declarer = job.payload.get("requested_by")
        if declarer:
            outbox.enqueue(session=session, kind=INVITE, key=f"{key}:{declarer}",
                           payload={"user": declarer, "reply": reply.to_dict()},
                           incident_id=incident.id)
        outbox.enqueue(session=session, kind=ANNOUNCE, key=key, incident_id=incident.id,
                       payload={"declared_by": job.payload.get("declared_by") or "",
                                "reply": reply.to_dict()})
        session.commit()


def _tell_channel_delayed(job: outbox.Job, reply: ReplyTo, exc: BaseException,
                          failure: outbox.Retry | outbox.Dead) -> None:
    """Tell the declarer once that the channel is late (retrying) or will not come (dead)."""
    if isinstance(failure, outbox.Dead):
        text = (f"Incident #{job.incident_id} is declared, but its Slack channel could not be "
                f"created: {describe_failure(exc)}. Name it in commands instead: "
                f"`/incident note #{job.incident_id} …`.")
        key = f"incident:{job.incident_id}:channel-failed"
    elif job.attempts == 1:
        text = (f"Incident #{job.incident_id} is declared; its Slack channel is delayed: "
                f"{describe_failure(exc)}. It will be created as soon as Slack allows.")
        key = f"incident:{job.incident_id}:channel-delayed"
    else:
        return
    with new_session() as session:
        # Not in the incident's order: it must not wait behind the channel it reports on.
        reply.queue(session, key=key, text=text)
        session.commit()


@outbox.handler(INVITE, failure="The declarer could not be invited to the incident's channel")
def invite(job: outbox.Job) -> None:
    with new_session(write=False) as session:
        channel = session.get(Incident, job.incident_id).slack_channel_id
    try:
        client().conversations_invite(channel=channel, users=job.payload["user"])
    except SLACK_FAILURES as exc:
        if error_code(exc) not in HARMLESS_INVITE_ERRORS:
            raise job_failure(exc) from exc


@outbox.handler(ANNOUNCE, failure="The incident could not be announced in its channel")
def announce(job: outbox.Job) -> None:
    with new_session(write=False) as session:
        incident = session.get(Incident, job.incident_id)
        text, blocks = build_announcement(incident, _base_url(), job.payload["declared_by"])
        blocks = [block.to_dict() for block in blocks]
    _attempt(lambda: client().chat_postMessage(channel=incident.slack_channel_id, text=text,
                                               blocks=blocks))
    # The declarer sees it where they typed the command too.
    with new_session() as session:
        ReplyTo.of(job.payload.get("reply")).queue(
            session, key=f"incident:{incident.id}:announced", text=text, blocks=blocks,
            in_channel=True, incident_id=incident.id)
        session.commit()


@outbox.handler(REPLY, failure="A reply to a Slack user could not be delivered")
def deliver_reply(job: outbox.Job) -> None:
    ReplyTo.of(job.payload["reply"]).deliver(job.payload["text"], blocks=job.payload.get("blocks"),
                                              in_channel=bool(job.payload.get("in_channel")))


# --- notices -----------------------------------------------------------------------------------

@outbox.handler(incidents.CHANGE_NOTICE, failure="A change could not be posted to the incident's "
                                                 "Slack channel")
def post_change(job: outbox.Job) -> None:
    with new_session(write=False) as session:
        incident = session.get(Incident, job.incident_id)
        if incident is None or not incident.slack_channel_id:
            return  # the channel never came (its own job says why): nobody to tell
        text = build_change_notice(incident, job.payload["changes"], job.payload["by"],
                                   _base_url())
    _attempt(lambda: client().chat_postMessage(channel=incident.slack_channel_id, text=text))


@outbox.handler(prevention.ITEM_NOTICE, failure="A proposed prevention item could not be posted "
                                                "to the incident's Slack channel")
def post_item(job: outbox.Job) -> None:
    with new_session(write=False) as session:
        incident = session.get(Incident, job.incident_id)
        item = session.get(PreventionItem, job.payload["item_id"])
        if incident is None or item is None or not incident.slack_channel_id:
            return
        text = build_item_notice(incident, item, job.payload["by"], _base_url())
    _attempt(lambda: client().chat_postMessage(channel=incident.slack_channel_id, text=text))


# --- pins ----------------------------------------------------------------------------------------

@outbox.handler(PIN, failure="A Slack message could not be added to the timeline")
def pin(job: outbox.Job) -> None:
    """Fetch the message (unless the shortcut brought it) and put it on the timeline, once."""
    channel, ts = job.payload["channel"], job.payload["ts"]
    reply = ReplyTo.of(job.payload.get("reply"))
    message = job.payload.get("message")
    if message is None:
        try:
            message = pins.fetch_message(client(), channel, ts)
        except SLACK_FAILURES as exc:
            failure = job_failure(exc)
            if isinstance(failure, outbox.Dead):
                _tell_pin(job, reply, f"That message could not be added to the timeline of "
                                      f"#{job.incident_id}: {describe_failure(exc)}.")
            raise failure from exc
        if message is None:
            _tell_pin(job, reply, "Slack did not find that message, so it was not added to "
                                  "the timeline.")
            return
    confirm = reply if job.payload.get("confirm") else None  # the shortcut says; a reaction not
    pins.add_message(incident_id=job.incident_id, channel_id=channel, message=message,
                     reply=confirm, reply_key=f"{job.kind}:{job.key}:added")


def _tell_pin(job: outbox.Job, reply: ReplyTo, text: str) -> None:
    with new_session() as session:
        reply.queue(session, key=f"{job.kind}:{job.key}:failed", text=text,
                    incident_id=job.incident_id)
        session.commit()


# --- reminders ----------------------------------------------------------------------------------

@outbox.handler(reminders.REMINDER,
                failure="A reminder of overdue prevention items could not be posted")
def remind(job: outbox.Job) -> None:
    """Post the team's overdue items; items done or dropped since they were queued are left out."""
    with new_session(write=False) as session:
        items = reminders.still_overdue(session=session, item_ids=job.payload["items"])
        if not items:
            return
        text, blocks = build_reminder(job.payload["team"], items, _base_url())
        blocks = [block.to_dict() for block in blocks]
    _attempt(lambda: client().chat_postMessage(channel=job.payload["channel"], text=text,
                                               blocks=blocks))

