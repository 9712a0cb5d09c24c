"""The delivery line: its stations, in order, and edits to it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth.models import User
from incidents.db import utcnow
from incidents.errors import Conflict, InvalidInput, NotFound
from incidents.line.models import Station, fold

# The line a new installation starts with (SPEC.md "The problem"); the first migration seeds it.
DEFAULT_LINE: list[tuple[str, str]] = [
    ("Editor and linter", "Syntax errors, type errors, obvious misuse caught while typing"),
    ("Pre-commit hooks", "Formatting, secrets, lint and schema checks before a commit lands"),
    ("CI unit tests", "Logic errors in a single unit"),
    ("CI integration tests", "Contract and integration errors between components"),
    ("CI build", "Build, packaging and compile-time errors"),
    ("CI security scan", "Known vulnerability patterns in our code"),
    ("CI dependency analysis", "Vulnerable, incompatible or unpinned dependencies"),
    ("Code review", "Design flaws, unclear intent, risky changes a person can spot"),
    ("Staging end-to-end tests", "Whole-system regressions, configuration and data errors"),
    ("Canary", "Errors that only show under production traffic, on a small slice"),
    ("Production rollout", "Rollout errors: bad config, migrations, capacity at full scale"),
    ("Production telemetry", "Anything left: alerts, SLOs, dashboards that show the defect"),
]


def stations(*, session: Session, include_removed: bool = False) -> list[Station]:
    query = select(Station).order_by(Station.position, Station.id)
    if not include_removed:
        query = query.where(Station.removed_at.is_(None))
    return list(session.scalars(query))


def get(*, session: Session, station_id: int) -> Station:
    station = session.get(Station, station_id)
    if station is None:
        raise NotFound(f"no station {station_id}", field="station_id")
    return station


def seed_default_line(*, session: Session) -> None:
    """Create the default line if there are no stations yet."""
    if session.scalar(select(func.count()).select_from(Station)):
        return
    for position, (name, catches) in enumerate(DEFAULT_LINE, start=1):
        session.add(Station(name=name, catches=catches, position=position))
    session.flush()


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a station needs a name", field="name")
    if len(name) > 120:
        raise InvalidInput("station name is longer than 120 characters", field="name")
    return name


def _refuse_taken(session: Session, name: str, station_id: int | None = None) -> None:
    """Refuse a name another station has (case and spacing aside), removed ones included."""
    other = session.scalar(select(Station).where(Station.name_key == fold(name),
                                                 Station.id != (station_id or 0)))
    if other is None:
        return
    if other.active:
        raise Conflict(f"the line already has a station named {other.name!r}", field="name")
    raise Conflict(f"{other.name!r} is a removed station: restore it to keep its findings and "
                   "items together", field="name", station_id=other.id)


def _flush_named(session: Session, station: Station) -> None:
    # The unique name_key decides between two admins saving the same name at once.
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"another station is already named {station.name!r}",
                       field="name") from None


def add_station(*, session: Session, name: str, catches: str = "",
                actor: User | None = None) -> Station:
    name = _clean_name(name)
    _refuse_taken(session, name)
    last = session.scalar(select(func.max(Station.position))) or 0
    station = Station(name=name, catches=(catches or "").strip(), position=last + 1)
    session.add(station)
    _flush_named(session, station)
    audit.record(session=session, action="station.added", entity_type="station",
                 entity_id=station.id, actor=actor, name=station.name)
    return station


def edit_station(*, session: Session, station_id: int, name: str, catches: str,
                 actor: User | None = None) -> Station:
    """Rename a station or say what it catches; published reviews keep the name they used."""
    station = get(session=session, station_id=station_id)
    old = station.name
    name = _clean_name(name)
    _refuse_taken(session, name, station.id)
    station.name = name
    station.catches = (catches or "").strip()
    _flush_named(session, station)
    audit.record(session=session, action="station.edited", entity_type="station",
                 entity_id=station.id, actor=actor, old_name=old, name=station.name)
    return station


def remove_station(*, session: Session, station_id: int, actor: User | None = None) -> Station:
    """Take a station off the line; findings and items that name it keep it."""
    station = get(session=session, station_id=station_id)
    if station.removed_at is None:
        station.removed_at = utcnow()
        audit.record(session=session, action="station.removed", entity_type="station",
                     entity_id=station.id, actor=actor, name=station.name)
    session.flush()
    return station


def restore_station(*, session: Session, station_id: int,
                    actor: User | None = None) -> Station:
    """Put a removed station back, at the end of the line, with all its history."""
    station = get(session=session, station_id=station_id)
    if station.active:
        return station
    last = session.scalar(select(func.max(Station.position))
                          .where(Station.removed_at.is_(None))) or 0
    station.removed_at = None
    station.position = last + 1
    session.flush()
    audit.record(session=session, action="station.restored", entity_type="station",
                 entity_id=station.id, actor=actor, name=station.name)
    return station


def move_station(*, session: Session, station_id: int, offset: int,
                 actor: User | None = None) -> None:
    """Move a station up (offset -1) or down (+1) the active line."""
    line = stations(session=session)
    index = next((i for i, s in enumerate(line) if s.id == station_id), None)
    if index is None:
        raise NotFound(f"no station {station_id} on the line")
    target = index + offset
    if not 0 <= target < len(line):
        return
    line.insert(target, line.pop(index))
    for position, station in enumerate(line, start=1):
        station.position = position
    session.flush()
    audit.record(session=session, action="station.moved", entity_type="station",
                 entity_id=station_id, actor=actor, offset=offset)
