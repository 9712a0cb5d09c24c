"""Recurrence over HTTP: the API, the candidates page and partial, confirm/dismiss forms."""

from __future__ import annotations

from datetime import timedelta

from flask import g, render_template
from sqlalchemy import select

from incidents.appdb import get_session
from incidents.db import utcnow
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionItem
from incidents.recurrence import service
from incidents.recurrence.models import DismissedCandidate, RecurrenceLink
from tests.test_recurrence import GUARD, make_incident


def pair(session):
    """An earlier incident with a done detect item, and a later one with the same alert."""
    earlier = make_incident(session, "Checkout 500s after client upgrade", 30,
                            service_name="checkout", fingerprint="fp-5xx")
    item = prevention.create_item(session=session, title="Contract test", kind="detect")
    prevention.link(session=session, incident=earlier, item=item)
    prevention.update(session=session, item=item, status="done", guard_url=GUARD,
                      now=utcnow() - timedelta(days=20))
    current = make_incident(session, "Checkout 500s on currency field", 2,
                            service_name="checkout", fingerprint="fp-5xx", resolve=False)
    session.commit()
    return earlier, current, item


def test_api_lists_candidates_best_first_with_reasons(api_reader, session):
    earlier, current, _ = pair(session)
    response = api_reader.get(f"/api/v1/incidents/{current.id}/recurrence-candidates")
    assert response.status_code == 200
    (first,) = response.json["items"]
    assert first["incident_id"] == earlier.id and first["score"] > 5
    assert first["reasons"][0] == "same alert fingerprint fp-5xx"
    assert response.json["next"] is None
    assert api_reader.get("/api/v1/incidents/999/recurrence-candidates").status_code == 404
    assert api_reader.get(f"/api/v1/incidents/{current.id}/recurrence-candidates?limit=0"
                          ).status_code == 400


def test_api_confirms_a_recurrence_and_reports_escaped_items(api, session):
    earlier, current, item = pair(session)
    url = f"/api/v1/incidents/{current.id}/recurrences"
    created = api.post(url, json={"of": earlier.id})
    assert created.status_code == 201, created.json
    assert created.json["earlier_incident_id"] == earlier.id
    assert created.json["escaped_item_ids"] == [item.id]
    assert created.json["reasons"][0] == "same alert fingerprint fp-5xx"
    again = api.post(url, json={"of": earlier.id})
    assert again.status_code == 200 and again.json["id"] == created.json["id"]
    assert again.json["escaped_item_ids"] == []
    escaped = api.get(f"/api/v1/prevention-items/{item.id}").json
    assert escaped["outcome"] == "escaped" and escaped["escaped_by_incident_id"] == current.id
    listed = api.get(f"/api/v1/incidents/{earlier.id}/recurrences").json["items"]
    assert [link["incident_id"] for link in listed] == [current.id]
    assert api.get(f"/api/v1/incidents/{current.id}/recurrence-candidates").json["items"] == []


def test_api_refuses_bad_recurrences(api, api_reader, session):
    earlier, current, _ = pair(session)
    url = f"/api/v1/incidents/{current.id}/recurrences"
    assert api.post(url, json={}).json["field"] == "of"
    assert api.post(url, json={"of": "x"}).status_code == 400
    assert api.post(url, json={"of": current.id}).json["field"] == "of"
    later = api.post(f"/api/v1/incidents/{earlier.id}/recurrences", json={"of": current.id})
    assert later.status_code == 400 and "earlier" in later.json["error"]
    assert api.post(url, json={"of": 999}).status_code == 404
    assert api.post(url, json={"of": 2**31}).json["field"] == "of"
    assert api.post("/api/v1/incidents/999/recurrences", json={"of": earlier.id}
                    ).status_code == 404
    assert api_reader.post(url, json={"of": earlier.id}).status_code == 403
    assert session.scalars(select(RecurrenceLink)).all() == []


def test_api_dismisses_a_candidate(api, session):
    earlier, current, _ = pair(session)
    url = f"/api/v1/incidents/{current.id}/recurrence-candidates"
    assert api.post(f"{url}/dismissals", json={"candidate_id": earlier.id}).status_code == 204
    assert api.post(f"{url}/dismissals", json={"candidate_id": earlier.id}).status_code == 204
    assert api.post(f"{url}/dismissals", json={"candidate_id": 999}).status_code == 404
    assert api.post(f"{url}/dismissals", json={}).status_code == 400
    assert api.get(url).json["items"] == []
    assert len(session.scalars(select(DismissedCandidate)).all()) == 1


def test_candidates_page_confirms_with_a_form_and_shows_the_escape(auth, client, session):
    earlier, current, item = pair(session)
    auth.login_as("reviewer")
    html = client.get(f"/incidents/{current.id}/recurrences").get_data(as_text=True)
    assert "same alert fingerprint fp-5xx" in html and "Confirm recurrence" in html
    response = client.post(f"/incidents/{current.id}/recurrences",
                           data={"of": earlier.id, "back": "page"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Marked escaped" in html and "Contract test" in html
    assert f"Recurrence of <a href=\"/incidents/{earlier.id}\">#{earlier.id}" in html
    item_page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert "Escaped" in item_page and f"#{current.id}" in item_page
    board = client.get("/prevention?outcome=escaped").get_data(as_text=True)
    assert "Contract test" in board and "outcome-escaped" in board


def test_candidates_page_dismisses_and_refuses_viewers(auth, client, session):
    earlier, current, _ = pair(session)
    auth.login_as("reviewer")
    client.post(f"/incidents/{current.id}/recurrences/dismissals",
                data={"candidate_id": earlier.id})
    html = client.get(f"/incidents/{current.id}/recurrences").get_data(as_text=True)
    assert "No earlier incident looks like this one" in html
    assert client.post(f"/incidents/{current.id}/recurrences", data={}).status_code == 400
    bad = client.post(f"/incidents/{current.id}/recurrences", data={"of": current.id},
                      follow_redirects=True)
    assert "cannot be a recurrence of itself" in bad.get_data(as_text=True)
    auth.logout()
    auth.login_as("viewer")
    assert client.post(f"/incidents/{current.id}/recurrences",
                       data={"of": earlier.id}).status_code == 403
    assert client.get("/incidents/999/recurrences").status_code == 404


def test_partial_renders_confirm_and_dismiss_forms_for_the_review_page(app, make_user, session):
    earlier, current, _ = pair(session)
    reviewer = make_user("reviewer")
    with app.test_request_context("/"):
        g.user = reviewer
        db = get_session()
        html = render_template("recurrence/_candidates.html", incident=current,
                               candidates=service.candidates(session=db,
                                                             incident_id=current.id))
    step = f"/incidents/{current.id}/recurrences/confirm?of={earlier.id}&amp;back=review"
    assert f'href="{step}"' in html
    assert f'action="/incidents/{current.id}/recurrences/dismissals"' in html
    assert 'name="csrf_token"' in html
    assert 'name="back" value="review"' in html
    assert session.scalars(select(PreventionItem)).one().escaped_at is None


def test_api_undoes_a_recurrence_and_the_item_is_no_longer_escaped(api, api_reader, session):
    earlier, current, item = pair(session)
    api.post(f"/api/v1/incidents/{current.id}/recurrences", json={"of": earlier.id})
    url = f"/api/v1/incidents/{current.id}/recurrences/{earlier.id}"
    assert api_reader.delete(url).status_code == 403
    undone = api.delete(url)
    assert undone.status_code == 200, undone.json
    assert undone.json == {"incident_id": current.id, "earlier_incident_id": earlier.id,
                           "no_longer_escaped_item_ids": [item.id],
                           "escaped_by_another_item_ids": []}
    assert api.get(f"/api/v1/prevention-items/{item.id}").json["escaped_by_incident_id"] is None
    assert api.get(f"/api/v1/incidents/{current.id}/recurrences").json["items"] == []
    again = api.delete(url)
    assert again.status_code == 404 and "not a confirmed recurrence" in again.json["error"]


def test_confirm_step_shows_what_will_be_escaped_before_anything_changes(auth, client,
                                                                         session):
    earlier, current, item = pair(session)
    auth.login_as("reviewer")
    html = client.get(f"/incidents/{current.id}/recurrences").get_data(as_text=True)
    step = f"/incidents/{current.id}/recurrences/confirm?of={earlier.id}&amp;back=page"
    assert step in html
    page = client.get(step.replace("&amp;", "&"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="escaping"' in html and "Contract test" in html
    assert f'name="of" value="{earlier.id}"' in html
    session.expire_all()
    assert session.get(PreventionItem, item.id).escaped_at is None
    assert session.scalars(select(RecurrenceLink)).all() == []
    assert client.get(f"/incidents/{current.id}/recurrences/confirm").status_code == 400
    assert client.get(f"/incidents/{current.id}/recurrences/confirm?of=999").status_code == 404


def test_undo_from_the_page_puts_the_item_back(auth, client, session):
    earlier, current, item = pair(session)
    auth.login_as("reviewer")
    client.post(f"/incidents/{current.id}/recurrences", data={"of": earlier.id})
    response = client.post(f"/incidents/{current.id}/recurrences/{earlier.id}/undo",
                           data={"back": "page"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "no longer a recurrence" in html and "No longer escaped: “Contract test”" in html
    session.expire_all()
    assert session.get(PreventionItem, item.id).escaped_at is None
    missing = client.post(f"/incidents/{current.id}/recurrences/{earlier.id}/undo",
                          follow_redirects=True)
    assert "not a confirmed recurrence" in missing.get_data(as_text=True)
