"""Apply paging-tool events: record the delivery once, open or join incidents, feed timelines.

Exactly once is the database's job, never a check-then-insert: the unique (sender,
delivery_key) of `deliveries` refuses a repeated delivery, the unique (source, open_dedup_key)
of `incidents` refuses a second open incident for one dedup key, and the unique (incident,
external_key) of `timeline_events` refuses a second copy of one event. The caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth import service as auth
from incidents.auth.models import Team, User
from incidents.db import as_utc, utcnow
from incidents.errors import InvalidInput
from incidents.hooks import staleness
from incidents.hooks.events import (
    MAX_TEXT,
    MAX_TITLE,
    Action,
    HookEvent,
    clip,
    fit_key,
    link_or_none,
    worst,
)
from incidents.hooks.models import PagingSignal, SenderSettings
from incidents.inbox import service as inbox
from incidents.incident import service as incidents
from incidents.incident.models import DetectionMethod, Incident, Severity, Status
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind, TimelineEvent

MAX_SERVICE_MAPPINGS = 500
MAX_STALE_HOURS = 24 * 90


@dataclass
class Outcome:
    """What a delivery did: `applied`, `duplicate` (seen before) or `ignored` (nothing to do)."""

    status: str
    message: str = ""
    incident_ids: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    events_added: int = 0
    # Whether the caller commits: an applied delivery, the record of an ignored one, or the
    # signal that a repeated notification's alerts still fire.
    changed: bool = False

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
                          default_team_id=None, service_teams={}, resolve_stale=False,
                          stale_after_hours=staleness.default_hours(sender))


def save_settings(
    *,
    session: Session,
    sender: str,
    enabled: bool,
    default_severity: str,
    default_team: str | None,
    service_teams: dict[str, str],
    stale_after_hours: int | None = None,
    resolve_stale: bool = False,
    actor: User | None = None,
) -> SenderSettings:
    """Save a sender's settings. Teams named here are created now, not during a delivery."""
    severity = incidents.parse_severity(default_severity)
    if stale_after_hours is not None and not 1 <= stale_after_hours <= MAX_STALE_HOURS:
        raise InvalidInput(f"stale after: 1 to {MAX_STALE_HOURS} hours, or empty for never",
                           field="stale_after_hours")
    if resolve_stale and stale_after_hours is None:
        raise InvalidInput("resolving stale incidents needs a stale time", field="resolve_stale")
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
        cleaned[service_name] = auth.team_named(session=session, name=team_name,
                                               field="service_teams").name
    settings = session.get(SenderSettings, sender)
    if settings is None:
        settings = SenderSettings(sender=sender)
        session.add(settings)
    settings.enabled = enabled
    settings.default_severity = str(severity)
    team = auth.team_named(session=session, name=default_team, field="default_team")
    settings.default_team_id = team.id if team else None
    settings.service_teams = cleaned
    settings.stale_after_hours = stale_after_hours
    settings.resolve_stale = resolve_stale
    session.flush()
    audit.record(session=session, action="hooks.settings_saved", entity_type="sender_settings",
                 entity_id=None, actor=actor, sender=sender, enabled=enabled,
                 default_severity=str(severity), default_team=default_team or "",
                 service_teams=cleaned, stale_after_hours=stale_after_hours,
                 resolve_stale=resolve_stale)
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

    A delivery with nothing this product uses is recorded and nothing else (`ignored`), so a
    captured copy cannot be replayed to effect later; a repeat of a recorded delivery writes
    nothing but the signal that its alerts still fire (`duplicate`, naming its incident). The
    caller commits when `changed`, else rolls back.
    """
    now = utcnow()
    settings = settings_for(session=session, sender=sender)
    delivery_key = fit_key(delivery_key.replace("\x00", ""))
    if not settings.enabled:
        return _ignored(session, sender, delivery_key,
                        f"hooks from {sender} are turned off in the paging settings")
    usable = [_fitted(e, now) for e in events if e.action != Action.OTHER]
    if not usable:
        return _ignored(session, sender, delivery_key,
                        "this event type is not one Linecheck uses; recorded, nothing else")
    # Triggers first, so the other events of one notification find the incident they open.
    ordered = sorted(usable, key=lambda event: event.action != Action.TRIGGER)
    # One look-up (and row lock) per dedup key, not per alert: a storm's notification carries
    # dozens of alerts of one group.
    triggered = {event.dedup_key for event in usable if event.action == Action.TRIGGER}
    found = {key: _latest(session, source, key, open_only=key in triggered)
             for key in dict.fromkeys(event.dedup_key for event in ordered)}
    first = found[ordered[0].dedup_key]
    # Recorded up front when its incident is known, so a repeat stops here; a delivery that
    # opens its incident is recorded once that exists (a repeat racing it is refused then, and
    # the caller rolls everything back).
    if first is not None and not _record(session, sender, delivery_key, first.id):
        return _repeated(session, sender, first, usable, now)

    run = _Run(session, sender, source, settings, now, found)
    for event in usable:
        if event.action == Action.TRIGGER:
            run.severities[event.dedup_key] = worst(run.severities.get(event.dedup_key),
                                                    event.severity)
    for key in triggered:
        run.retire_if_quiet(key)
    for event in ordered:
        incident = run.apply(event)
        if incident is not None and incident.id not in run.outcome.incident_ids:
            run.outcome.incident_ids.append(incident.id)
    run.finish()
    outcome = run.outcome
    # The sender's rule: its other quiet incidents are resolved as its deliveries come in.
    staleness.sweep(session=session, sender=sender, settings=settings, now=now)
    if not outcome.incident_ids:
        return _ignored(session, sender, delivery_key,
                        "no incident matches these events; recorded, nothing else")
    if first is None or first.id not in outcome.incident_ids:
        if first is None and not _record(session, sender, delivery_key, outcome.incident_ids[0]):
            recorded = inbox.recorded(session=session, sender=sender, key=delivery_key)
            return _duplicate(recorded.incident_id if recorded else None, changed=False)
        inbox.attach(session=session, sender=sender, key=delivery_key,
                     incident_id=outcome.incident_ids[0])
    outcome.message = f"{outcome.events_added} timeline event(s) added"
    outcome.changed = True
    return outcome


def _record(session: Session, sender: str, delivery_key: str, incident_id: int | None) -> bool:
    """Record the delivery; False when it was recorded before (the unique key refuses it)."""
    return inbox.record_once(session=session, sender=sender, key=delivery_key,
                             incident_id=incident_id)


def _duplicate(incident_id: int | None, *, changed: bool) -> Outcome:
    about = f" (incident #{incident_id})" if incident_id else ""
    return Outcome("duplicate", f"this delivery was received before{about}; nothing changed",
                   incident_ids=[incident_id] if incident_id else [], changed=changed)


def _ignored(session: Session, sender: str, delivery_key: str, message: str) -> Outcome:
    if not _record(session, sender, delivery_key, None):
        recorded = inbox.recorded(session=session, sender=sender, key=delivery_key)
        return _duplicate(recorded.incident_id if recorded else None, changed=False)
    return Outcome("ignored", message, changed=True)


def _repeated(session: Session, sender: str, incident: Incident, events: list[HookEvent],
              now: datetime) -> Outcome:
    """A delivery seen before. Alertmanager repeats an unchanged firing group byte for byte
    every repeat_interval: the alerts still fire, so the incident has not gone quiet."""
    still_firing = incident.is_open and any(e.action != Action.RESOLVE for e in events)
    if still_firing:
        staleness.signal(session=session, incident=incident, sender=sender, at=now)
    return _duplicate(incident.id, changed=still_firing)


def _fitted(event: HookEvent, now: datetime) -> HookEvent:
    """The event cut to what the columns hold: long keys hashed, so they never collide, NUL
    characters (which PostgreSQL text cannot hold) dropped, and a time in the future brought
    back to when the event arrived (the time sent is kept in the text)."""
    def text(value: str | None) -> str | None:
        return value.replace("\x00", "") if value else value

    def key(value: str | None) -> str | None:
        return fit_key(text(value)) if value else None

    occurred_at, said = as_utc(event.occurred_at), text(event.text)
    if occurred_at is not None and occurred_at > now:
        said = f"{said or event.action} (sent as {occurred_at.isoformat()}, later than its " \
               f"arrival at {now.isoformat(timespec='seconds')})"
        occurred_at = now
    return replace(
        event,
        dedup_key=key(event.dedup_key) or "-",
        title=clip(text(event.title), MAX_TITLE),
        service=clip(text(event.service), 200) or None,
        occurred_at=occurred_at,
        text=clip(said, MAX_TEXT),
        author=clip(text(event.author), 200),
        link=link_or_none(text(event.link)),
        event_key=key(event.event_key),
        alert_id=text(event.alert_id),
        fingerprint=key(event.fingerprint),
    )


# An alert id is "<fingerprint>:<startsAt in UTC, ISO 8601>" (see _alertgroup).
_ALERT_ID = re.compile(r"(?P<fingerprint>.*):(?P<starts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
                       r"(?:\.\d+)?\+00:00)")


def _alert_start(alert_id: str) -> tuple[str, datetime] | None:
    match = _ALERT_ID.fullmatch(alert_id)
    return (match["fingerprint"], datetime.fromisoformat(match["starts"])) if match else None


class _Run:
    """One delivery being applied: its incidents, their alerts and what it changed."""

    def __init__(self, session: Session, sender: str, source: str, settings: SenderSettings,
                 now: datetime, found: dict[str, Incident | None]):
        self.session, self.sender, self.source = session, sender, source
        self.settings, self.now, self.found = settings, now, found
        self.outcome = Outcome("applied")
        self.pending = Pending(session, self.outcome)
        self.alert_keys: dict[int, set[str]] = {}  # incident id -> its alert events' keys
        self.raises: dict[int, tuple[Incident, HookEvent]] = {}  # the worst joining event
        self.signalled: dict[int, Incident] = {}  # incidents whose alerts this says still fire
        self.severities: dict[str, str | None] = {}  # dedup key -> its triggers' worst

    def retire_if_quiet(self, dedup_key: str) -> None:
        """A firing for a stale incident opens a new one instead of joining the dead one."""
        incident = self.found[dedup_key]
        quiet = incident and staleness.quiet_incident(
            session=self.session, incident=incident, settings=self.settings,
            sender=self.sender, now=self.now)
        if not quiet:
            return
        if self.settings.resolve_stale:
            staleness.resolve_quiet(session=self.session, incident=incident, quiet=quiet,
                                    by=self.sender, source=self.sender)
        else:
            staleness.set_aside(session=self.session, incident=incident, quiet=quiet,
                                sender=self.sender)
        self.found[dedup_key] = None

    def apply(self, event: HookEvent) -> Incident | None:
        """Apply one event; return the incident it touched, or None when there is none."""
        incident = self.found[event.dedup_key]
        if event.action == Action.TRIGGER and incident is None:
            incident = self.found[event.dedup_key] = self._declare(event)
        if incident is None:
            return None
        if event.action == Action.RESOLVE and not event.alert_id:
            self._resolve(incident, event)
            return incident
        if event.action == Action.REOPEN:
            self._reopen(incident, event)
        if event.action != Action.RESOLVE and incident.is_open:
            self.signalled[incident.id] = incident
        if event.alert_id and not self._alert_lands(incident, event):
            return incident
        self._add(incident, event, kind={
            Action.TRIGGER: EventKind.ALERT,
            Action.ACKNOWLEDGE: EventKind.ACTION,
            Action.RESOLVE: EventKind.RESOLUTION,
            Action.REOPEN: EventKind.ACTION,
        }.get(event.action, EventKind(event.note_kind)))
        if event.severity and (event.action == Action.TRIGGER or event.priority_change):
            held = self.raises.get(incident.id)
            if held is None or worst(event.severity, held[1].severity) != held[1].severity:
                self.raises[incident.id] = (incident, event)
        return incident

    def finish(self) -> None:
        self.pending.write()
        for incident, event in self.raises.values():
            self._raise_severity(incident, event)
        for incident in self.signalled.values():
            staleness.signal(session=self.session, incident=incident, sender=self.sender,
                             at=self.now)

    def _add(self, incident: Incident, event: HookEvent, *, kind: EventKind,
             text: str | None = None, key: str | None = None,
             at: datetime | None = None) -> None:
        self.pending.add(
            incident, kind=kind, text=text or event.text or event.title or str(event.action),
            occurred_at=at or event.occurred_at, author_name=event.author or self.sender,
            source=self.sender, link=event.link,
            # Without a key of the sender's, the event is unique to this delivery anyway.
            external_key=key or event.external_key,
            fingerprint=event.fingerprint)

    def _keys(self, incident: Incident) -> set[str]:
        """The keys of the incident's alert events, read once per delivery."""
        if incident.id not in self.alert_keys:
            opened_here = incident.id in self.outcome.opened
            self.alert_keys[incident.id] = set() if opened_here else set(self.session.scalars(
                select(TimelineEvent.external_key).where(
                    TimelineEvent.incident_id == incident.id,
                    TimelineEvent.fingerprint.is_not(None),
                    TimelineEvent.external_key.is_not(None))))
        return self.alert_keys[incident.id]

    def _alert_lands(self, incident: Incident, event: HookEvent) -> bool:
        """Whether one alert's firing or resolution is new to this incident.

        A resolution lands only for an alert that fired on this incident: Prometheus re-sends
        resolved alerts for about 15 minutes, and the next outage's first notification may
        carry the last one's. A new `startsAt` for a fingerprint ends its earlier firing:
        Alertmanager never sends the resolve of an alert that fired again between two flushes.
        """
        keys = self._keys(incident)
        fired, ended = fit_key(f"trigger:{event.alert_id}"), fit_key(f"resolve:{event.alert_id}")
        if event.action == Action.RESOLVE:
            if fired not in keys or ended in keys:
                return False
            keys.add(ended)
            return True
        if fired in keys:
            return False
        self._end_earlier_firings(incident, event, keys)
        keys.add(fired)
        return True

    def _end_earlier_firings(self, incident: Incident, event: HookEvent, keys: set[str]) -> None:
        new = _alert_start(event.alert_id)
        if new is None:
            return
        fingerprint, starts = new
        for key in sorted(keys):
            old = _alert_start(key.removeprefix("trigger:")) if key.startswith("trigger:") else None
            ended = f"resolve:{key.removeprefix('trigger:')}"
            if old is None or old[0] != fingerprint or old[1] >= starts or ended in keys:
                continue
            keys.add(ended)
            self._add(incident, event, kind=EventKind.RESOLUTION, key=fit_key(ended),
                      at=max(old[1], min(event.occurred_at or self.now, self.now)),
                      text=f"Ended: the alert firing since {old[1]:%Y-%m-%d %H:%M:%S} UTC fired "
                           f"again from {starts:%Y-%m-%d %H:%M:%S} UTC without a resolve "
                           f"between ({event.fingerprint})")

    def _declare(self, event: HookEvent) -> Incident:
        """Open the incident for the event's dedup key, or join one a concurrent delivery
        opened. The worst severity among the delivery's alerts for that key opens it."""
        started_at = as_utc(event.occurred_at) or self.now
        severity = self.severities.get(event.dedup_key) or self.settings.default_severity
        try:
            # Two deliveries of one group may race to open it: the unique open dedup key lets
            # one win, and the other joins what the winner opened.
            with self.session.begin_nested():
                incident = incidents.declare(
                    session=self.session,
                    title=event.title or clip(f"{self.sender} alert {event.dedup_key}", MAX_TITLE),
                    severity=severity,
                    service=event.service,
                    source=self.source,
                    team=_team_for(self.session, self.settings, event.service),
                    started_at=min(started_at, self.now),
                    detection_method=DetectionMethod.ALERT,
                    dedup_key=event.dedup_key,
                    author_name=event.author or self.sender,
                )
        except IntegrityError:
            incident = _open(self.session, self.source, event.dedup_key)
            if incident is None:
                raise
            return incident
        self.outcome.opened.append(incident.id)
        self.outcome.events_added += 1  # the declaration on the timeline
        return incident

    def _resolve(self, incident: Incident, event: HookEvent) -> None:
        """The whole incident ended at the sender (a resolved group, a resolved page)."""
        if not incident.is_open:
            return
        self.pending.write()
        resolved_at = as_utc(event.occurred_at) or self.now
        incidents.resolve(session=self.session, incident=incident,
                          resolved_at=max(min(resolved_at, self.now), incident.started_at),
                          summary=event.text, author_name=event.author or self.sender,
                          source=self.sender)
        self.outcome.events_added += 1
        self.signalled.pop(incident.id, None)
        self.session.execute(delete(PagingSignal).where(PagingSignal.incident_id == incident.id))

    def _reopen(self, incident: Incident, event: HookEvent) -> None:
        """The sender reopened the incident it resolved: so does Linecheck, unless a newer
        incident has its dedup key already."""
        if incident.is_open or _open(self.session, self.source, event.dedup_key) is not None:
            return
        incidents.update(session=self.session, incident=incident,
                         changes=incidents.Changes(status=Status.INVESTIGATING),
                         author_name=event.author or self.sender, source=self.sender)
        incident.open_dedup_key = incident.dedup_key
        self.session.flush()

    def _raise_severity(self, incident: Incident, event: HookEvent) -> None:
        """A worse alert or priority raises the severity; nothing here ever lowers it."""
        if not incident.is_open or worst(event.severity, incident.severity) == incident.severity:
            return
        timeline.add_event(
            session=self.session, incident=incident, kind=EventKind.ACTION,
            source=self.sender, author_name=event.author or self.sender,
            text=clip(f"Severity raised from {incident.severity} to {event.severity} by "
                      f"{self.sender}: {event.text or event.title}", MAX_TEXT))
        incidents.update(session=self.session, incident=incident,
                         changes=incidents.Changes(severity=event.severity),
                         author_name=event.author or self.sender, source=self.sender)
        self.outcome.events_added += 2


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
