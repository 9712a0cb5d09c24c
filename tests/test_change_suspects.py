"""Suspect changes: ranked with their reasons; confirming one links it, sets the incident's
change origin and records in the station walk what the change's record proves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from incidents.audit.models import AuditEntry
from incidents.change import rules
from incidents.change import service as changes
from incidents.change.sources import ChangeFacts
from incidents.incident import service as incidents
from incidents.incident.models import Incident
from incidents.line import service as line
from incidents.review import service as reviews
from incidents.timeline.models import TimelineEvent
from tests.change_payloads import sha
from tests.helpers import count_queries

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(session, name: str, *, service="checkout", minutes_before=10, **facts) -> int:
    """A deployed change, as `/hooks/changes` would record it; returns its id."""
    fact = ChangeFacts(source="changes", repository=f"acme/{service}", revision=sha(name),
                       service=service, environment="production", title=name,
                       deployed_at=START - timedelta(minutes=minutes_before), **facts)
    applied = changes.apply(session=session, facts=[fact], settings=changes.Settings())
    return applied.changes[0].id


@pytest.fixture
def incident(session):
    found = incidents.declare(session=session, title="Checkout errors from the payment client",
                              service="checkout", started_at=START)
    session.commit()
    return found


@pytest.fixture
def history(session, incident):
    ids = {
        "risky": record(session, "Retry payments on timeout", minutes_before=10, approvals=0,
                        checks_passed=False, failing_checks=("integration-tests",),
                        canary=False, components=("payment client", "ledger"),
                        declared_origin="ai_assisted"),
        "careful": record(session, "Add metrics", minutes_before=240, approvals=2,
                          checks_passed=True, canary=True, declared_origin="human"),
        "unknowns": record(session, "Tidy imports", minutes_before=600),
        "too_old": record(session, "Old change", minutes_before=60 * 30),
        "after": record(session, "Hotfix", minutes_before=-30),
        "elsewhere": record(session, "Search tweak", service="search"),
    }
    session.commit()
    return ids


def suspects_of(api, incident_id):
    response = api.get(f"/api/v1/incidents/{incident_id}/suspect-changes")
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_suspects_are_ranked_with_their_reasons(api_reader, incident, history):
    found = suspects_of(api_reader, incident.id)
    assert [s["change"]["id"] for s in found] == [history["risky"], history["careful"],
                                                  history["unknowns"]]
    risky = found[0]
    assert risky["reasons"] == [
        "same service: checkout",
        "deployed 10 min before the incident started",
        "touched payment client, named in the incident",
        "no canary",
        "merged with a failing required check (integration-tests)",
        "merged with no approval",
    ]
    # 2 (service) + 3 × (1 − 10/1440) (recency) + 3 + 1 + 2 + 2
    assert risky["score"] == round(2 + 3 * (1 - 10 / 1440) + 3 + 1 + 2 + 2, 2)
    assert risky["minutes_before"] == 10
    assert [s["station"] for s in risky["suggestions"]] == ["review", "ci", "canary"]
    careful = found[1]
    assert careful["reasons"] == ["same service: checkout",
                                  "deployed 4 h 00 min before the incident started"]
    assert careful["score"] == 4.5 and careful["suggestions"] == []
    # Unknown facts are not held against a change.
    assert found[2]["reasons"][2:] == [] and found[2]["change"]["approvals"] is None


def test_the_window_is_a_setting(app, api_reader, incident, history):
    app.config["SUSPECT_WINDOW_HOURS"] = 2
    assert [s["change"]["id"] for s in suspects_of(api_reader, incident.id)] == [
        history["risky"]]


def test_no_suspects_without_a_service_and_404_for_no_incident(api_reader, session):
    bare = incidents.declare(session=session, title="Something", started_at=START)
    session.commit()
    assert suspects_of(api_reader, bare.id) == []
    assert api_reader.get("/api/v1/incidents/999999/suspect-changes").status_code == 404
    assert api_reader.get("/api/v1/incidents/999999/changes").status_code == 404


def findings_of(session, incident_id):
    session.expire_all()
    review = reviews.find(session=session, incident_id=incident_id)
    return {f.station.name: (f.reason, f.note) for f in review.findings} if review else {}


def test_confirming_sets_the_origin_and_prefills_the_station_walk(api, session, incident,
                                                                  history):
    response = api.post(f"/api/v1/incidents/{incident.id}/changes",
                        json={"change_id": history["risky"]})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["created"] is True and body["change_origin"] == "ai_assisted"
    short = sha("Retry payments on timeout")[:8]
    assert findings_of(session, incident.id) == {
        "Code review": ("bypassed", f"Change {short} merged with no approval on record."),
        "CI integration tests": ("bypassed", f"Change {short} merged while required checks "
                                             "were failing (integration-tests)."),
        "Canary": ("no_check", f"Change {short} reached production with no canary deploy "
                               "before it."),
    }
    assert len(body["findings"]) == 3 and body["skipped"] == []
    session.expire_all()
    assert session.get(Incident, incident.id).change_origin == "ai_assisted"
    actions = [a.action for a in session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "incident", AuditEntry.entity_id == incident.id))]
    assert "incident.updated" in actions and "change.confirmed" in actions
    [note] = session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id,
        TimelineEvent.external_key == f"change-confirmed:{history['risky']}"))
    assert "confirmed as a trigger: AI-assisted" in note.text

    again = api.post(f"/api/v1/incidents/{incident.id}/changes",
                     json={"change_id": history["risky"]})
    assert again.status_code == 200 and again.json["created"] is False
    confirmed = api.get(f"/api/v1/incidents/{incident.id}/changes").json["items"]
    assert [c["id"] for c in confirmed] == [history["risky"]]
    assert history["risky"] not in [s["change"]["id"] for s in suspects_of(api, incident.id)]


def test_the_reviewer_can_still_change_the_prefilled_findings(api, session, incident,
                                                              history):
    api.post(f"/api/v1/incidents/{incident.id}/changes", json={"change_id": history["risky"]})
    review = reviews.find(session=session, incident_id=incident.id)
    canary = next(s for s in line.stations(session=session) if s.name == "Canary")
    reviews.remove_finding(session=session, review=review, station_id=canary.id)
    code_review = next(s for s in line.stations(session=session) if s.name == "Code review")
    reviews.set_finding(session=session, review=review, station_id=code_review.id,
                        reason="signal_missed", note="It was reviewed, out of band")
    session.commit()
    assert findings_of(session, incident.id)["Code review"][0] == "signal_missed"
    assert "Canary" not in findings_of(session, incident.id)


def test_a_finding_the_reviewer_wrote_is_kept(api, session, incident, history):
    review = reviews.start(session=session, incident_id=incident.id)
    code_review = next(s for s in line.stations(session=session) if s.name == "Code review")
    reviews.set_finding(session=session, review=review, station_id=code_review.id,
                        reason="not_covered", note="Mine")
    session.commit()
    body = api.post(f"/api/v1/incidents/{incident.id}/changes",
                    json={"change_id": history["risky"]}).json
    assert findings_of(session, incident.id)["Code review"] == ("not_covered", "Mine")
    assert any("Code review already has the reviewer's finding" in s for s in body["skipped"])


def test_a_published_review_is_not_touched(api, session, incident, history):
    review = reviews.start(session=session, incident_id=incident.id)
    review.state = "published"
    session.commit()
    body = api.post(f"/api/v1/incidents/{incident.id}/changes",
                    json={"change_id": history["risky"]}).json
    assert body["findings"] == [] and len(body["skipped"]) == 3
    assert all("published" in s for s in body["skipped"])
    assert findings_of(session, incident.id) == {}


def test_an_unknown_change_keeps_the_reviewers_origin(api, session, incident, history):
    incidents.update(session=session, incident=incident,
                     changes=incidents.Changes(change_origin="config"))
    session.commit()
    body = api.post(f"/api/v1/incidents/{incident.id}/changes",
                    json={"change_id": history["unknowns"]}).json
    assert body["change_origin"] == "config" and "keeps config" in body["origin_note"]


def test_an_incident_follows_its_change_when_a_rule_reclassifies_it(api, session, incident,
                                                                    history):
    api.post(f"/api/v1/incidents/{incident.id}/changes", json={"change_id": history["unknowns"]})
    other = incidents.declare(session=session, title="Set by hand", service="checkout",
                              started_at=START, change_origin="third_party")
    session.commit()
    api.post(f"/api/v1/incidents/{other.id}/changes", json={"change_id": history["unknowns"]})
    rules.add(session=session, field="title", pattern="tidy *", origin="human")
    session.commit()
    session.expire_all()
    assert session.get(Incident, incident.id).change_origin == "human"
    assert session.get(Incident, other.id).change_origin == "third_party"  # the reviewer's


def test_confirm_refuses_unknown_ids(api, incident):
    assert api.post(f"/api/v1/incidents/{incident.id}/changes",
                    json={"change_id": 999999}).status_code == 404
    assert api.post("/api/v1/incidents/999999/changes",
                    json={"change_id": 1}).status_code == 404
    assert api.post(f"/api/v1/incidents/{incident.id}/changes",
                    json={"change_id": "x"}).status_code == 400


def test_incident_page_shows_suspects_and_a_reviewer_confirms_from_the_review(
        client, auth, session, incident, history):
    auth.login_as("viewer")
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Retry payments on timeout" in page and "merged with no approval" in page
    assert "Confirm as the trigger" not in page
    auth.login_as("reviewer")
    page = client.get(f"/incidents/{incident.id}/review").get_data(as_text=True)
    assert "Confirm as the trigger" in page
    response = client.post(f"/incidents/{incident.id}/changes",
                           data={"change_id": history["risky"], "back": "review"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{incident.id}/review"
                                                 "#station-walk")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Recorded in the station walk: Code review: bypassed" in page
    assert "merged with no approval on record" in page
    change_page = client.get(f"/changes/{history['risky']}").get_data(as_text=True)
    assert "declared AI-assisted by the sender" in change_page
    assert f"#{incident.id} Checkout errors" in change_page


def test_incident_page_query_count_does_not_grow_with_changes(app, client, auth, session,
                                                              incident, api):
    auth.login_as("reviewer")
    first = record(session, "Seed change", approvals=0, canary=False)
    session.commit()
    api.post(f"/api/v1/incidents/{incident.id}/changes", json={"change_id": first})
    path = f"/incidents/{incident.id}"
    client.get(path)
    with count_queries(app.extensions["linecheck.engine"]) as few:
        assert client.get(path).status_code == 200
    for n in range(60):
        record(session, f"Change {n}", minutes_before=5 + n * 10, approvals=n % 2,
               canary=bool(n % 3), components=("payment client",))
    session.commit()
    for n in range(3):
        api.post(f"/api/v1/incidents/{incident.id}/changes",
                 json={"change_id": first + 1 + n})
    with count_queries(app.extensions["linecheck.engine"]) as many:
        page = client.get(path).get_data(as_text=True)
    assert page.count('class="suspect"') == 10
    assert len(many) == len(few)


def test_demo_data_shows_suspects_and_per_change_rates(session, api_reader):
    from incidents import demo

    demo.load(session=session)
    session.commit()
    open_incident = session.scalar(select(Incident).where(Incident.status != "resolved"))
    found = suspects_of(api_reader, open_incident.id)
    assert [s["change"]["title"] for s in found] == [
        "Paginate order history with a window query",
        "Add index on orders(customer_id, created_at)", "Raise orders pool size to 40"]
    assert "merged with no approval" in found[0]["reasons"]
    report = api_reader.get("/api/v1/reports/recurrence").json
    rows = {r["change_origin"]: r for r in report["by_change_origin"]}
    assert set(rows) == {"ai_assisted", "human", "config", "third_party", "unknown"}
    assert all(r["changes"] > 0 for r in rows.values())
    assert report["change_attribution"]["incidents_linked_to_a_change"] == 9
    assert 0 < report["change_attribution"]["unknown_share"] < 0.3
