"""Prevention items (poka-yoke): create, link to incidents, and move through their states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, exists, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from incidents.audit import service as audit
from incidents.auth import service as auth
from incidents.auth.models import Team, User
from incidents.db import utcnow
from incidents.errors import Conflict, InvalidInput, NotFound, Refused, parse_choice
from incidents.guard import health as guard_health
from incidents.guard import service as guards
from incidents.guard.models import Health
from incidents.incident import service as incidents
from incidents.incident.models import Incident
from incidents.line import service as line
from incidents.outbox import service as outbox
from incidents.prevention.models import (
    GUARDED_KINDS,
    STRUCTURAL_KINDS,
    Outcome,
    PreventionItem,
    PreventionKind,
    PreventionLink,
    PreventionStatus,
)
from incidents.report.sql import dialect

MAX_TITLE = 300
ITEM_NOTICE = "slack.prevention"  # carried out by slackbot/jobs.py


def _kind(value) -> PreventionKind:
    return parse_choice(PreventionKind, value, "kind")


def _text(value: str | None) -> str:
    """Stripped text without NUL characters, which PostgreSQL text cannot hold."""
    return (value or "").replace("\x00", "").strip()


def _url(value: str | None, field: str) -> str | None:
    value = _text(value) or None
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
    title = _text(title)
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
        owner_team=auth.team_named(session=session, name=_text(owner_team), field="owner_team"),
        due_date=due_date,
        tracker_url=_url(tracker_url, "tracker_url"),
        description=_text(description),
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
    if incident.is_open and incidents.has_slack_channel(incident):
        # Responders hear in the incident's channel of a poka-yoke proposed while it is open.
        outbox.enqueue(session=session, kind=ITEM_NOTICE,
                       key=f"incident:{incident.id}:item:{item.id}", incident_id=incident.id,
                       payload={"item_id": item.id,
                                "by": actor_label or (actor.display_name if actor else "")})
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


# The moves a status may make. Forward along proposed → committed → in progress → done, or
# dropped from any open state; back-moves only where real work goes back: un-commit, pause,
# reopen a done item whose guard proved incomplete, revive a dropped idea. A done item is never
# dropped directly (reopen it first), so held/escaped accounting cannot be hidden by a drop.
TRANSITIONS: dict[PreventionStatus, frozenset[PreventionStatus]] = {
    PreventionStatus.PROPOSED: frozenset({PreventionStatus.COMMITTED, PreventionStatus.IN_PROGRESS,
                                          PreventionStatus.DONE, PreventionStatus.DROPPED}),
    PreventionStatus.COMMITTED: frozenset({PreventionStatus.PROPOSED, PreventionStatus.IN_PROGRESS,
                                           PreventionStatus.DONE, PreventionStatus.DROPPED}),
    PreventionStatus.IN_PROGRESS: frozenset({PreventionStatus.COMMITTED, PreventionStatus.DONE,
                                             PreventionStatus.DROPPED}),
    PreventionStatus.DONE: frozenset({PreventionStatus.IN_PROGRESS}),
    PreventionStatus.DROPPED: frozenset({PreventionStatus.PROPOSED}),
}
_UNSET = object()


def _status(value) -> PreventionStatus:
    return parse_choice(PreventionStatus, value, "status")


def next_statuses(item: PreventionItem) -> list[PreventionStatus]:
    """The statuses this item may move to, in the line's order."""
    allowed = TRANSITIONS[PreventionStatus(item.status)]
    return [status for status in PreventionStatus if status in allowed]


def update(
    *,
    session: Session,
    item: PreventionItem,
    status: PreventionStatus | str | None = None,
    guard=_UNSET,
    guard_url=_UNSET,
    dropped_reason: str | None = None,
    base_revision: int | None = None,
    actor: User | None = None,
    actor_label: str = "",
    now: datetime | None = None,
) -> PreventionItem:
    """Set the guard and/or move the item to `status`, enforcing the allowed transitions.

    `guard` is a `guard.service.GuardSpec` (None removes it); `guard_url`, kept for older
    clients, is read into one (guard.service.spec_from_url), an empty one removes it. Left
    out, the guard stays. Marking an eliminate, detect or fail-loudly item done needs its
    guard; dropping needs a reason. Every change lands in the audit log, which is the item's
    history. With `base_revision`, a stale one raises StaleItem (older clients send none).
    """
    record = {"session": session, "entity_type": "prevention_item", "entity_id": item.id,
              "actor": actor, "actor_label": actor_label}
    claim(session=session, item=item, base_revision=base_revision)
    if guard_url is not _UNSET:
        guard = guards.spec_from_url(session=session, url=guard_url) if _text(guard_url) else None
    if guard is not _UNSET and guards.set_guard(session=session, item=item, given=guard):
        audit.record(action="prevention.guard_set", guard_url=item.guard_url or "",
                     guard=item.guard.describe() if item.guard else "", **record)
    old = PreventionStatus(item.status)
    target = _status(status) if status is not None else old
    if target != old:
        _move(item, old, target, dropped_reason, now or utcnow())
        extra = {"reason": item.dropped_reason} if target == PreventionStatus.DROPPED else {}
        audit.record(action="prevention.status_changed", old=str(old), new=str(target),
                     **extra, **record)
    _refuse_done_without_guard(item)
    session.flush()
    return item


def _refuse_done_without_guard(item: PreventionItem) -> None:
    if item.status == PreventionStatus.DONE and item.kind in GUARDED_KINDS and item.guard is None:
        kind = PreventionKind(item.kind).value.replace("_", "-")
        article = "an" if kind[0] in "aeiou" else "a"
        raise Refused(
            f"name its guard before marking {article} {kind} item done: the check, test, "
            "constraint or alert that fails if the defect comes back", field="guard_url")


class StaleItem(Conflict):
    """An edit based on an older revision; `current` is the item as it now stands."""

    def __init__(self, current: PreventionItem, base_revision: int):
        super().__init__(
            f"This item changed while you were editing: revision {current.revision} is "
            f"current, you started from revision {base_revision}. Nothing was overwritten.",
            field="revision")
        self.current = current


def claim(*, session: Session, item: PreventionItem, base_revision: int | None) -> None:
    """Move the item to its next revision: from `base_revision` only, when one is given.

    The WHERE on the revision is the lock, as for reviews: of two edits from the same
    revision, one matches and the other raises StaleItem, whatever runs at once.
    """
    session.flush()
    query = sql_update(PreventionItem).where(PreventionItem.id == item.id)
    if base_revision is not None:
        query = query.where(PreventionItem.revision == base_revision)
    row = session.execute(
        query.values(revision=PreventionItem.revision + 1)
        .returning(PreventionItem.revision).execution_options(synchronize_session=False)
    ).first()
    if row is None:
        session.refresh(item)
        raise StaleItem(item, base_revision)
    set_committed_value(item, "revision", row[0])


def edit(
    *,
    session: Session,
    item: PreventionItem,
    base_revision: int,
    title=_UNSET,
    description=_UNSET,
    kind=_UNSET,
    station_id=_UNSET,
    owner_team=_UNSET,
    due_date=_UNSET,
    assignee=_UNSET,
    reason: str | None = None,
    actor: User | None = None,
    actor_label: str = "",
) -> PreventionItem:
    """Change what the item says, if `base_revision` is current; fields left out stay.

    `owner_team` is a team's name and `assignee` a user's email (None clears either). Moving
    a due date that was set needs a `reason`; the old date and the reason go into the item's
    history with every other change. Raises StaleItem when someone changed the item since.
    """
    changes: dict[str, tuple] = {}

    def change(field: str, new, shown_old, shown_new) -> None:
        if shown_old != shown_new:
            changes[field] = (new, shown_old, shown_new)

    if title is not _UNSET:
        title = _text(title)
        if not title:
            raise InvalidInput("a prevention item needs a title", field="title")
        if len(title) > MAX_TITLE:
            raise InvalidInput(f"title is longer than {MAX_TITLE} characters", field="title")
        change("title", title, item.title, title)
    if description is not _UNSET:
        description = _text(description)
        change("description", description, item.description or "", description)
    if kind is not _UNSET:
        kind = _kind(kind)
        change("kind", kind, str(item.kind), str(kind))
    if station_id is not _UNSET:
        station = line.get(session=session, station_id=station_id) if station_id else None
        if station is not None and station.id != item.station_id and not station.active:
            raise InvalidInput(f"station {station.name!r} is no longer on the line",
                               field="station_id")
        change("station", station, item.station.name if item.station else "",
               station.name if station else "")
    if owner_team is not _UNSET:
        team = auth.team_named(session=session, name=_text(owner_team))
        change("owner_team", team, item.owner_team.name if item.owner_team else "",
               team.name if team else "")
    if assignee is not _UNSET:
        email = _text(assignee)
        user = auth.user_by_email(session=session, email=email) if email else None
        if user is not None and user.id != item.assignee_id and not user.active:
            raise InvalidInput(f"{user.email} is deactivated", field="assignee")
        change("assignee", user, item.assignee.email if item.assignee else "",
               user.email if user else "")
    rescheduled = None
    if due_date is not _UNSET and due_date != item.due_date:
        if item.due_date is not None:
            rescheduled = _text(reason)
            if not rescheduled:
                raise Refused("moving a due date needs a reason", field="reason")
        change("due_date", due_date, _iso(item.due_date), _iso(due_date))
    if not changes:
        return item
    claim(session=session, item=item, base_revision=base_revision)
    for field, (new, _old, _new) in changes.items():
        setattr(item, field, new)
    _refuse_done_without_guard(item)
    session.flush()
    record = {"session": session, "entity_type": "prevention_item", "entity_id": item.id,
              "actor": actor, "actor_label": actor_label}
    if rescheduled is not None:
        old_date, new_date = changes.pop("due_date")[1:]
        audit.record(action="prevention.rescheduled", old=old_date, new=new_date or "none",
                     reason=rescheduled, **record)
    if changes:
        audit.record(action="prevention.edited",
                     changes={field: [old, new] for field, (_v, old, new) in changes.items()},
                     **record)
    return item


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _move(item: PreventionItem, old: PreventionStatus, target: PreventionStatus,
          dropped_reason: str | None, now: datetime) -> None:
    if target not in TRANSITIONS[old]:
        allowed = ", ".join(s.value for s in PreventionStatus if s in TRANSITIONS[old])
        raise Refused(f"a {old.value} item cannot move to {target.value}; it may move to "
                      f"{allowed}", field="status")
    if target == PreventionStatus.DROPPED:
        reason = _text(dropped_reason)
        if not reason:
            raise Refused("dropping an item needs a reason", field="dropped_reason")
        item.dropped_reason = reason
    elif old == PreventionStatus.DROPPED:
        item.dropped_reason = None
    if target == PreventionStatus.DONE:
        item.completed_at = now  # update() then checks the guard a done item needs
    elif old == PreventionStatus.DONE:
        item.completed_at = None  # reopened: the next done starts a new watch window
    item.status = target


def strength_expr() -> ColumnElement[int]:
    return case({k.value: k.strength for k in PreventionKind}, value=PreventionItem.kind,
                else_=0)


def structural_clause() -> ColumnElement[bool]:
    return PreventionItem.kind.in_([k.value for k in STRUCTURAL_KINDS])


def _done_not_escaped() -> ColumnElement[bool]:
    return and_(PreventionItem.status == PreventionStatus.DONE,
                PreventionItem.escaped_at.is_(None), PreventionItem.completed_at.is_not(None))


def quiet_clause(now: datetime, watch_window_days: int) -> ColumnElement[bool]:
    """Done, its watch window over, never escaped: held or unverified, as its guard says."""
    since = now - timedelta(days=watch_window_days)
    return and_(_done_not_escaped(), PreventionItem.completed_at <= since)


def outcome_clause(outcome: Outcome | str, now: datetime, watch_window_days: int,
                   sql: str) -> ColumnElement[bool]:
    if outcome in (Outcome.HELD, Outcome.UNVERIFIED):
        verified = PreventionItem.id.in_(guard_health.verified_item_ids(
            now=now, watch_window_days=watch_window_days, sql=sql))
        return and_(quiet_clause(now, watch_window_days),
                    verified if outcome == Outcome.HELD else ~verified)
    since = now - timedelta(days=watch_window_days)
    return {
        Outcome.ESCAPED: PreventionItem.escaped_at.is_not(None),
        Outcome.WATCHING: and_(_done_not_escaped(), PreventionItem.completed_at > since),
    }[Outcome(outcome)]


@dataclass
class ItemFilter:
    team: str | None = None
    status: str | None = None
    kind: str | None = None
    strength: int | None = None
    station_id: int | None = None
    overdue: bool | None = None
    outcome: str | None = None
    incident_id: int | None = None
    guard_health: str | None = None  # a guard.models.Health value, or "broken"


def filtered(query: Select, filters: ItemFilter, *, today: date, now: datetime,
             watch_window_days: int, session: Session) -> Select:
    """Apply the board's and the API's filters to a query over PreventionItem."""
    if filters.team:
        query = query.where(PreventionItem.owner_team_id.in_(
            select(Team.id).where(Team.name == _text(filters.team))))
    if filters.status:
        query = query.where(PreventionItem.status == _status(filters.status))
    if filters.kind:
        query = query.where(PreventionItem.kind == _kind(filters.kind))
    if filters.strength is not None:
        kinds = [k.value for k in PreventionKind if k.strength == filters.strength]
        if not kinds:
            raise InvalidInput("strength must be 0 (advice) to 5 (eliminate)", field="strength")
        query = query.where(PreventionItem.kind.in_(kinds))
    if filters.station_id is not None:
        query = query.where(PreventionItem.station_id == filters.station_id)
    if filters.overdue is not None:
        clause = PreventionItem.is_overdue(today)
        query = query.where(clause if filters.overdue else ~clause)
    if filters.outcome:
        outcome = parse_choice(Outcome, filters.outcome, "outcome")
        query = query.where(outcome_clause(outcome, now, watch_window_days, dialect(session)))
    if filters.guard_health:
        health = filters.guard_health
        if health != "broken":
            health = parse_choice(Health, health, "guard_health").value
        query = query.where(PreventionItem.id.in_(guard_health.items_in_health(
            session, health=health, now=now, watch_window_days=watch_window_days)))
    if filters.incident_id is not None:
        query = query.where(exists().where(
            PreventionLink.prevention_item_id == PreventionItem.id,
            PreventionLink.incident_id == filters.incident_id))
    return query


def _loaded(query: Select) -> Select:
    return query.options(selectinload(PreventionItem.station),
                         selectinload(PreventionItem.owner_team),
                         selectinload(PreventionItem.links),
                         selectinload(PreventionItem.tracker_link))


def search(*, session: Session, filters: ItemFilter, today: date, now: datetime,
           watch_window_days: int, before: int | None = None,
           limit: int = 50) -> tuple[list[PreventionItem], int | None]:
    """Items newest first, a page at a time (keyset on id); the cursor is None at the end."""
    query = filtered(_loaded(select(PreventionItem)), filters, today=today, now=now,
                     watch_window_days=watch_window_days, session=session
                     ).order_by(PreventionItem.id.desc())
    if before is not None:
        query = query.where(PreventionItem.id < before)
    rows = list(session.scalars(query.limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def board(*, session: Session, filters: ItemFilter, today: date, now: datetime,
          watch_window_days: int, team_id: int | None = None, page: int = 1,
          per_page: int = 50) -> tuple[list[PreventionItem], bool]:
    """The board: the viewer's team's items first, open before closed, soonest due first.

    Returns one page and whether another follows.
    """
    open_first = case((PreventionItem.status.in_(
        [PreventionStatus.DONE, PreventionStatus.DROPPED]), 1), else_=0)
    order = [open_first, PreventionItem.due_date.is_(None), PreventionItem.due_date,
             PreventionItem.id.desc()]
    if team_id is not None:
        order.insert(0, case((PreventionItem.owner_team_id == team_id, 0), else_=1))
    query = filtered(_loaded(select(PreventionItem)), filters, today=today, now=now,
                     watch_window_days=watch_window_days, session=session).order_by(*order)
    rows = list(session.scalars(query.offset((max(page, 1) - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def incidents_of(*, session: Session, item_id: int) -> list[Incident]:
    """The incidents an item serves, newest first."""
    return list(session.scalars(
        select(Incident).join(PreventionLink, PreventionLink.incident_id == Incident.id)
        .where(PreventionLink.prevention_item_id == item_id).order_by(Incident.started_at.desc())
    ))


def history(*, session: Session, item_id: int):
    """The item's history: its audit entries, oldest first."""
    return audit.history(session=session, entity_type="prevention_item", entity_id=item_id)


def escapable(*, session: Session, earlier_incident_id: int,
              incident: Incident) -> list[PreventionItem]:
    """The structural items of the earlier incident done before `incident` started, not yet
    escaped: what confirming `incident` as its recurrence marks escaped."""
    return list(session.scalars(
        select(PreventionItem)
        .join(PreventionLink, PreventionLink.prevention_item_id == PreventionItem.id)
        .where(PreventionLink.incident_id == earlier_incident_id, structural_clause(),
               PreventionItem.status == PreventionStatus.DONE,
               PreventionItem.completed_at < incident.started_at,
               PreventionItem.escaped_at.is_(None))
        .order_by(PreventionItem.id)
    ))


def mark_escaped(*, session: Session, earlier_incident_id: int, incident: Incident,
                 actor: User | None = None, now: datetime | None = None) -> list[PreventionItem]:
    """Mark escaped the structural items of the earlier incident that were done before
    `incident` started: the poka-yoke was in place and the defect came back anyway."""
    items = escapable(session=session, earlier_incident_id=earlier_incident_id,
                      incident=incident)
    for item in items:
        item.escaped_at = now or utcnow()
        item.escaped_by_incident_id = incident.id
        audit.record(session=session, action="prevention.escaped",
                     entity_type="prevention_item", entity_id=item.id, actor=actor,
                     incident_id=incident.id, earlier_incident_id=earlier_incident_id)
    session.flush()
    return items
