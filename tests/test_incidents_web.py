"""The incident list, declare form and incident page in the browser (server-rendered)."""

import re

from sqlalchemy import select

from incidents.incident import service
from incidents.models import Incident, TimelineEvent, TimelineEventRevision


def _declare(session, title="Checkout errors", **kwargs):
    incident = service.declare(session=session, title=title, **kwargs)
    session.commit()
    return incident


def test_list_is_newest_first_with_older_link(client, auth, session):
    for n in range(55):
        _declare(session, title=f"Incident number {n}")
    auth.login_as("viewer")
    page = client.get("/incidents").get_data(as_text=True)
    titles = re.findall(r"Incident number (\d+)", page)
    assert titles[:2] == ["54", "53"] and len(titles) == 50
    older = re.search(r'href="(/incidents\?before=\d+[^"]*)"', page).group(1)
    rest = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r"Incident number (\d+)", rest) == [str(n) for n in range(4, -1, -1)]


def test_list_filters_and_search(client, auth, session):
    _declare(session, title="Search outage", service="search", severity="SEV1")
    _declare(session, title="Checkout slow", service="checkout", severity="SEV3")
    auth.login_as("viewer")
    by_service = client.get("/incidents?service=search").get_data(as_text=True)
    assert "Search outage" in by_service and "Checkout slow" not in by_service
    by_severity = client.get("/incidents?severity=SEV3").get_data(as_text=True)
    assert "Checkout slow" in by_severity and "Search outage" not in by_severity
    by_words = client.get("/incidents?q=checkout+SLOW").get_data(as_text=True)
    assert "Checkout slow" in by_words and "Search outage" not in by_words
    bad = client.get("/incidents?status=sleeping")
    assert bad.status_code == 200 and "status must be one of" in bad.get_data(as_text=True)


def test_declare_form_creates_incident_and_shows_its_page(client, auth, session):
    user = auth.login_as("responder")
    response = client.post("/incidents/new", data={
        "title": "Queue backlog", "severity": "SEV2", "service": "notifications",
        "team": "platform", "description": "Consumers stalled", "detection_method": "alert",
        "change_origin": "config"})
    assert response.status_code == 302
    incident = session.scalar(select(Incident).where(Incident.title == "Queue backlog"))
    assert incident.source == "web" and incident.declared_by_id == user.id
    assert incident.team.name == "platform" and incident.change_origin == "config"
    page = client.get(response.location).get_data(as_text=True)
    assert "Queue backlog" in page and "Incident declared" in page


def test_declare_form_refuses_empty_title(client, auth, session):
    auth.login_as("responder")
    response = client.post("/incidents/new", data={"title": "", "severity": "SEV2"})
    assert response.status_code == 200 and "This field is required" in response.get_data(
        as_text=True)
    assert session.scalar(select(Incident)) is None


def test_note_status_and_severity_changes_land_on_timeline(client, auth, session):
    incident = _declare(session)
    auth.login_as("responder")
    client.post(f"/incidents/{incident.id}/notes", data={"text": "Rolled back 4411"})
    client.post(f"/incidents/{incident.id}/status",
                data={"severity": "SEV1", "status": "monitoring"})
    texts = session.scalars(select(TimelineEvent.text).where(
        TimelineEvent.incident_id == incident.id).order_by(TimelineEvent.id)).all()
    assert texts[1:] == ["Rolled back 4411", "Severity changed from SEV3 to SEV1",
                         "Status changed from investigating to monitoring"]


def test_resolve_sets_resolved_at_and_hides_the_resolve_form(client, auth, session):
    incident = _declare(session)
    auth.login_as("responder")
    client.post(f"/incidents/{incident.id}/resolve", data={"summary": "Fixed the index"})
    session.expire_all()
    resolved = session.get(Incident, incident.id)
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    assert resolved.open_dedup_key is None
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Resolved: Fixed the index" in page and "Resolution summary" not in page


def test_timeline_always_shows_dates_in_the_viewer_zone(client, auth, session):
    from datetime import UTC, datetime

    incident = _declare(session, started_at=datetime(2026, 1, 31, 23, 50, tzinfo=UTC))
    auth.login_as("viewer", timezone="Europe/Berlin")
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "2026-02-01 00:50 CET" in page


def test_correct_times_in_viewer_zone(client, auth, session):
    from datetime import UTC, datetime

    incident = _declare(session, started_at=datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    auth.login_as("reviewer", timezone="America/New_York")
    client.post(f"/incidents/{incident.id}/times", data={
        "started_at": "2026-06-01T04:00", "detected_at": "2026-06-01T04:30",
        "resolved_at": ""})
    session.expire_all()
    fixed = session.get(Incident, incident.id)
    assert fixed.detected_at == datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
    bad = client.post(f"/incidents/{incident.id}/times", data={
        "started_at": "2026-06-01T04:00", "detected_at": "2026-06-01T03:00"})
    assert bad.status_code == 302
    session.expire_all()
    assert session.get(Incident, incident.id).detected_at == datetime(2026, 6, 1, 8, 30,
                                                                      tzinfo=UTC)


def test_editing_an_event_keeps_the_earlier_text(client, auth, session):
    incident = _declare(session)
    auth.login_as("responder")
    client.post(f"/incidents/{incident.id}/notes", data={"text": "DB failover started"})
    event = session.scalar(select(TimelineEvent).where(
        TimelineEvent.text == "DB failover started"))
    client.post(f"/incidents/{incident.id}/events/{event.id}",
                data={"text": "DB failover finished"})
    session.expire_all()
    assert session.get(TimelineEvent, event.id).text == "DB failover finished"
    earlier = session.scalars(select(TimelineEventRevision.text).where(
        TimelineEventRevision.event_id == event.id)).all()
    assert earlier == ["DB failover started"]
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "<del>DB failover started</del>" in page


def test_viewer_reads_but_cannot_write(client, auth, session):
    incident = _declare(session)
    auth.login_as("viewer")
    page = client.get(f"/incidents/{incident.id}")
    assert page.status_code == 200 and b"Add a note" not in page.data
    assert client.post(f"/incidents/{incident.id}/notes", data={"text": "x"}).status_code == 403
    assert client.post(f"/incidents/{incident.id}/resolve", data={}).status_code == 403


def test_anonymous_is_sent_to_login(client, session):
    incident = _declare(session)
    response = client.get(f"/incidents/{incident.id}")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_unknown_incident_is_404_page(client, auth):
    auth.login_as("viewer")
    response = client.get("/incidents/4242")
    assert response.status_code == 404 and b"No incident #4242" in response.data


def test_titles_and_notes_are_escaped(client, auth, session):
    incident = _declare(session, title="<script>alert(1)</script>")
    auth.login_as("responder")
    client.post(f"/incidents/{incident.id}/notes", data={"text": "<img src=x onerror=alert(2)>"})
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_edit_form_changes_title_description_service_and_team(client, auth, session):
    incident = _declare(session, service="checkout", team="payments",
                        description="5xx on pay")
    auth.login_as("responder")
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert 'data-testid="edit-incident"' in page and 'value="payments"' in page
    response = client.post(f"/incidents/{incident.id}/edit", data={
        "title": "Checkout 500s after the payment client upgrade", "service": "payments-api",
        "team": "platform", "description": "Every card payment failed for 40 minutes"})
    assert response.status_code == 302
    session.expire_all()
    edited = session.get(Incident, incident.id)
    assert edited.title == "Checkout 500s after the payment client upgrade"
    assert (edited.service, edited.team.name) == ("payments-api", "platform")
    assert edited.description == "Every card payment failed for 40 minutes"
    # Empty service and team clear them, as the API's PATCH does.
    client.post(f"/incidents/{incident.id}/edit", data={
        "title": edited.title, "service": "", "team": "", "description": ""})
    session.expire_all()
    cleared = session.get(Incident, incident.id)
    assert (cleared.service, cleared.team, cleared.description) == (None, None, "")


def test_edit_form_refuses_an_empty_title(client, auth, session):
    incident = _declare(session)
    auth.login_as("responder")
    response = client.post(f"/incidents/{incident.id}/edit", data={"title": ""},
                           follow_redirects=True)
    assert "The incident was not saved" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Incident, incident.id).title == "Checkout errors"


def test_viewer_cannot_edit_an_incident(client, auth, session):
    incident = _declare(session)
    auth.login_as("viewer")
    assert b'data-testid="edit-incident"' not in client.get(f"/incidents/{incident.id}").data
    assert client.post(f"/incidents/{incident.id}/edit",
                       data={"title": "x"}).status_code == 403


def test_declare_form_takes_a_start_time_in_the_viewer_zone(client, auth, session):
    from datetime import UTC, datetime, timedelta

    auth.login_as("responder", timezone="Europe/Berlin")
    client.post("/incidents/new", data={
        "title": "Search down since lunch", "severity": "SEV2",
        "detection_method": "customer_report", "change_origin": "unknown",
        "started_at": "2026-06-01T13:15"})
    incident = session.scalar(select(Incident).where(Incident.title == "Search down since lunch"))
    assert incident.started_at == datetime(2026, 6, 1, 11, 15, tzinfo=UTC)
    # Declared now: detected by now at the latest, so time to detect is not zero.
    assert incident.detected_at > datetime.now(UTC) - timedelta(minutes=5)


def test_declare_form_start_defaults_to_now_and_refuses_the_future(client, auth, session):
    from datetime import UTC, datetime, timedelta

    auth.login_as("responder")
    client.post("/incidents/new", data={"title": "Now", "severity": "SEV3",
                                        "detection_method": "alert",
                                        "change_origin": "unknown", "started_at": ""})
    now = session.scalar(select(Incident).where(Incident.title == "Now"))
    assert abs(now.started_at - datetime.now(UTC)) < timedelta(minutes=5)
    later = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/incidents/new", data={
        "title": "Tomorrow", "severity": "SEV3", "detection_method": "alert",
        "change_origin": "unknown", "started_at": later})
    assert "started_at is in the future" in response.get_data(as_text=True)
    assert session.scalar(select(Incident).where(Incident.title == "Tomorrow")) is None
