"""Append to and edit an incident's timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from incidents.auth.models import User
from incidents.db import as_utc, utcnow
from incidents.errors import InvalidInput, NotFound, Refused, parse_choice
from incidents.incident import search
from incidents.incident.models import Incident
from incidents.once import insert_once
from incidents.timeline.models import EventKind, TimelineEvent, TimelineEventRevision

MAX_TEXT = 20_000
# What people wrote may be corrected; what the system or a paging tool recorded (alerts, status
# changes, deploys, the resolution) is evidence and stays as it was.
EDITABLE_KINDS = frozenset({EventKind.NOTE, EventKind.MESSAGE, EventKind.ACTION})


def add_event(
    *,
    session: Session,
    incident: Incident,
    text: str,
    kind: EventKind | str = EventKind.NOTE,
    occurred_at: datetime | None = None,
    author: User | None = None,
    author_name: str = "",
    source: str = "web",
    link: str | None = None,
    external_key: str | None = None,
    fingerprint: str | None = None,
) -> TimelineEvent | None:
    """Append an event. With an `external_key` already on this incident, add nothing, return None.

    The duplicate check is the database's unique constraint, as INSERT … ON CONFLICT DO
    NOTHING: two concurrent deliveries of the same event cannot both land, the caller's
    transaction survives the refused one, and no savepoint is needed.
    """
    values = _row(incident, text=text, kind=kind, occurred_at=occurred_at, author=author,
                  author_name=author_name, source=source, link=link,
                  external_key=external_key, fingerprint=fingerprint)
    if incident.id is None:
        session.flush()
        values["incident_id"] = incident.id
    # One Core INSERT … RETURNING id instead of the unit of work: timelines take bursts of
    # events (alert storms, a channel full of notes), and this is their hot path.
    event_id = session.scalar(_insert(session, once=external_key is not None), values)
    if event_id is None:
        return None
    search.note_timeline(session=session, incident_id=values["incident_id"],
                         texts=[values["text"]])
    event = TimelineEvent(id=event_id, **values)
    # The row is written: the object joins the session as loaded, not as new.
    make_transient_to_detached(event)
    session.add(event)
    set_committed_value(event, "incident", incident)
    set_committed_value(event, "revisions", [])  # new: nothing to load
    return event


def add_events(*, session: Session, incident: Incident, events: list[dict]) -> int:
    """Append several events (each `add_event`'s keywords) in one INSERT; return how many
    landed. Those whose `external_key` is already on the incident are skipped."""
    if not events:
        return 0
    rows = [_row(incident, **event) for event in events]
    landed = len(session.execute(_insert(session, once=True), rows).all())
    if landed:
        search.note_timeline(session=session, incident_id=incident.id,
                             texts=[row["text"] for row in rows])
    return landed


def _row(incident: Incident, *, text: str, kind: EventKind | str = EventKind.NOTE,
         occurred_at: datetime | None = None, author: User | None = None,
         author_name: str = "", source: str = "web", link: str | None = None,
         external_key: str | None = None, fingerprint: str | None = None) -> dict:
    """A checked timeline row, every column given (rows of one INSERT share their keys)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("text must not be empty", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"text is longer than {MAX_TEXT} characters", field="text")
    kind = parse_choice(EventKind, kind, "kind")
    now = utcnow()
    return dict(
        incident_id=incident.id,
        text=text,
        kind=kind,
        occurred_at=as_utc(occurred_at) or now,
        author_id=author.id if author else None,
        author_name=author_name or (author.display_name if author else ""),
        source=source,
        link=link,
        external_key=external_key,
        fingerprint=fingerprint,
        created_at=now,
        edited_at=None,
    )


_TABLE = TimelineEvent.__table__
_INSERT = insert(_TABLE).returning(_TABLE.c.id)


def _insert(session: Session, *, once: bool):
    if not once:
        return _INSERT
    return insert_once(session, _TABLE, "incident_id", "external_key", returning=_TABLE.c.id)


def edit_event(
    *, session: Session, event_id: int, text: str, editor: User | None = None
) -> TimelineEvent:
    """Replace the text of a note, message or action, keeping the earlier text as a revision
    that records who replaced it."""
    event = session.get(TimelineEvent, event_id)
    if event is None:
        raise NotFound(f"no timeline event {event_id}")
    if event.kind not in EDITABLE_KINDS:
        raise Refused(f"a {event.kind.replace('_', ' ')} event cannot be edited; add a note "
                      "instead", field="kind")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("text must not be empty", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"text is longer than {MAX_TEXT} characters", field="text")
    if text == event.text:
        return event
    session.add(
        TimelineEventRevision(
            event=event, text=event.text, replaced_by_id=editor.id if editor else None
        )
    )
    event.text = text
    event.edited_at = utcnow()
    session.flush()
    search.note_timeline(session=session, incident_id=event.incident_id, texts=[text])
    return event


def events_for(*, session: Session, incident_id: int, limit: int | None = None,
               after_id: int | None = None) -> list[TimelineEvent]:
    """The incident's events in time order, authors loaded up front (no query per row)."""
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident_id)
        .options(selectinload(TimelineEvent.author),
                 selectinload(TimelineEvent.revisions).selectinload(
                     TimelineEventRevision.replaced_by))
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    )
    if after_id is not None:
        anchor = session.get(TimelineEvent, after_id)
        if anchor is not None:
            query = query.where(
                (TimelineEvent.occurred_at > anchor.occurred_at)
                | ((TimelineEvent.occurred_at == anchor.occurred_at)
                   & (TimelineEvent.id > anchor.id))
            )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
