"""Recurrence candidates: each signal keeps the earlier incidents that started most recently,
whatever order their rows were written in (the lookups stop after PER_SIGNAL matches)."""

from __future__ import annotations

from datetime import timedelta

from incidents.db import utcnow
from incidents.incident import service as incidents
from incidents.recurrence import service
from incidents.review.models import Review, StationFinding

STATION = 4  # a station of the default line


def _incident(session, title, days_ago, *, service_name=None, defect=None, missed=()):
    incident = incidents.declare(session=session, title=title, service=service_name,
                                 started_at=utcnow() - timedelta(days=days_ago))
    if defect or missed:
        review = Review(incident_id=incident.id, defect_class=defect)
        session.add(review)
        session.flush()
        session.add_all(StationFinding(review_id=review.id, station_id=station_id,
                                       reason="not_covered") for station_id in missed)
    session.flush()
    return incident


def _backfilled(session, **signal) -> list:
    """More matching incidents than one signal keeps, written oldest-last (as a back-fill or
    an import would), so row order and start order disagree."""
    return [_incident(session, f"Backfill{n}", 10 + n, **signal)
            for n in range(service.PER_SIGNAL + 5)]


def test_missed_station_signal_keeps_the_most_recently_started(session):
    earlier = _backfilled(session, missed=[STATION])
    current = _incident(session, "Ledger mismatch", 1, missed=[STATION])
    session.commit()
    found = service.candidates(session=session, incident_id=current.id, limit=3)
    assert [c.incident.id for c in found] == [e.id for e in earlier[:3]]
    assert all(c.reasons == ["CI integration tests missed it too"] for c in found)


def test_service_and_defect_class_signal_keeps_the_most_recently_started(session):
    earlier = _backfilled(session, service_name="ledger", defect="data")
    current = _incident(session, "Ledger mismatch", 1, service_name="ledger", defect="data")
    session.commit()
    found = service.candidates(session=session, incident_id=current.id, limit=3)
    assert [c.incident.id for c in found] == [e.id for e in earlier[:3]]
    assert found[0].reasons[0] == "same service (ledger) and defect class (data)"
