"""Block Kit builders: pure functions from domain objects to Slack messages and modals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from incidents.incident.models import Incident, Severity
from incidents.prevention.models import PreventionItem
from incidents.timeline.models import TimelineEvent

DECLARE_CALLBACK = "declare_incident"
PICK_INCIDENT_CALLBACK = "pin_to_incident"
PIN_SHORTCUT_CALLBACK = "add_to_timeline"
SECTION_LIMIT = 2900  # Slack allows 3000 characters in a section's text
TIMELINE_LINES = 40
EVENT_TEXT_LIMIT = 280

USAGE = """*`/incident` — declare and run incidents from Slack*
`declare [sev1-4] <title>` open an incident (no title: a form) and its channel
`note <text>` add a note to the timeline
`sev <1-4>` change the severity · `status <investigating|identified|monitoring|resolved>`
`resolve [summary]` resolve it · `timeline` show the timeline · `review` link the review
`prevent [kind:] <text>` propose a prevention item (kinds: eliminate, detect, fail_loudly, \
contain, local_fix, advice; default local_fix)
`list` open incidents · `help` this message
In an incident's channel commands act on that incident; elsewhere name it: \
`/incident note #12 db failover done`. React with :{emoji}: to put a message on the timeline."""


def escape(text: object) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup.

    Every builder passes every field people or tools wrote (titles, names, services, teams,
    notes) through here: `<!channel>` or `<http://evil|log in>` then reaches Slack as text.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_date(value: datetime) -> str:
    """A date and time Slack shows in the reader's own zone, with a UTC fallback."""
    value = value.astimezone(UTC)
    fallback = value.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(value.timestamp())}^{{date_num}} {{time}}|{fallback}>"


def incident_url(base_url: str, incident_id: int) -> str:
    return f"{base_url.rstrip('/')}/incidents/{incident_id}"


def review_url(base_url: str, incident_id: int) -> str:
    return incident_url(base_url, incident_id) + "/review"


def incident_label(incident: Incident, base_url: str) -> str:
    """`<link|#12> SEV2 Checkout errors` in mrkdwn."""
    return (f"<{incident_url(base_url, incident.id)}|#{incident.id}> "
            f"{escape(incident.severity)} {escape(incident.title)}")


def build_help(emoji: str) -> str:
    return USAGE.replace("{emoji}", emoji)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _chunks(lines: Sequence[str]) -> list[str]:
    chunks, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SECTION_LIMIT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line[:SECTION_LIMIT]
    if current:
        chunks.append(current)
    return chunks


def build_incident_list(incidents: Sequence[Incident], base_url: str) -> tuple[str, list]:
    if not incidents:
        return "No open incidents.", [_section("No open incidents. :tada:")]
    lines = [f"• {incident_label(i, base_url)} — {escape(i.status)}"
             + (f" · <#{i.slack_channel_id}>" if i.slack_channel_id else "") for i in incidents]
    header = f"*{len(incidents)} open incident{'s' if len(incidents) != 1 else ''}*"
    blocks = [_section(chunk) for chunk in _chunks([header, *lines])]
    return f"{len(incidents)} open incidents", blocks


def build_timeline(incident: Incident, events: Sequence[TimelineEvent],
                   base_url: str) -> tuple[str, list]:
    """The last events with their full date, newest last; a link to the rest."""
    shown = events[-TIMELINE_LINES:]
    lines = [f"*Timeline of {incident_label(incident, base_url)}* ({escape(incident.status)})"]
    if len(events) > len(shown):
        lines.append(f"_last {len(shown)} of {len(events)} events — all of them at "
                     f"{incident_url(base_url, incident.id)}_")
    for event in shown:
        text = " ".join(event.text.split())
        if len(text) > EVENT_TEXT_LIMIT:
            text = text[:EVENT_TEXT_LIMIT] + "…"
        who = f" — {escape(event.author_name)}" if event.author_name else ""
        lines.append(f"{slack_date(event.occurred_at)} · _{escape(event.kind)}_ {escape(text)}"
                     f"{who}")
    if not events:
        lines.append("_no events yet_")
    return f"Timeline of #{incident.id}", [_section(chunk) for chunk in _chunks(lines)]


def build_announcement(incident: Incident, base_url: str, declared_by: str) -> tuple[str, list]:
    text = (f":rotating_light: {incident_label(incident, base_url)} declared by "
            f"{escape(declared_by)}")
    details = [f"*Status* {escape(incident.status)}"]
    if incident.service:
        details.append(f"*Service* {escape(incident.service)}")
    if incident.slack_channel_id:
        details.append(f"*Channel* <#{incident.slack_channel_id}>")
    blocks = [_section(text), ContextBlock(elements=[MarkdownTextObject(text=" · ".join(details))])]
    if incident.description:
        blocks.insert(1, _section(escape(incident.description)[:SECTION_LIMIT]))
    return text, blocks


def build_change_lines(changes: Sequence[dict], by: str) -> list[str]:
    """`Severity SEV2 → *SEV1* (alice)` for each change the incident service recorded."""
    return [f"{escape(change['field']).capitalize()} {escape(change['old'])} → "
            f"*{escape(change['new'])}* ({escape(by)})" for change in changes]


def build_change_notice(incident: Incident, changes: Sequence[dict], by: str,
                        base_url: str) -> str:
    """A post for the incident channel: what changed, and the review link once resolved."""
    text = "\n".join([f"{incident_label(incident, base_url)}",
                      *build_change_lines(changes, by)])
    if not incident.is_open:
        text += (f"\nResolved. Write the blameless review: "
                 f"<{review_url(base_url, incident.id)}|which station should have caught this?>")
    return text


def build_item_notice(incident: Incident, item: PreventionItem, by: str, base_url: str) -> str:
    """A post for the incident channel: a prevention item proposed for it."""
    weak = "" if item.structural else ", not structural yet"
    return (f"{incident_label(incident, base_url)}\nPrevention item proposed by {escape(by)}: "
            f"<{base_url.rstrip('/')}/prevention/{item.id}|{escape(item.title)}> "
            f"({escape(item.kind).replace('_', ' ')}{weak})")


def build_reminder(team: str, items: Sequence[tuple[PreventionItem, list[int]]],
                   base_url: str) -> tuple[str, list]:
    """Overdue prevention items of one team, each with the incidents it serves."""
    base = base_url.rstrip("/")
    lines = [f":hourglass: *{escape(team)}* has {len(items)} overdue prevention "
             f"item{'s' if len(items) != 1 else ''}"]
    for item, incident_ids in items:
        served = ", ".join(f"<{incident_url(base, i)}|#{i}>" for i in incident_ids)
        lines.append(f"• {escape(item.title)} ({escape(item.kind)}, "
                     f"{escape(item.status)}) due {item.due_date.isoformat()}"
                     + (f" · for {served}" if served else ""))
    return lines[0], [_section(chunk) for chunk in _chunks(lines)]


def build_declare_modal(private_metadata: str) -> View:
    severities = [Option(text=str(s), value=str(s)) for s in Severity]
    return View(
        type="modal", callback_id=DECLARE_CALLBACK, private_metadata=private_metadata,
        title="Declare an incident", submit="Declare", close="Cancel",
        blocks=[
            InputBlock(block_id="title", label="Title",
                       element=PlainTextInputElement(action_id="value", max_length=300)),
            InputBlock(block_id="severity", label="Severity",
                       element=StaticSelectElement(action_id="value", options=severities,
                                                   initial_option=severities[2])),
            InputBlock(block_id="service", label="Service", optional=True,
                       element=PlainTextInputElement(action_id="value", max_length=200)),
            InputBlock(block_id="description", label="What is happening?", optional=True,
                       element=PlainTextInputElement(action_id="value", multiline=True)),
        ],
    )


def build_pick_incident_modal(private_metadata: str,
                              open_incidents: Sequence[Incident]) -> View:
    """Ask which incident a message belongs to; open ones are listed as a hint."""
    hint = ("Open: " + ", ".join(f"#{i.id} {escape(i.title)}" for i in open_incidents[:10])
            if open_incidents else "No incident is open; any incident number works.")
    return View(
        type="modal", callback_id=PICK_INCIDENT_CALLBACK, private_metadata=private_metadata,
        title="Add to incident timeline", submit="Add", close="Cancel",
        blocks=[
            InputBlock(block_id="incident", label="Incident number",
                       element=PlainTextInputElement(action_id="value", placeholder="#12")),
            ContextBlock(elements=[MarkdownTextObject(text=hint[:SECTION_LIMIT])]),
        ],
    )
