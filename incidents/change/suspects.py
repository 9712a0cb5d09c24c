"""Suspect changes of an incident, ranked with their reasons, and confirming one.

Suspects are the changes to the incident's service deployed in the window before it started
(setting SUSPECT_WINDOW_HOURS). One indexed query on (service, deployed_at) reads at most
`CANDIDATES` of them, newest first; they are scored in Python. The incident page shows them
and the confirmed changes in two queries, whatever the history holds.

Confirming links the change, sets the incident's change origin from it (through the incident
service, so the audit log records it like any edit), notes it on the timeline, and records in
the station walk what the change's record proves — which the reviewer can still change:
no approval → code review *bypassed*; merged with a failing required check → CI *bypassed*;
production reached without a canary → canary *no check*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth.models import User
from incidents.change import attribution
from incidents.change import service as changes
from incidents.change.models import Change, IncidentChange
from incidents.db import utcnow
from incidents.incident import service as incidents
from incidents.incident.models import ChangeOrigin, Incident
from incidents.line import service as line
from incidents.once import insert_once
from incidents.recurrence.service import words
from incidents.review import service as reviews
from incidents.review.models import MissReason, ReviewState
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind

CANDIDATES = 50
SHOWN = 10
ROLES = {"review": "code review", "ci": "CI", "canary": "canary"}
WEIGHTS = {"service": 2.0, "recency": 3.0, "component": 3.0, "failing_check": 2.0,
           "no_approval": 2.0, "no_canary": 1.0}


@dataclass
class Suspect:
    change: Change
    score: float
    reasons: list[str]
    minutes_before: int
    suggestions: list[Suggestion]


@dataclass
class Suggestion:
    """A station finding the change's record proves."""

    role: str  # review | ci | canary: which station of the line it concerns
    reason: MissReason
    note: str

    @property
    def label(self) -> str:
        """`code review bypassed`."""
        return f"{ROLES[self.role]} {self.reason.value.replace('_', ' ')}"


@dataclass
class Panel:
    """What the incident page and the review show about the incident's changes."""

    service: str | None
    window: timedelta
    confirmed: list[Change]
    suspects: list[Suspect]


def suggestions(change: Change) -> list[Suggestion]:
    found = []
    if change.approvals == 0:
        found.append(Suggestion("review", MissReason.BYPASSED,
                                f"Change {change.short} merged with no approval on record."))
    if change.checks_passed is False:
        failing = ", ".join(change.failing_checks or []) or "not named"
        found.append(Suggestion("ci", MissReason.BYPASSED,
                                f"Change {change.short} merged while required checks were "
                                f"failing ({failing})."))
    if change.canary is False:
        found.append(Suggestion("canary", MissReason.NO_CHECK,
                                f"Change {change.short} reached production with no canary "
                                "deploy before it."))
    return found


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _score(change: Change, incident: Incident, window: timedelta) -> Suspect:
    reasons = [f"same service: {change.service}"]
    score = WEIGHTS["service"]
    before = incident.started_at - change.deployed_at
    minutes = _minutes(before)
    closeness = max(0.0, 1 - before / window) if window else 0.0
    score += WEIGHTS["recency"] * closeness
    reasons.append(f"deployed {_ago(minutes)} before the incident started")
    named = f"{incident.title} {incident.description}".lower()
    touched = [c for c in change.components or [] if c.lower() in named]
    if touched:
        score += WEIGHTS["component"]
        reasons.append(f"touched {', '.join(touched)}, named in the incident")
    if change.canary is False:
        score += WEIGHTS["no_canary"]
        reasons.append("no canary")
    if change.checks_passed is False:
        score += WEIGHTS["failing_check"]
        failing = ", ".join(change.failing_checks or [])
        reasons.append("merged with a failing required check" + (f" ({failing})"
                                                                 if failing else ""))
    if change.approvals == 0:
        score += WEIGHTS["no_approval"]
        reasons.append("merged with no approval")
    return Suspect(change, round(score, 2), reasons, minutes, suggestions(change))


def _ago(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min"


def confirmed(*, session: Session, incident_id: int) -> list[Change]:
    return list(session.scalars(
        select(Change).join(IncidentChange, IncidentChange.change_id == Change.id)
        .where(IncidentChange.incident_id == incident_id)
        .order_by(IncidentChange.confirmed_at, IncidentChange.id)))


def suspects(*, session: Session, incident: Incident, window: timedelta,
             limit: int = SHOWN) -> list[Suspect]:
    """The incident's suspect changes, best first, each with its reasons."""
    if not incident.service:
        return []
    start = incident.started_at
    linked = select(IncidentChange.change_id).where(IncidentChange.incident_id == incident.id)
    rows = session.scalars(
        select(Change).where(Change.service == incident.service,
                             Change.deployed_at >= start - window, Change.deployed_at <= start,
                             Change.id.not_in(linked))
        .order_by(Change.deployed_at.desc()).limit(CANDIDATES))
    scored = [_score(change, incident, window) for change in rows]
    scored.sort(key=lambda s: (-s.score, s.minutes_before, -s.change.id))
    return scored[:limit]


def panel(*, session: Session, incident: Incident, window: timedelta) -> Panel:
    return Panel(service=incident.service, window=window,
                 confirmed=confirmed(session=session, incident_id=incident.id),
                 suspects=suspects(session=session, incident=incident, window=window))


# --- confirming -----------------------------------------------------------------------------

@dataclass
class Confirmed:
    change: Change
    created: bool
    origin: ChangeOrigin  # the incident's change origin afterwards
    origin_note: str
    findings: list[str] = field(default_factory=list)  # station findings recorded
    skipped: list[str] = field(default_factory=list)  # suggestions not applied, and why


def confirm(*, session: Session, incident_id: int, change_id: int, actor: User | None = None,
            actor_label: str = "", source: str = "web") -> Confirmed:
    """Confirm the change as a trigger of the incident (again: nothing new happens)."""
    incident = incidents.get(session=session, incident_id=incident_id)
    change = changes.get(session=session, change_id=change_id)
    who = actor_label or (actor.display_name if actor else source)
    created = session.scalar(
        insert_once(session, IncidentChange, "incident_id", "change_id",
                    returning=IncidentChange.id),
        {"incident_id": incident.id, "change_id": change.id, "confirmed_at": utcnow(),
         "confirmed_by_id": actor.id if actor else None, "confirmed_by_label": who[:200]},
    ) is not None
    origin_note = _take_origin(session, incident, change, actor, who, source)
    result = Confirmed(change, created, ChangeOrigin(incident.change_origin), origin_note)
    if not created:
        return result
    label = attribution.LABELS[ChangeOrigin(change.origin)]
    timeline.add_event(
        session=session, incident=incident, kind=EventKind.ACTION, author=actor,
        author_name=who, source=source, link=change.url,
        external_key=f"change-confirmed:{change.id}",
        text=f"Change {change.short} ({change.title or change.repository}) confirmed as a "
             f"trigger: {label}, because {change.origin_reason}")
    _prefill(session, incident, change, actor, result)
    audit.record(session=session, action="change.confirmed", entity_type="incident",
                 entity_id=incident.id, actor=actor, actor_label=who, change_id=change.id,
                 origin=str(change.origin), findings=result.findings)
    return result


def _take_origin(session: Session, incident: Incident, change: Change, actor: User | None,
                 who: str, source: str) -> str:
    origin = ChangeOrigin(change.origin)
    if origin == ChangeOrigin.UNKNOWN and incident.change_origin != ChangeOrigin.UNKNOWN:
        return (f"the change's origin is unknown, so the incident keeps "
                f"{attribution.LABELS[ChangeOrigin(incident.change_origin)]}")
    if incident.change_origin != origin:
        incidents.update(session=session, incident=incident,
                         changes=incidents.Changes(change_origin=str(origin)), actor=actor,
                         author_name=who, source=source)
    return f"the incident's change origin is {attribution.LABELS[origin]}"


def _station_for(role: str, stations: list, change: Change):
    """The line's station a suggestion concerns, by name (the line is editable)."""
    def named(word):
        return [s for s in stations if word in s.name.lower()]

    if role == "review":
        return next(iter(named("review")), None)
    if role == "canary":
        return next(iter(named("canary")), None)
    ci = [s for s in stations if s.name.lower().split()[:1] == ["ci"]]
    failing = words(" ".join(change.failing_checks or []).replace("-", " ").replace("_", " "))
    best = max(ci, key=lambda s: len(words(s.name) & failing), default=None)
    return best if best is not None and words(best.name) & failing else next(iter(ci), None)


def _prefill(session: Session, incident: Incident, change: Change, actor: User | None,
             result: Confirmed) -> None:
    proposed = suggestions(change)
    if not proposed:
        return
    review = reviews.start(session=session, incident_id=incident.id)
    if review.state == ReviewState.PUBLISHED:
        result.skipped += [f"{s.note} (the review is published; reopen it to record this)"
                           for s in proposed]
        return
    stations = line.stations(session=session)
    taken = {f.station_id for f in review.findings}
    for suggestion in proposed:
        station = _station_for(suggestion.role, stations, change)
        if station is None:
            result.skipped.append(f"{suggestion.note} (no {suggestion.role} station on the "
                                  "line)")
        elif station.id in taken:
            result.skipped.append(f"{suggestion.note} ({station.name} already has the "
                                  "reviewer's finding)")
        else:
            reviews.set_finding(session=session, review=review, station_id=station.id,
                                reason=suggestion.reason, note=suggestion.note, actor=actor)
            taken.add(station.id)
            result.findings.append(f"{station.name}: {suggestion.reason.value.replace('_', ' ')}"
                                   f" — {suggestion.note}")
