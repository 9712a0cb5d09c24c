"""Prevention items (poka-yoke): create, link to incidents, and move through their states."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from incidents.audit import service as audit
from incidents.auth import service as auth
from incidents.auth.models import User
from incidents.errors import InvalidInput, NotFound
from incidents.incident.models import Incident
from incidents.line import service as line
from incidents.prevention.models import PreventionItem, PreventionKind, PreventionLink

MAX_TITLE = 300


def _kind(value) -> PreventionKind:
    try:
        return PreventionKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in PreventionKind)
        raise InvalidInput(f"kind must be one of {allowed}", field="kind") from None


def _url(value: str | None, field: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and not value.startswith(("https://", "http://")):
        raise InvalidInput(f"{field} must be an http(s) URL", field=field)
    return value


def create_item(
    *,
    session: Session,
    title: str,
    kind: PreventionKind | str,
    station_id: int | None = None,
    owner_team: str | None = None,
    due_date: date | None = None,
    tracker_url: str | None = None,
    description: str = "",
    actor: User | None = None,
    actor_label: str = "",
) -> PreventionItem:
    title = (title or "").strip()
    if not title:
        raise InvalidInput("a prevention item needs a title", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"title is longer than {MAX_TITLE} characters", field="title")
    if station_id is not None:
        line.get(session=session, station_id=station_id)
    item = PreventionItem(
        title=title,
        kind=_kind(kind),
        station_id=station_id,
        owner_team=auth.team_named(session=session, name=owner_team),
        due_date=due_date,
        tracker_url=_url(tracker_url, "tracker_url"),
        description=(description or "").strip(),
        created_by_id=actor.id if actor else None,
    )
    session.add(item)
    session.flush()
    audit.record(session=session, action="prevention.created", entity_type="prevention_item",
                 entity_id=item.id, actor=actor, actor_label=actor_label, kind=str(item.kind))
    return item


def get(*, session: Session, item_id: int) -> PreventionItem:
    item = session.get(PreventionItem, item_id)
    if item is None:
        raise NotFound(f"no prevention item {item_id}", field="id")
    return item


def link(
    *, session: Session, incident: Incident, item: PreventionItem, actor: User | None = None,
    actor_label: str = "",
) -> bool:
    """Link an item to an incident; return False when it was already linked."""
    try:
        with session.begin_nested():
            session.add(PreventionLink(incident_id=incident.id, prevention_item_id=item.id))
    except IntegrityError:
        return False
    audit.record(session=session, action="prevention.linked", entity_type="prevention_item",
                 entity_id=item.id, actor=actor, actor_label=actor_label, incident_id=incident.id)
    return True


def unlink(*, session: Session, incident: Incident, item: PreventionItem,
           actor: User | None = None) -> None:
    found = session.get(PreventionLink, (incident.id, item.id))
    if found is not None:
        session.delete(found)
        session.flush()
        audit.record(session=session, action="prevention.unlinked",
                     entity_type="prevention_item", entity_id=item.id, actor=actor,
                     incident_id=incident.id)


def items_for_incident(*, session: Session, incident_id: int) -> list[PreventionItem]:
    """The items linked to an incident, strongest first."""
    items = session.scalars(
        select(PreventionItem)
        .join(PreventionLink, PreventionLink.prevention_item_id == PreventionItem.id)
        .where(PreventionLink.incident_id == incident_id)
        .options(selectinload(PreventionItem.station), selectinload(PreventionItem.owner_team))
        .order_by(PreventionItem.id)
    )
    return sorted(items, key=lambda item: -item.strength)
