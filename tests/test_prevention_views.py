"""The prevention board and item pages in the browser (test client)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from incidents.incident import service as incidents
from incidents.prevention import service
from incidents.prevention.models import PreventionItem

GUARD = "https://ci.example.com/checks/contract-test"


def make_item(session, title="Contract test", kind="detect", **fields) -> PreventionItem:
    item = service.create_item(session=session, title=title, kind=kind, **fields)
    session.commit()
    return item


def test_board_needs_sign_in(client):
    response = client.get("/prevention")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_board_lists_the_viewers_team_first_with_badges(auth, session, client):
    make_item(session, title="Search reindex guard", owner_team="search")
    mine = make_item(session, title="Payment contract test", owner_team="payments",
                     due_date=date(2020, 1, 1))
    auth.login_as("viewer", team="payments")
    html = client.get("/prevention").get_data(as_text=True)
    assert html.index("Payment contract test") < html.index("Search reindex guard")
    assert "overdue" in html and "detect · 4" in html
    assert f'href="/prevention/{mine.id}"' in html
    assert "Propose an item" not in html  # viewers read, responders act
    assert 'href="/prevention"' in html  # the nav link appears


def test_board_filters(auth, session, client):
    make_item(session, title="Eliminate nulls", kind="eliminate", owner_team="payments")
    make_item(session, title="Remind people", kind="advice", owner_team="search")
    auth.login_as("viewer")
    html = client.get("/prevention?team=search").get_data(as_text=True)
    assert "Remind people" in html and "Eliminate nulls" not in html
    html = client.get("/prevention?strength=5&overdue=no").get_data(as_text=True)
    assert "Eliminate nulls" in html and "Remind people" not in html
    html = client.get("/prevention?strength=8").get_data(as_text=True)
    assert "strength must be" in html


def test_item_page_shows_incidents_history_and_guard(auth, session, client):
    item = make_item(session)
    incident = incidents.declare(session=session, title="Checkout 500s after upgrade")
    service.link(session=session, incident=incident, item=item)
    service.update(session=session, item=item, status="done", guard_url=GUARD)
    session.commit()
    auth.login_as("responder")
    html = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert "Checkout 500s after upgrade" in html
    assert GUARD in html and "status changed" in html and "proposed → done" in html
    assert "Reopen (in progress)" in html
    assert client.get("/prevention/999").status_code == 404


def test_marking_done_asks_for_the_guard(auth, session, client):
    item = make_item(session)
    auth.login_as("responder")
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert 'name="guard_url"' in page and "required" in page
    refused = client.post(f"/prevention/{item.id}/status", data={"status": "done"},
                          follow_redirects=True)
    assert "name its guard before marking a detect item done" in refused.get_data(as_text=True)
    session.refresh(item)
    assert item.status == "proposed"
    client.post(f"/prevention/{item.id}/status", data={"status": "done", "guard_url": GUARD})
    session.refresh(item)
    assert item.status == "done" and item.guard_url == GUARD


def test_dropping_from_the_page_needs_a_reason(auth, session, client):
    item = make_item(session)
    auth.login_as("responder")
    html = client.post(f"/prevention/{item.id}/status", data={"status": "dropped"},
                       follow_redirects=True).get_data(as_text=True)
    assert "dropping an item needs a reason" in html
    client.post(f"/prevention/{item.id}/status",
                data={"status": "dropped", "dropped_reason": "covered by #3"})
    session.refresh(item)
    assert item.status == "dropped" and item.dropped_reason == "covered by #3"


def test_viewers_cannot_change_items(auth, session, client):
    item = make_item(session)
    auth.login_as("viewer")
    response = client.post(f"/prevention/{item.id}/status", data={"status": "committed"})
    assert response.status_code == 403


def test_responder_proposes_an_item_from_the_board(auth, session, client):
    auth.login_as("responder")
    response = client.post("/prevention", data={
        "title": "Schema constraint on amount", "kind": "eliminate", "station_id": "0",
        "owner_team": "payments", "due_date": "2026-12-01", "tracker_url": "",
        "description": ""})
    assert response.status_code == 302
    item = session.scalars(select(PreventionItem)).one()
    assert item.title == "Schema constraint on amount" and item.station_id is None
    assert response.headers["Location"].endswith(f"/prevention/{item.id}")
    bad = client.post("/prevention", data={"title": "", "kind": "eliminate", "station_id": "0"},
                      follow_redirects=True)
    assert "needs a title" in bad.get_data(as_text=True)


@pytest.mark.csrf
def test_status_form_refuses_without_csrf_token(session, client):
    item = make_item(session)
    response = client.post(f"/prevention/{item.id}/status", data={"status": "committed"})
    assert response.status_code == 400  # CSRF is checked before anything else
    session.refresh(item)
    assert item.status == "proposed"
