"""Apply paging-tool events: record the delivery once, open or join incidents, feed timelines.

Exactly once is the database's job, never a check-then-insert: the unique (sender,
delivery_key) of `deliveries` refuses a repeated delivery, the unique (source, open_dedup_key)
of `incidents` refuses a second open incident for one dedup key, and the unique (incident,
external_key) of `timeline_events` refuses a second copy of one event. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth import service as auth
from incidents.auth.models import Team, User
from incidents.db import as_utc, utcnow
from incidents.errors import InvalidInput
from incidents.hooks.events import (
    MAX_TEXT,
    MAX_TITLE,
    Action,
    HookEvent,
    clip,
    fit_key,
    link_or_none,
)
from incidents.hooks.models import SenderSettings
from incidents.inbox import service as inbox
from incidents.incident import service as incidents
from incidents.incident.models import DetectionMethod, Incident, Severity
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind, TimelineEvent

MAX_SERVICE_MAPPINGS = 500


@dataclass
class Outcome:
    """What a delivery did: `applied`, `duplicate` (seen before) or `ignored` (nothing to do)."""

    status: str
    message: str = ""
    incident_ids: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    # (incident id, status before) of incidents this delivery resolved, for change notices.
    resolved: list[tuple[int, str]] = field(default_factory=list)
    events_added: int = 0

    @property
    def changed(self) -> bool:
        return self.status == "applied"

    def to_dict(self) -> dict:
        return {"status": self.status, "message": self.message,
                "incidents": self.incident_ids, "opened": self.opened,
                "events_added": self.events_added}


# --- settings ---------------------------------------------------------------------------------

def settings_for(*, session: Session, sender: str) -> SenderSettings:
    """The sender's settings, or the defaults (not added to the session) when none are saved."""
    saved = session.get(SenderSettings, sender)
    if saved is not None:
        return saved
    return SenderSettings(sender=sender, enabled=True, default_severity=str(Severity.SEV3),
                          default_team_id=None, service_teams={})


def save_settings(
    *,
    session: Session,
    sender: str,
    enabled: bool,
    default_severity: str,
    default_team: str | None,
    service_teams: dict[str, str],
    actor: User | None = None,
) -> SenderSettings:
    """Save a sender's settings. Teams named here are created now, not during a delivery."""
    severity = incidents.parse_severity(default_severity)
    if len(service_teams) > MAX_SERVICE_MAPPINGS:
        raise InvalidInput(f"at most {MAX_SERVICE_MAPPINGS} service mappings",
                           field="service_teams")
    cleaned: dict[str, str] = {}
    for service_name, team_name in service_teams.items():
        service_name, team_name = service_name.strip(), team_name.strip()
        if not service_name or not team_name:
            raise InvalidInput("each mapping needs a service and a team", field="service_teams")
        if len(service_name) > 200 or len(team_name) > 100:
            raise InvalidInput("service names are at most 200 characters, team names 100",
                               field="service_teams")
        cleaned[service_name] = auth.team_named(session=session, name=team_name).name
    settings = session.get(SenderSettings, sender)
    if settings is None:
        settings = SenderSettings(sender=sender)
        session.add(settings)
    settings.enabled = enabled
    settings.default_severity = str(severity)
    team = auth.team_named(session=session, name=default_team) if default_team else None
    settings.default_team_id = team.id if team else None
    settings.service_teams = cleaned
    session.flush()
    audit.record(session=session, action="hooks.settings_saved", entity_type="sender_settings",
                 entity_id=None, actor=actor, sender=sender, enabled=enabled,
                 default_severity=str(severity), default_team=default_team or "",
                 service_teams=cleaned)
    return settings


def _team_for(session: Session, settings: SenderSettings, service: str | None) -> str | None:
    if service and service in (settings.service_teams or {}):
        return settings.service_teams[service]
    if settings.default_team_id is not None:
        team = session.get(Team, settings.default_team_id)
        return team.name if team else None
    return None


# --- deliveries -------------------------------------------------------------------------------

def receive(
    *, session: Session, sender: str, source: str, delivery_key: str, events: list[HookEvent]
) -> Outcome:
    """Apply one delivery's events in the caller's transaction, once.

    A delivery with nothing this product uses writes nothing (`ignored`); a repeat of a recorded
    delivery writes nothing (`duplicate`); the caller commits only an `applied` outcome.
    """
    settings = settings_for(session=session, sender=sender)
    if not settings.enabled:
        return Outcome("ignored", f"hooks from {sender} are turned off in the paging settings")
    usable = [_fitted(e) for e in events if e.action != Action.OTHER]
    if not usable:
        return Outcome("ignored", "this event type is not one Linecheck uses; nothing written")
    # Triggers first, so the other events of one notification find the incident they open.
    ordered = sorted(enumerate(usable), key=lambda pair: pair[1].action != Action.TRIGGER)
    # One look-up (and row lock) per dedup key, not per alert: a storm's notification carries
    # dozens of alerts of one group.
    triggered = {event.dedup_key for event in usable if event.action == Action.TRIGGER}
    found = {key: _latest(session, source, key, open_only=key in triggered)
             for key in dict.fromkeys(event.dedup_key for _, event in ordered)}
    first = found[ordered[0][1].dedup_key]
    delivery_key = fit_key(delivery_key.replace("\x00", ""))
    duplicate = Outcome("duplicate", "this delivery was received before; nothing changed")
    # Recorded up front when its incident is known, so a repeat stops here; a delivery that
    # opens its incident is recorded once that exists (a repeat racing it is refused then, and
    # the caller rolls everything back).
    if first is not None and not _record(session, sender, delivery_key, first.id):
        return duplicate

    outcome = Outcome("applied")
    pending = Pending(session, outcome)
    # Whether an incident resolves is decided once, after the last of its resolve events here.
    last_resolve = {event.dedup_key: index for index, event in ordered
                    if event.action == Action.RESOLVE}
    for index, event in ordered:
        applied = _apply(session, sender, source, settings, event, found, pending,
                         fallback_key=fit_key(f"{sender}:{delivery_key}:{index}"),
                         decide=last_resolve.get(event.dedup_key) == index, outcome=outcome)
        if applied is not None and applied.id not in outcome.incident_ids:
            outcome.incident_ids.append(applied.id)
    pending.write()
    if not outcome.incident_ids:
        return Outcome("ignored", "no open incident matches these events; nothing written")
    if first is None and not _record(session, sender, delivery_key, outcome.incident_ids[0]):
        return duplicate
    outcome.message = f"{outcome.events_added} timeline event(s) added"
    return outcome


def _record(session: Session, sender: str, delivery_key: str, incident_id: int) -> bool:
    """Record the delivery; False when it was recorded before (the unique key refuses it)."""
    return inbox.record_once(session=session, sender=sender, key=delivery_key,
                             incident_id=incident_id)


def _fitted(event: HookEvent) -> HookEvent:
    """The event cut to what the columns hold: long keys hashed, so they never collide, and
    NUL characters (which PostgreSQL text cannot hold) dropped."""
    def text(value: str | None) -> str | None:
        return value.replace("\x00", "") if value else value

    def key(value: str | None) -> str | None:
        return fit_key(text(value)) if value else None

    return replace(
        event,
        dedup_key=key(event.dedup_key) or "-",
        title=clip(text(event.title), MAX_TITLE),
        service=clip(text(event.service), 200) or None,
        text=clip(text(event.text), MAX_TEXT),
        author=clip(text(event.author), 200),
        link=link_or_none(text(event.link)),
        event_key=key(event.event_key),
        alert_id=text(event.alert_id),
        fingerprint=key(event.fingerprint),
    )


@dataclass
class Pending:
    """Timeline events of one delivery not yet written: a notification's alerts land in one
    INSERT per incident instead of one each."""

    session: Session
    outcome: Outcome
    events: dict[int, tuple[Incident, list[dict]]] = field(default_factory=dict)

    def add(self, incident: Incident, **event) -> None:
        self.events.setdefault(incident.id, (incident, []))[1].append(event)

    def write(self) -> None:
        for incident, events in self.events.values():
            self.outcome.events_added += timeline.add_events(
                session=self.session, incident=incident, events=events)
        self.events.clear()


def _apply(session: Session, sender: str, source: str, settings: SenderSettings,
           event: HookEvent, found: dict[str, Incident | None], pending: Pending, *,
           fallback_key: str, decide: bool, outcome: Outcome) -> Incident | None:
    """Apply one event; return the incident it touched, or None when there is none to touch.

    `found` maps dedup keys to their incidents for this delivery; an opened one joins it.
    """
    incident = found[event.dedup_key]
    if event.action == Action.TRIGGER and incident is None:
        incident = found[event.dedup_key] = _declare(session, sender, source, settings, event,
                                                     outcome)
    if incident is None:
        return None
    kind = {
        Action.TRIGGER: EventKind.ALERT,
        Action.ACKNOWLEDGE: EventKind.ACTION,
        Action.RESOLVE: EventKind.RESOLUTION,
    }.get(event.action, EventKind(event.note_kind))
    text = event.text or event.title or str(event.action)
    # A resolve without alert ids is the whole incident's: the resolution event is the
    # status change itself, written by the incident service.
    if event.action != Action.RESOLVE or event.alert_id:
        pending.add(incident, kind=kind, text=text, occurred_at=event.occurred_at,
                    author_name=event.author or sender, source=sender, link=event.link,
                    external_key=event.external_key or fallback_key,
                    fingerprint=event.fingerprint)
    if event.action == Action.RESOLVE and decide and incident.is_open:
        pending.write()  # whether every alert has resolved is read from the timeline
        resolved_at = _resolved_at(session, incident, event)
        if resolved_at is not None:
            outcome.resolved.append((incident.id, str(incident.status)))
            incidents.resolve(session=session, incident=incident,
                              resolved_at=max(resolved_at, incident.started_at),
                              summary=None if event.alert_id else event.text,
                              author_name=event.author or sender, source=sender)
            outcome.events_added += 1
    return incident


def _declare(session: Session, sender: str, source: str, settings: SenderSettings,
             event: HookEvent, outcome: Outcome) -> Incident:
    """Open the incident for the event's dedup key, or join one a concurrent delivery opened."""
    started_at = as_utc(event.occurred_at) or utcnow()
    try:
        # Two deliveries of one group may race to open it: the unique open dedup key lets one
        # win, and the other joins what the winner opened.
        with session.begin_nested():
            incident = incidents.declare(
                session=session,
                title=event.title or clip(f"{sender} alert {event.dedup_key}", MAX_TITLE),
                severity=event.severity or settings.default_severity,
                service=event.service,
                source=source,
                team=_team_for(session, settings, event.service),
                started_at=min(started_at, utcnow()),
                detection_method=DetectionMethod.ALERT,
                dedup_key=event.dedup_key,
                author_name=event.author or sender,
            )
    except IntegrityError:
        incident = _open(session, source, event.dedup_key)
        if incident is None:
            raise
        return incident
    outcome.opened.append(incident.id)
    outcome.events_added += 1  # the declaration on the timeline
    return incident


# FOR UPDATE: events for one incident apply one delivery at a time (PostgreSQL; SQLite's
# BEGIN IMMEDIATE already serialises writers), so "resolved once" and "every alert resolved"
# are decided on current data. Built once: every delivery runs them.
_OPEN = (select(Incident)
         .where(Incident.source == bindparam("source"),
                Incident.open_dedup_key == bindparam("dedup_key"))
         .with_for_update()
         .execution_options(populate_existing=True))
_LATEST = (select(Incident)
           .where(Incident.source == bindparam("source"),
                  Incident.dedup_key == bindparam("dedup_key"))
           .order_by(Incident.id.desc())
           .limit(1)
           .with_for_update()
           .execution_options(populate_existing=True))


def _open(session: Session, source: str, dedup_key: str) -> Incident | None:
    return session.scalars(_OPEN, {"source": source, "dedup_key": dedup_key}).first()


def _latest(session: Session, source: str, dedup_key: str, *,
            open_only: bool = False) -> Incident | None:
    """The open incident for the key, else (unless `open_only`) the most recent one: late
    notes still land."""
    incident = _open(session, source, dedup_key)
    if incident is not None or open_only:
        return incident
    return session.scalars(_LATEST, {"source": source, "dedup_key": dedup_key}).first()


def _resolved_at(session: Session, incident: Incident, event: HookEvent) -> datetime | None:
    """When the incident resolved: the event's time, or for one alert of a group the time the
    last of its alerts resolved — None while any alert that fired on it still fires."""
    if not event.alert_id:
        return as_utc(event.occurred_at) or utcnow()
    rows = session.execute(
        select(TimelineEvent.external_key, TimelineEvent.occurred_at).where(
            TimelineEvent.incident_id == incident.id,
            TimelineEvent.external_key.is_not(None),
            TimelineEvent.fingerprint.is_not(None),
        )
    ).all()
    fired = {key.removeprefix("trigger:") for key, _ in rows if key.startswith("trigger:")}
    resolved = {key.removeprefix("resolve:"): at for key, at in rows
                if key.startswith("resolve:")}
    if not fired <= resolved.keys():
        return None
    return max((as_utc(resolved[key]) for key in fired), default=as_utc(event.occurred_at))
