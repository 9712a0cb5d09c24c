"""Recurrence: suggest earlier incidents that may be the same defect class, confirm or dismiss.

`candidates()` stays cheap at any number of incidents: each signal is an indexed lookup capped
at a few dozen rows (same alert fingerprint, dedup key, service and defect class, missed
station, and the same service's recent incidents for text), and only that bounded set is
scored in Python. Nothing ever loads all incidents.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from incidents.audit import service as audit
from incidents.auth.models import User
from incidents.errors import InvalidInput, NotFound
from incidents.incident import service as incidents
from incidents.incident.models import Incident
from incidents.line.models import Station
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionItem, PreventionLink, PreventionStatus
from incidents.recurrence.models import DismissedCandidate, RecurrenceLink
from incidents.review.models import Review, StationFinding
from incidents.review.service import SKELETON
from incidents.timeline.models import TimelineEvent

# Per-signal caps: enough to find the defect's earlier shapes, small enough to stay fast.
PER_SIGNAL = 50
TEXT_POOL = 100
MAX_FINGERPRINTS = 20
WRITEUP_CHARS = 1500

WEIGHTS = {"fingerprint": 5.0, "dedup_key": 4.0, "service_defect": 3.0, "station": 2.0,
           "title": 3.0, "text": 2.0}
# A text match alone must be this similar (Jaccard over words) to be worth suggesting.
MIN_TITLE_SIMILARITY = 0.2
MIN_TEXT_SIMILARITY = 0.15

STOPWORDS = frozenset("""
a an and are as at be by for from has in is it of on or the to was were with after before
during when while not no into over under this that these those via per our we all
""".split())
_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]")


@dataclass
class Candidate:
    incident: Incident
    score: float
    reasons: list[str] = field(default_factory=list)


def words(text: str | None) -> set[str]:
    """The meaningful words of a text, lower-cased, for overlap scoring."""
    found = _WORD.findall((text or "").lower())
    return {w for w in found if len(w) > 2 and w not in STOPWORDS}


# The write-up skeleton's headings (Summary, Impact, …) are in every write-up: two reviews
# sharing them are not alike.
TEMPLATE_WORDS = frozenset(words(SKELETON))


def similarity(a: set[str], b: set[str]) -> float:
    """Jaccard overlap of two word sets, 0..1."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass
class _Scores:
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, weight: float, reason: str) -> None:
        self.score += weight
        self.reasons.append(reason)


def _earlier(incident: Incident):
    """Incidents that started before this one (the only ones it can be a recurrence of)."""
    return (Incident.started_at < incident.started_at, Incident.id != incident.id)


def candidates(*, session: Session, incident_id: int, limit: int = 5) -> list[Candidate]:
    """Earlier incidents that may be this one's defect class in another shape, best first."""
    incident = incidents.get(session=session, incident_id=incident_id)
    review = session.scalar(select(Review).where(Review.incident_id == incident_id))
    excluded = _excluded(session, incident_id)
    scores: dict[int, _Scores] = defaultdict(_Scores)

    def consider(query, weight: float, reason) -> None:
        # Newest first: the (service, started_at) and started_at indexes hold that order, so
        # a lookup walks back from this incident and stops after PER_SIGNAL matches.
        for row in session.execute(query.where(*_earlier(incident))
                                   .order_by(Incident.started_at.desc()).limit(PER_SIGNAL)):
            if row[0] not in excluded:
                scores[row[0]].add(weight, reason(row) if callable(reason) else reason)

    fingerprints = list(session.scalars(
        select(TimelineEvent.fingerprint).where(TimelineEvent.incident_id == incident_id,
                                                TimelineEvent.fingerprint.is_not(None))
        .distinct().limit(MAX_FINGERPRINTS)))
    if fingerprints:
        consider(select(Incident.id, func.min(TimelineEvent.fingerprint))
                 .join(TimelineEvent, TimelineEvent.incident_id == Incident.id)
                 .where(TimelineEvent.fingerprint.in_(fingerprints))
                 .group_by(Incident.id, Incident.started_at),
                 WEIGHTS["fingerprint"], lambda row: f"same alert fingerprint {row[1]}")
    if incident.dedup_key:
        consider(select(Incident.id).where(Incident.dedup_key == incident.dedup_key),
                 WEIGHTS["dedup_key"], f"same dedup key {incident.dedup_key}")
    if review is not None and review.defect_class and incident.service:
        consider(select(Incident.id).join(Review, Review.incident_id == Incident.id)
                 .where(Incident.service == incident.service,
                        Review.defect_class == review.defect_class),
                 WEIGHTS["service_defect"],
                 f"same service ({incident.service}) and defect class ({review.defect_class})")
    if review is not None:
        missed = session.execute(
            select(Station.id, Station.name).join(StationFinding,
                                                  StationFinding.station_id == Station.id)
            .where(StationFinding.review_id == review.id)).all()
        for station_id, name in missed:
            # EXISTS per incident, walked newest first from this one: a join would read every
            # finding of the station (thousands) to keep fifty.
            consider(select(Incident.id).where(
                         select(StationFinding.id).join(Review,
                                                        Review.id == StationFinding.review_id)
                         .where(Review.incident_id == Incident.id,
                                StationFinding.station_id == station_id).exists()),
                     WEIGHTS["station"], f"{name} missed it too")
    started = _score_text(session, incident, review, scores, excluded)
    return _ranked(session, scores, started, limit)


def _score_text(session: Session, incident: Incident, review: Review | None,
                scores: dict[int, _Scores], excluded: set[int]) -> dict[int, datetime]:
    """Score title and write-up overlap over a bounded pool: the incidents already found by a
    signal, the same service's most recent ones, and the most recent ones of any service.
    Answer when each pooled incident started (every scored one is in the pool)."""
    recent = select(Incident.id).where(*_earlier(incident)).order_by(Incident.started_at.desc())
    pool = set(scores) | set(session.scalars(recent.limit(TEXT_POOL // 2)))
    if incident.service:
        pool |= set(session.scalars(recent.where(Incident.service == incident.service)
                                    .limit(TEXT_POOL)))
    pool -= excluded
    if not pool:
        return {}
    title = words(incident.title)
    text = _text_words(incident.description, review.markdown if review else "")
    rows = session.execute(
        select(Incident.id, Incident.started_at, Incident.title, Incident.description,
               func.substr(Review.markdown, 1, WRITEUP_CHARS))
        .outerjoin(Review, Review.incident_id == Incident.id).where(Incident.id.in_(pool)))
    started = {}
    for other_id, other_started, other_title, description, markdown in rows:
        started[other_id] = other_started
        other_title_words = words(other_title)
        shared = title & other_title_words
        title_score = similarity(title, other_title_words)
        if title_score >= MIN_TITLE_SIMILARITY:
            scores[other_id].add(WEIGHTS["title"] * title_score,
                                 "similar title: " + ", ".join(sorted(shared)[:6]))
        text_score = similarity(text, _text_words(description, markdown))
        if text_score >= MIN_TEXT_SIMILARITY:
            scores[other_id].add(WEIGHTS["text"] * text_score, "similar write-up")
    return started


def _text_words(description: str | None, markdown: str | None) -> set[str]:
    return (words(description) | words(markdown)) - TEMPLATE_WORDS


def _ranked(session: Session, scores: dict[int, _Scores], started: dict[int, datetime],
            limit: int) -> list[Candidate]:
    """The best `limit`, ties newest first; only those are loaded as incidents."""
    if not scores:
        return []
    best = sorted(scores.items(),
                  key=lambda pair: (-pair[1].score, -started[pair[0]].timestamp()))[:limit]
    found = {i.id: i for i in session.scalars(
        select(Incident).where(Incident.id.in_([i for i, _ in best]))
        .options(selectinload(Incident.team)))}
    return [Candidate(incident=found[i], score=round(s.score, 2), reasons=s.reasons)
            for i, s in best]


def _excluded(session: Session, incident_id: int) -> set[int]:
    """Incidents never suggested for this one: itself, already linked, dismissed."""
    linked = select(RecurrenceLink.earlier_incident_id).where(
        RecurrenceLink.incident_id == incident_id)
    linked_back = select(RecurrenceLink.incident_id).where(
        RecurrenceLink.earlier_incident_id == incident_id)
    dismissed = select(DismissedCandidate.candidate_id).where(
        DismissedCandidate.incident_id == incident_id)
    return {incident_id, *session.scalars(linked.union(linked_back, dismissed))}


@dataclass
class Confirmed:
    link: RecurrenceLink
    created: bool
    escaped: list[PreventionItem]


def confirm(*, session: Session, incident_id: int, earlier_id: int, actor: User | None = None,
            actor_label: str = "", now: datetime | None = None) -> Confirmed:
    """Record that `incident_id` is a recurrence of `earlier_id`; idempotent.

    The earlier incident's structural items that were done before this incident started did
    not hold: they are marked escaped.
    """
    incident = incidents.get(session=session, incident_id=incident_id)
    if earlier_id == incident_id:
        raise InvalidInput("an incident cannot be a recurrence of itself", field="of")
    earlier = session.get(Incident, earlier_id)
    if earlier is None:
        raise NotFound(f"no incident {earlier_id}", field="of")
    if earlier.started_at > incident.started_at:
        raise InvalidInput(f"#{earlier_id} started after #{incident_id}; a recurrence points "
                           "back to an earlier incident", field="of")
    reasons = next((c.reasons for c in candidates(session=session, incident_id=incident_id,
                                                  limit=50) if c.incident.id == earlier_id), [])
    link = RecurrenceLink(incident_id=incident_id, earlier_incident_id=earlier_id,
                          reasons="; ".join(reasons), confirmed_by_id=actor.id if actor else None)
    try:
        with session.begin_nested():
            session.add(link)
    except IntegrityError:
        existing = session.scalar(select(RecurrenceLink).where(
            RecurrenceLink.incident_id == incident_id,
            RecurrenceLink.earlier_incident_id == earlier_id))
        return Confirmed(link=existing, created=False, escaped=[])
    session.execute(DismissedCandidate.__table__.delete().where(
        DismissedCandidate.incident_id == incident_id,
        DismissedCandidate.candidate_id == earlier_id))
    audit.record(session=session, action="recurrence.confirmed", entity_type="incident",
                 entity_id=incident_id, actor=actor, actor_label=actor_label, of=earlier_id)
    escaped = prevention.mark_escaped(session=session, earlier_incident_id=earlier_id,
                                      incident=incident, actor=actor, now=now)
    return Confirmed(link=link, created=True, escaped=escaped)


def dismiss(*, session: Session, incident_id: int, candidate_id: int,
            actor: User | None = None) -> bool:
    """Say a suggested incident is not a recurrence; it is not suggested again. Idempotent."""
    incidents.get(session=session, incident_id=incident_id)
    if session.get(Incident, candidate_id) is None:
        raise NotFound(f"no incident {candidate_id}", field="candidate_id")
    try:
        with session.begin_nested():
            session.add(DismissedCandidate(incident_id=incident_id, candidate_id=candidate_id,
                                           dismissed_by_id=actor.id if actor else None))
    except IntegrityError:
        return False
    audit.record(session=session, action="recurrence.dismissed", entity_type="incident",
                 entity_id=incident_id, actor=actor, candidate=candidate_id)
    return True


def links_for(*, session: Session, incident_id: int) -> list[RecurrenceLink]:
    """Confirmed links either way: what this incident recurs, and what recurred it."""
    return list(session.scalars(
        select(RecurrenceLink).where(or_(RecurrenceLink.incident_id == incident_id,
                                         RecurrenceLink.earlier_incident_id == incident_id))
        .options(selectinload(RecurrenceLink.incident),
                 selectinload(RecurrenceLink.earlier_incident))
        .order_by(RecurrenceLink.created_at, RecurrenceLink.id)))


def would_escape(*, session: Session, incident_id: int, earlier_id: int) -> list[PreventionItem]:
    """The items confirming this recurrence would mark escaped (shown before confirming)."""
    incident = incidents.get(session=session, incident_id=incident_id)
    return prevention.escapable(session=session, earlier_incident_id=earlier_id,
                                incident=incident)


def link(*, session: Session, incident_id: int, earlier_id: int) -> RecurrenceLink:
    found = session.scalar(select(RecurrenceLink).where(
        RecurrenceLink.incident_id == incident_id,
        RecurrenceLink.earlier_incident_id == earlier_id))
    if found is None:
        raise NotFound(f"#{incident_id} is not a confirmed recurrence of #{earlier_id}")
    return found


@dataclass
class Undone:
    incident_id: int
    earlier_incident_id: int
    released: list[PreventionItem]  # no longer escaped
    moved: list[PreventionItem]  # escaped still, by another confirmed recurrence


def undo(*, session: Session, incident_id: int, earlier_id: int, actor: User | None = None,
         actor_label: str = "") -> Undone:
    """Take back a confirmed recurrence, audited; the items it marked escaped are decided
    again from the recurrences still confirmed."""
    found = link(session=session, incident_id=incident_id, earlier_id=earlier_id)
    session.delete(found)
    session.flush()
    audit.record(session=session, action="recurrence.undone", entity_type="incident",
                 entity_id=incident_id, actor=actor, actor_label=actor_label, of=earlier_id)
    released, moved = [], []
    for item in session.scalars(select(PreventionItem).where(
            PreventionItem.escaped_by_incident_id == incident_id).order_by(PreventionItem.id)):
        first = _first_recurrence_after(session, item)
        if first is None:
            item.escaped_at, item.escaped_by_incident_id = None, None
            released.append(item)
            audit.record(session=session, action="prevention.escape_undone",
                         entity_type="prevention_item", entity_id=item.id, actor=actor,
                         actor_label=actor_label, incident_id=incident_id,
                         earlier_incident_id=earlier_id)
        elif first[0] != incident_id:
            item.escaped_by_incident_id, item.escaped_at = first
            moved.append(item)
            audit.record(session=session, action="prevention.escaped",
                         entity_type="prevention_item", entity_id=item.id, actor=actor,
                         actor_label=actor_label, incident_id=first[0],
                         earlier_incident_id=earlier_id)
    session.flush()
    return Undone(incident_id=incident_id, earlier_incident_id=earlier_id, released=released,
                  moved=moved)


def _first_recurrence_after(session: Session, item: PreventionItem):
    """(incident id, confirmed at) of the first confirmed recurrence, of an incident the item
    serves, that started after the item was done; None when no recurrence shows it escaped.
    The same rule `prevention.escapable` applies when a recurrence is confirmed."""
    if (item.status != PreventionStatus.DONE or item.completed_at is None
            or not item.structural):
        return None
    row = session.execute(
        select(Incident.id, RecurrenceLink.created_at)
        .join(RecurrenceLink, RecurrenceLink.incident_id == Incident.id)
        .join(PreventionLink,
              PreventionLink.incident_id == RecurrenceLink.earlier_incident_id)
        .where(PreventionLink.prevention_item_id == item.id,
               Incident.started_at > item.completed_at)
        .order_by(Incident.started_at, Incident.id).limit(1)).first()
    return tuple(row) if row else None
