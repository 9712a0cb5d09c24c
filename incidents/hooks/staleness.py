"""Paging incidents that went quiet: no firing alert seen for a sender's configured time.

An alert that resolves while silenced, or a group that resolves while Linecheck is down,
never sends its resolve. Alertmanager and Grafana repeat a firing group every
`repeat_interval`, and every delivery carrying a firing alert (a repeat too) is a signal; so
an open incident without one for longer than the sender's `stale_after_hours` is stale. It is
flagged on the incident page and in the list; the sender's rule (`resolve_stale`) resolves
it, and so can anyone by hand. A new firing for its dedup key opens a new incident instead of
joining it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from incidents.db import as_utc, utcnow
from incidents.hooks.models import PagingSignal, SenderSettings
from incidents.hooks.tools import registry
from incidents.incident import service as incidents
from incidents.incident.models import Incident, Status
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind

_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
SWEEP_BATCH = 200


def default_hours(sender: str) -> int | None:
    """The sender's stale time before an admin sets one: its tool's, else never."""
    tool = registry().get(sender)
    return getattr(tool, "STALE_AFTER_HOURS", None) if tool else None


def hours_for(settings: SenderSettings | None, sender: str) -> int | None:
    return settings.stale_after_hours if settings is not None else default_hours(sender)


@dataclass(frozen=True)
class Quiet:
    """An open paging incident whose sender went quiet."""

    sender: str
    last_firing_at: datetime
    stale_after_hours: int

    @property
    def stale_since(self) -> datetime:
        return self.last_firing_at + timedelta(hours=self.stale_after_hours)


def _quiet(last_firing_at: datetime, hours: int | None, now: datetime) -> bool:
    return bool(hours) and now - as_utc(last_firing_at) > timedelta(hours=hours)


def signal(*, session: Session, incident: Incident, sender: str, at: datetime) -> None:
    """Record that the sender says the incident's alerts fire (never moving the time back)."""
    insert = _UPSERTS[session.get_bind().dialect.name](PagingSignal)
    later = insert.excluded.last_firing_at
    session.execute(
        insert.values(incident_id=incident.id, sender=sender, last_firing_at=at)
        .on_conflict_do_update(index_elements=["incident_id"],
                               set_={"last_firing_at": later},
                               where=PagingSignal.last_firing_at < later))


def quiet_incident(*, session: Session, incident: Incident, settings: SenderSettings | None,
                   sender: str, now: datetime | None = None) -> Quiet | None:
    """The incident's quiet state when it is open and stale, else None."""
    if not incident.is_open:
        return None
    hours = hours_for(settings, sender)
    row = session.get(PagingSignal, incident.id) if hours else None
    if row is None or not _quiet(row.last_firing_at, hours, now or utcnow()):
        return None
    return Quiet(sender, as_utc(row.last_firing_at), hours)


def quiet_among(*, session: Session, incidents_shown: list[Incident]) -> dict[int, Quiet]:
    """Which of these incidents are stale, in one query whatever their number."""
    open_ids = [i.id for i in incidents_shown if i.status != Status.RESOLVED]
    rows = session.execute(
        select(PagingSignal.incident_id, PagingSignal.sender, PagingSignal.last_firing_at,
               SenderSettings.sender.label("saved"), SenderSettings.stale_after_hours)
        .outerjoin(SenderSettings, SenderSettings.sender == PagingSignal.sender)
        .where(PagingSignal.incident_id.in_(open_ids))
    ).all() if open_ids else []
    now = utcnow()
    flags = {}
    for row in rows:
        hours = row.stale_after_hours if row.saved else default_hours(row.sender)
        if _quiet(row.last_firing_at, hours, now):
            flags[row.incident_id] = Quiet(row.sender, as_utc(row.last_firing_at), hours)
    return flags


def resolve_quiet(*, session: Session, incident: Incident, quiet: Quiet, by: str,
                  source: str) -> None:
    """Resolve a stale incident as of its last firing alert."""
    incidents.resolve(
        session=session, incident=incident,
        resolved_at=max(quiet.last_firing_at, incident.started_at),
        summary=f"no firing alert from {quiet.sender} since "
                f"{quiet.last_firing_at:%Y-%m-%d %H:%M} UTC; resolved as stale",
        author_name=by, source=source)


def set_aside(*, session: Session, incident: Incident, quiet: Quiet, sender: str) -> None:
    """Stop a stale incident from taking new alerts: its dedup key is free for a new one.

    It stays open, flagged, for a person (or the sender's rule) to resolve.
    """
    incident.open_dedup_key = None
    session.flush()
    timeline.add_event(
        session=session, incident=incident, kind=EventKind.ACTION, source=sender,
        author_name=sender,
        text=f"{sender} fired again after going quiet (no firing alert since "
             f"{quiet.last_firing_at:%Y-%m-%d %H:%M} UTC): new alerts open a new incident")


def sweep(*, session: Session, sender: str, settings: SenderSettings,
          now: datetime | None = None) -> list[Incident]:
    """Apply the sender's rule: resolve its stale open incidents (a batch at a time)."""
    if not (settings.resolve_stale and settings.stale_after_hours):
        return []
    cutoff = (now or utcnow()) - timedelta(hours=settings.stale_after_hours)
    stale = session.execute(
        select(Incident, PagingSignal.last_firing_at)
        .join(PagingSignal, PagingSignal.incident_id == Incident.id)
        .where(PagingSignal.sender == sender, PagingSignal.last_firing_at < cutoff,
               Incident.status != Status.RESOLVED)
        .order_by(Incident.id).limit(SWEEP_BATCH)
        # Rows another delivery holds are left for a later sweep: no lock waits, no deadlock.
        .with_for_update(of=Incident, skip_locked=True)
    ).all()
    for incident, last_firing_at in stale:
        session.execute(delete(PagingSignal).where(PagingSignal.incident_id == incident.id))
        resolve_quiet(session=session, incident=incident, by=sender, source=sender,
                      quiet=Quiet(sender, as_utc(last_firing_at), settings.stale_after_hours))
    return [incident for incident, _ in stale]
