"""Declare, change and resolve incidents: the one path every adapter goes through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from incidents.audit import service as audit
from incidents.auth import service as auth
from incidents.auth.models import Team, User
from incidents.db import as_utc, utcnow
from incidents.errors import InvalidInput, NotFound, parse_choice
from incidents.incident import search as search_index
from incidents.incident.models import (
    ChangeOrigin,
    DetectionMethod,
    Incident,
    Severity,
    Source,
    Status,
)
from incidents.outbox import service as outbox
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind

MAX_TITLE = 300

# Jobs the Slack adapter carries out (slackbot/jobs.py); the domain only names them.
OPEN_CHANNEL = "slack.channel"
CHANGE_NOTICE = "slack.notice"


def parse_severity(value: str | int) -> Severity:
    """Accept SEV1..SEV4, sev2, or a bare 1..4."""
    text = str(value).strip().upper()
    if text.isdigit():
        text = f"SEV{text}"
    return parse_choice(Severity, text, "severity")


def _clean_title(title: str | None) -> str:
    title = (title or "").strip()
    if not title:
        raise InvalidInput("title must not be empty", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"title is longer than {MAX_TITLE} characters", field="title")
    return title


def _check_times(incident: Incident) -> None:
    started = incident.started_at
    for field in ("detected_at", "resolved_at"):
        value = getattr(incident, field)
        if value is not None and started is not None and value < started:
            what = {"detected_at": "detected", "resolved_at": "resolved"}[field]
            raise InvalidInput(f"the time it was {what} is before the time it started",
                               field=field)


# How far ahead of our clock a given start time may be: the sender's clock may run a little
# fast. (Paging hooks never pass a future start: they clamp to now.)
CLOCK_SKEW = timedelta(minutes=5)


def declare(
    *,
    session: Session,
    title: str,
    severity: Severity | str = Severity.SEV3,
    service: str | None = None,
    source: Source | str = Source.WEB,
    team: str | None = None,
    description: str = "",
    started_at: datetime | None = None,
    detected_at: datetime | None = None,
    change_origin: ChangeOrigin | str = ChangeOrigin.UNKNOWN,
    detection_method: DetectionMethod | str = DetectionMethod.UNKNOWN,
    dedup_key: str | None = None,
    declared_by: User | None = None,
    author_name: str = "",
    slack_channel: dict | None = None,
) -> Incident:
    """Open an incident and put its declaration on the timeline.

    With `slack_channel` (who asked, and where to answer them), the incident's own Slack
    channel is queued too: created, the declarer invited and the incident announced there.
    """
    now = utcnow()
    if started_at is not None and as_utc(started_at) > now + CLOCK_SKEW:
        raise InvalidInput("started_at is in the future", field="started_at")
    incident = Incident(
        title=_clean_title(title),
        severity=parse_severity(severity),
        service=(service or "").strip() or None,
        source=parse_choice(Source, source, "source"),
        team=auth.team_named(session=session, name=team),
        description=(description or "").strip(),
        started_at=as_utc(started_at) or now,
        detected_at=as_utc(detected_at) or as_utc(started_at) or now,
        change_origin=parse_choice(ChangeOrigin, change_origin, "change_origin"),
        detection_method=parse_choice(DetectionMethod, detection_method, "detection_method"),
        dedup_key=dedup_key,
        open_dedup_key=dedup_key,
        declared_by=declared_by,
        status=Status.INVESTIGATING,
    )
    _check_times(incident)
    session.add(incident)
    session.flush()
    who = author_name or (declared_by.display_name if declared_by else str(incident.source))
    timeline.add_event(
        session=session,
        incident=incident,
        kind=EventKind.STATUS_CHANGE,
        text=f"Incident declared: {incident.title} ({incident.severity})",
        occurred_at=incident.detected_at,
        author=declared_by,
        author_name=who,
        source=str(incident.source),
    )
    search_index.note_incident(session=session, incident=incident)
    audit.record(session=session, action="incident.declared", entity_type="incident",
                 entity_id=incident.id, actor=declared_by, actor_label=who)
    if slack_channel is not None:
        outbox.enqueue(session=session, kind=OPEN_CHANNEL, key=f"incident:{incident.id}",
                       payload={**slack_channel, "declared_by": who}, incident_id=incident.id)
    return incident


def get(*, session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


@dataclass
class Changes:
    """What an update may change; None leaves a field as it is."""

    title: str | None = None
    severity: str | None = None
    status: str | None = None
    service: str | None = None
    team: str | None = None
    description: str | None = None
    started_at: datetime | None = None
    detected_at: datetime | None = None
    resolved_at: datetime | None = None
    change_origin: str | None = None
    detection_method: str | None = None


def update(
    *,
    session: Session,
    incident: Incident,
    changes: Changes,
    actor: User | None = None,
    author_name: str = "",
    source: str = "web",
    summary: str | None = None,
) -> Incident:
    """Apply changes; severity and status changes land on the timeline and, when the incident
    has (or is getting) a Slack channel, are told there."""
    who = author_name or (actor.display_name if actor else source)
    changed: dict[str, str] = {}
    told: list[dict] = []  # severity and status changes, for the channel

    def note(kind: EventKind, text: str, at: datetime | None = None) -> None:
        timeline.add_event(session=session, incident=incident, kind=kind, text=text,
                           author=actor, author_name=who, source=source, occurred_at=at)

    if changes.title is not None:
        incident.title = _clean_title(changes.title)
        changed["title"] = incident.title
    if changes.service is not None:
        incident.service = changes.service.strip() or None
        changed["service"] = incident.service or ""
    if changes.team is not None:
        incident.team = auth.team_named(session=session, name=changes.team)
        changed["team"] = changes.team
    if changes.description is not None:
        incident.description = changes.description.strip()
    if changes.change_origin is not None:
        incident.change_origin = parse_choice(ChangeOrigin, changes.change_origin, "change_origin")
        changed["change_origin"] = str(incident.change_origin)
    if changes.detection_method is not None:
        incident.detection_method = parse_choice(
            DetectionMethod, changes.detection_method, "detection_method"
        )
    for field in ("started_at", "detected_at", "resolved_at"):
        value = getattr(changes, field)
        if value is not None:
            setattr(incident, field, as_utc(value))
            changed[field] = as_utc(value).isoformat()

    if changes.severity is not None:
        severity = parse_severity(changes.severity)
        if severity != incident.severity:
            note(EventKind.STATUS_CHANGE,
                 f"Severity changed from {incident.severity} to {severity}")
            changed["severity"] = str(severity)
            told.append({"field": "severity", "old": str(incident.severity), "new": str(severity)})
            incident.severity = severity

    if changes.status is not None:
        status = parse_choice(Status, changes.status, "status")
        if status != incident.status:
            old = incident.status
            incident.status = status
            changed["status"] = str(status)
            told.append({"field": "status", "old": str(old), "new": str(status)})
            if status == Status.RESOLVED:
                incident.resolved_at = as_utc(changes.resolved_at) or utcnow()
                incident.open_dedup_key = None
                text = "Resolved" + (f": {summary.strip()}" if summary and summary.strip() else "")
                note(EventKind.RESOLUTION, text, at=incident.resolved_at)
            else:
                if old == Status.RESOLVED:
                    incident.resolved_at = None  # reopened
                note(EventKind.STATUS_CHANGE, f"Status changed from {old} to {status}")

    _check_times(incident)
    session.flush()
    if changes.title is not None or changes.service is not None \
            or changes.description is not None:
        search_index.note_incident(session=session, incident=incident)
    if changed:
        entry = audit.record(session=session, action="incident.updated", entity_type="incident",
                             entity_id=incident.id, actor=actor, actor_label=who, **changed)
        if told and has_slack_channel(incident):
            session.flush()  # the entry's id names this change
            outbox.enqueue(session=session, kind=CHANGE_NOTICE,
                           key=f"incident:{incident.id}:change:{entry.id}",
                           payload={"changes": told, "by": who}, incident_id=incident.id)
    return incident


def has_slack_channel(incident: Incident) -> bool:
    """Whether the incident has its own Slack channel, or will once the worker opens it."""
    return incident.slack_channel_id is not None or incident.source == Source.SLACK


def set_slack_channel(*, session: Session, incident: Incident, channel_id: str,
                      channel_name: str, actor_label: str = "slack") -> Incident:
    """Record the incident's own Slack channel (once Slack created it, or it was adopted)."""
    incident.slack_channel_id = channel_id
    incident.slack_channel_name = channel_name
    session.flush()
    audit.record(session=session, action="incident.slack_channel_set", entity_type="incident",
                 entity_id=incident.id, actor_label=actor_label, channel_id=channel_id,
                 channel_name=channel_name)
    return incident


def open_incidents(*, session: Session, limit: int = 30) -> list[Incident]:
    """Incidents not yet resolved, newest first."""
    return list(session.scalars(
        select(Incident).where(Incident.status != Status.RESOLVED)
        .order_by(Incident.id.desc()).limit(limit)))


def resolve(
    *,
    session: Session,
    incident: Incident,
    summary: str | None = None,
    resolved_at: datetime | None = None,
    actor: User | None = None,
    author_name: str = "",
    source: str = "web",
) -> Incident:
    return update(
        session=session,
        incident=incident,
        changes=Changes(status=Status.RESOLVED, resolved_at=resolved_at),
        actor=actor,
        author_name=author_name,
        source=source,
        summary=summary,
    )


@dataclass
class IncidentFilter:
    status: str | None = None
    severity: str | None = None
    service: str | None = None
    source: str | None = None
    team: str | None = None
    q: str | None = None
    open: bool | None = None  # True: every status but resolved; False: resolved only


def search(
    *, session: Session, filters: IncidentFilter, before: int | None = None, limit: int = 50
) -> tuple[list[Incident], int | None]:
    """Incidents newest first, a page at a time (keyset on id, so deep pages stay fast).

    Returns the page and the id to pass as `before` for the next page, or None at the end.
    """
    query = select(Incident).options(selectinload(Incident.team)).order_by(Incident.id.desc())
    if filters.status:
        query = query.where(Incident.status == parse_choice(Status, filters.status, "status"))
    if filters.severity:
        query = query.where(Incident.severity == parse_severity(filters.severity))
    if filters.service:
        query = query.where(Incident.service == filters.service)
    if filters.open is not None:
        query = query.where((Incident.status != Status.RESOLVED) if filters.open
                            else (Incident.status == Status.RESOLVED))
    if filters.source:
        query = query.where(Incident.source == parse_choice(Source, filters.source, "source"))
    if filters.team:
        query = query.join(Team, Incident.team_id == Team.id).where(Team.name == filters.team)
    if filters.q:
        query = query.where(search_index.matching(session=session, q=filters.q))
    if before is not None:
        query = query.where(Incident.id < before)
    rows = list(session.scalars(query.limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def services(*, session: Session) -> list[str]:
    """Distinct service names, for filters."""
    return list(
        session.scalars(
            select(Incident.service).where(Incident.service.is_not(None)).distinct()
            .order_by(Incident.service)
        )
    )
