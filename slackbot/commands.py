"""`/incident <subcommand>`: parse the text, act through the domain services, answer at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from incidents.appdb import get_session
from incidents.errors import DomainError
from incidents.inbox import service as inbox
from incidents.incident import service as incidents
from incidents.incident.models import Incident, Source, Status
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionKind
from incidents.timeline import service as timeline
from slackbot import modals, people
from slackbot.blocks import (
    build_change_lines,
    build_declare_modal,
    build_help,
    build_incident_list,
    build_timeline,
    escape,
    incident_label,
    review_url,
)
from slackbot.channels import incident_for_channel
from slackbot.client import ReplyTo

REF = re.compile(r"#(\d{1,9})")
SEVERITY = re.compile(r"(?:sev)?([1-4])", re.IGNORECASE)
PREVENT_KIND = re.compile(r"(eliminate|detect|fail[_ -]?loudly|contain|local[_ -]?fix|advice)"
                          r"\s*:\s*(.*)", re.IGNORECASE | re.DOTALL)
# Proposed from Slack mid-incident, an item is not structural until a reviewer says so:
# it cannot satisfy the publish gate by accident.
DEFAULT_PREVENTION_KIND = PreventionKind.LOCAL_FIX
KIND_WORDS = {kind.value.replace("_", ""): kind for kind in PreventionKind}
LIST_LIMIT = 30
# Signed slash commands recorded once (a replay within Slack's five-minute window is refused).
COMMAND_SENDER = "slack-command"


class Usage(Exception):
    """Input that does not fit a subcommand: answered with its usage line."""


@dataclass(frozen=True)
class Command:
    name: str
    incident_id: int | None
    args: str


def _take(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    return (parts[0] if parts else ""), (parts[1].strip() if len(parts) > 1 else "")


def parse(text: str) -> Command:
    """`note #12 db failover done` or `#12 note …` → Command("note", 12, "db failover done")."""
    first, rest = _take(text or "")
    ref = REF.fullmatch(first)
    if ref:
        first, rest = _take(rest)
    else:
        word, after = _take(rest)
        ref = REF.fullmatch(word)
        if ref:
            rest = after
    return Command(first.lower(), int(ref[1]) if ref else None, rest)


@dataclass
class Context:
    session: Session
    form: dict
    author: people.Author
    command: Command
    incident: Incident | None

    @property
    def base_url(self) -> str:
        return current_app.config["PUBLIC_BASE_URL"]

    @property
    def reply_to(self) -> ReplyTo:
        return ReplyTo(response_url=self.form.get("response_url"),
                       channel_id=self.form.get("channel_id"), user_id=self.form.get("user_id"))

    @property
    def in_incident_channel(self) -> bool:
        return bool(self.incident and self.incident.slack_channel_id
                    and self.incident.slack_channel_id == self.form.get("channel_id"))


def ephemeral(text: str, blocks: list | None = None) -> dict:
    answer: dict = {"response_type": "ephemeral", "text": text}
    if blocks:
        answer["blocks"] = [block.to_dict() for block in blocks]
    return answer


def _declare(ctx: Context) -> dict | None:
    severity, title = "SEV3", ctx.command.args
    word, rest = _take(title)
    if word.lower().startswith("sev") and SEVERITY.fullmatch(word):
        severity, title = word, rest
    reply = ctx.reply_to
    if not title:  # the form asks for the rest; it must open within Slack's trigger window
        metadata = modals.pack({"channel_id": ctx.form.get("channel_id"),
                                "response_url": ctx.form.get("response_url")})
        modals.open_soon(ctx.form.get("trigger_id"), build_declare_modal(metadata), reply,
                         "Or type it: `/incident declare <title>`.")
        return None
    incident = incidents.declare(
        session=ctx.session, title=title, severity=severity, source=Source.SLACK,
        declared_by=ctx.author.user, author_name=ctx.author.name,
        slack_channel=channel_request(ctx.form.get("user_id"), reply))
    ctx.session.commit()
    return ephemeral(f"Declared {incident_label(incident, ctx.base_url)}. Opening its channel…")


def channel_request(user_id: str | None, reply: ReplyTo) -> dict:
    """What the worker needs to open a declared incident's channel: whom to invite and tell."""
    return {"requested_by": user_id, "reply": reply.to_dict()}


def _note(ctx: Context) -> dict:
    if not ctx.command.args:
        raise Usage
    timeline.add_event(session=ctx.session, incident=ctx.incident, text=ctx.command.args,
                       author=ctx.author.user, author_name=ctx.author.name, source="slack")
    ctx.session.commit()
    return ephemeral(f"Noted on the timeline of {incident_label(ctx.incident, ctx.base_url)}.")


def _change(ctx: Context, changes: incidents.Changes, summary: str | None = None) -> dict:
    incident = ctx.incident
    before = {"severity": str(incident.severity), "status": str(incident.status)}
    incidents.update(session=ctx.session, incident=incident, changes=changes,
                     actor=ctx.author.user, author_name=ctx.author.name, source="slack",
                     summary=summary)
    ctx.session.commit()
    # The channel hears of it from the worker (the service queued the notice); this is the
    # answer to the person who typed it.
    lines = build_change_lines(
        [{"field": field, "old": old, "new": str(getattr(incident, field))}
         for field, old in before.items() if str(getattr(incident, field)) != old],
        ctx.author.name)
    text = (f"{incident_label(incident, ctx.base_url)}: " + ("; ".join(lines) if lines else
            f"already {incident.severity}, {incident.status}"))
    if not incident.is_open and lines:
        text += f"\nWrite the review: {review_url(ctx.base_url, incident.id)}"
    return ephemeral(text)


def _sev(ctx: Context) -> dict:
    if not SEVERITY.fullmatch(ctx.command.args):
        raise Usage
    return _change(ctx, incidents.Changes(severity=ctx.command.args))


def _status(ctx: Context) -> dict:
    status = ctx.command.args.lower()
    if status not in set(Status):
        raise Usage
    return _change(ctx, incidents.Changes(status=status))


def _resolve(ctx: Context) -> dict:
    return _change(ctx, incidents.Changes(status=Status.RESOLVED),
                   summary=ctx.command.args or None)


def _timeline(ctx: Context) -> dict:
    events = timeline.events_for(session=ctx.session, incident_id=ctx.incident.id)
    text, blocks = build_timeline(ctx.incident, events, ctx.base_url)
    return ephemeral(text, blocks)


def _review(ctx: Context) -> dict:
    return ephemeral(f"Review of {incident_label(ctx.incident, ctx.base_url)}: "
                     f"{review_url(ctx.base_url, ctx.incident.id)}")


def _prevent(ctx: Context) -> dict:
    text, kind = ctx.command.args, DEFAULT_PREVENTION_KIND
    named = PREVENT_KIND.fullmatch(text)
    if named:
        kind = KIND_WORDS[re.sub(r"[ _-]", "", named[1].lower())]
        text = named[2].strip()
    if not text:
        raise Usage
    incident = ctx.incident
    item = prevention.create_item(
        session=ctx.session, title=text, kind=kind,
        owner_team=incident.team.name if incident.team else None,
        actor=ctx.author.user, actor_label=ctx.author.name)
    prevention.link(session=ctx.session, incident=incident, item=item, actor=ctx.author.user,
                    actor_label=ctx.author.name)
    ctx.session.commit()
    strength = ("" if kind.structural else
                " It is not structural yet: in the review, make it eliminate, detect, "
                "fail_loudly or contain if it can be.")
    return ephemeral(f"Proposed prevention item {item.id} ({kind}) for "
                     f"{incident_label(incident, ctx.base_url)}.{strength}")


def _list(ctx: Context) -> dict:
    text, blocks = build_incident_list(
        incidents.open_incidents(session=ctx.session, limit=LIST_LIMIT), ctx.base_url)
    return ephemeral(text, blocks)


def _help(ctx: Context) -> dict:
    return ephemeral(build_help(current_app.config["SLACK_PIN_EMOJI"]))


@dataclass(frozen=True)
class Subcommand:
    run: Callable[[Context], dict | None]
    usage: str
    needs_incident: bool = True
    changes: bool = True


SUBCOMMANDS = {
    "declare": Subcommand(_declare, "declare [sev1-4] <title>", needs_incident=False),
    "note": Subcommand(_note, "note [#id] <text>"),
    "sev": Subcommand(_sev, "sev [#id] <1-4>"),
    "status": Subcommand(_status, "status [#id] <investigating|identified|monitoring|resolved>"),
    "resolve": Subcommand(_resolve, "resolve [#id] [summary]"),
    "timeline": Subcommand(_timeline, "timeline [#id]", changes=False),
    "review": Subcommand(_review, "review [#id]", changes=False),
    "prevent": Subcommand(_prevent, "prevent [#id] [kind:] <text>"),
    "list": Subcommand(_list, "list", needs_incident=False, changes=False),
    "help": Subcommand(_help, "help", needs_incident=False, changes=False),
}


def _usage(name: str | None = None) -> dict:
    if name in SUBCOMMANDS:
        return ephemeral(f"Usage: `/incident {SUBCOMMANDS[name].usage}`")
    names = " · ".join(SUBCOMMANDS)
    return ephemeral(f"Usage: `/incident <subcommand>` — {names}. `/incident help` explains.")


def _incident(session: Session, command: Command, channel_id: str | None) -> Incident | dict:
    if command.incident_id is not None:
        incident = session.get(Incident, command.incident_id)
        return incident or ephemeral(f"There is no incident #{command.incident_id}.")
    incident = incident_for_channel(session, channel_id)
    return incident or ephemeral(
        f"This is not an incident channel: name the incident, e.g. "
        f"`/incident {command.name} #12 …` (`/incident list` shows the open ones).")


def handle(form: dict, *, replay_key: str) -> dict | None:
    """Answer a slash command: a Slack message body, or None for an empty acknowledgement.

    `replay_key` names this signed request: a command that changes something is recorded under
    it, with its change, so the same request replayed is refused instead of acting twice.
    """
    command = parse(form.get("text") or "")
    sub = SUBCOMMANDS.get(command.name)
    if sub is None:
        return _usage()
    session = get_session()
    author = people.acting(session=session, slack_user_id=form.get("user_id"),
                           slack_name=form.get("user_name") or "")
    if sub.changes and not author.may_change:
        return ephemeral(author.refusal)
    incident = None
    if sub.needs_incident:
        found = _incident(session, command, form.get("channel_id"))
        if isinstance(found, dict):
            return found
        incident = found
    if sub.changes and not inbox.record_once(session=session, sender=COMMAND_SENDER,
                                             key=replay_key):
        session.rollback()
        return ephemeral("This command was already received; it was not run again.")
    try:
        return sub.run(Context(session, form, author, command, incident))
    except Usage:
        session.rollback()
        return _usage(command.name)
    except DomainError as exc:
        session.rollback()
        return ephemeral(f"{escape(exc.message)}. Usage: `/incident {sub.usage}`")
