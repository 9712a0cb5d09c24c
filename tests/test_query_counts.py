"""Query-count guards: the pages that read history issue as many SQL statements at 200
incidents as at 20, and the incident page as many for 200 timeline events as for 20.

The data comes from the benchmark seeder (bench/seed.py), so reviews, findings, prevention
items and recurrence links are all there to tempt an N+1 query.
"""

from __future__ import annotations

import pytest

from bench.seed import seed
from tests.helpers import count_queries

SMALL, LARGE = 20, 200


def _statements(app, client, path: str, headers=None) -> int:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    with count_queries(app.extensions["linecheck.engine"]) as statements:
        client.get(path, headers=headers)
    return len(statements)


@pytest.fixture
def grow(app):
    """Add `incidents` seeded incidents; the last one has `events` timeline events."""
    def add(incidents: int, events: int):
        return seed(app.extensions["linecheck.engine"], incidents=incidents,
                    big_timeline=events, progress=False)

    return add


def test_incident_list_query_count_does_not_grow_with_incidents(app, client, auth, grow):
    auth.login_as("viewer")
    grow(SMALL, 5)
    small = _statements(app, client, "/incidents")
    grow(LARGE - SMALL, 5)
    assert _statements(app, client, "/incidents") == small


def test_incident_search_query_count_does_not_grow_with_incidents(app, client, auth, grow):
    auth.login_as("viewer")
    grow(SMALL, 5)
    path = "/incidents?q=checkout+latency"
    small = _statements(app, client, path)
    grow(LARGE - SMALL, 5)
    assert _statements(app, client, path) == small
    assert small == _statements(app, client, "/incidents")  # searching adds no statement


def test_incident_page_query_count_does_not_grow_with_timeline_or_incidents(app, client, auth,
                                                                             grow):
    auth.login_as("responder")
    few = grow(SMALL, 20)
    small = _statements(app, client, f"/incidents/{few.big_incident_id}")
    many = grow(LARGE - SMALL, 200)
    assert _statements(app, client, f"/incidents/{many.big_incident_id}") == small


def test_incident_page_shows_every_event_with_a_working_edit_form(app, client, auth, grow,
                                                                  session):
    from sqlalchemy import select

    from incidents.models import TimelineEvent

    auth.login_as("responder")
    seeded = grow(3, 60)
    page = client.get(f"/incidents/{seeded.big_incident_id}").get_data(as_text=True)
    events = list(session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == seeded.big_incident_id)))
    assert len(events) == 60
    assert all(f'id="event-{e.id}"' in page for e in events)
    note = next(e for e in events if e.kind == "note")
    action = f"/incidents/{seeded.big_incident_id}/events/{note.id}"
    assert f'action="{action}"' in page
    response = client.post(action, data={"text": "Edited after the fact"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(TimelineEvent, note.id).text == "Edited after the fact"


def test_recurrence_report_query_count_does_not_grow_with_incidents(app, api_reader, grow):
    grow(SMALL, 5)
    path = "/api/v1/reports/recurrence"
    small = _statements(app, api_reader, path)
    grow(LARGE - SMALL, 5)
    assert _statements(app, api_reader, path) == small


def test_recurrence_report_page_query_count_does_not_grow_with_incidents(app, client, auth,
                                                                          grow):
    auth.login_as("lead")
    grow(SMALL, 5)
    small = _statements(app, client, "/reports/recurrence")
    grow(LARGE - SMALL, 5)
    assert _statements(app, client, "/reports/recurrence") == small


def test_resolved_incident_list_query_count_does_not_grow_with_incidents(app, client, auth,
                                                                          grow):
    auth.login_as("viewer")
    grow(SMALL, 5)
    small = _statements(app, client, "/incidents?show=resolved")
    grow(LARGE - SMALL, 5)
    assert _statements(app, client, "/incidents?show=resolved") == small


def test_review_queue_query_count_does_not_grow_with_incidents(app, client, auth, grow):
    auth.login_as("reviewer")
    grow(SMALL, 5)
    small = _statements(app, client, "/reviews/queue")
    grow(LARGE - SMALL, 5)
    assert _statements(app, client, "/reviews/queue") == small
