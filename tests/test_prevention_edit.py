"""Editing a prevention item: what it says, who does it, when it is due; stale edits refused."""

from __future__ import annotations

from datetime import date

import pytest

from incidents.line import service as line
from incidents.prevention import service
from incidents.prevention.models import PreventionItem
from tests.helpers import ApiClient

GUARD = "https://ci.example.com/checks/contract-test"


def make_item(session, **fields) -> PreventionItem:
    item = service.create_item(session=session, title=fields.pop("title", "Contract test"),
                               kind=fields.pop("kind", "detect"), **fields)
    session.commit()
    return item


def url(item) -> str:
    return f"/api/v1/prevention-items/{item.id}"


def test_patch_edits_every_field_with_the_create_calls_names(api, session, make_user):
    item = make_item(session, owner_team="payments", due_date=date(2026, 12, 1))
    dana = make_user("responder", email="dana@example.com")
    ci = line.stations(session=session)[3]
    response = api.patch(url(item), json={
        "revision": 0, "title": "Schema constraint on payment amounts",
        "description": "amount NOT NULL CHECK (amount >= 0)", "kind": "eliminate",
        "station_id": ci.id, "owner_team": "platform", "assignee": "DANA@example.com",
        "due_date": "2026-12-15", "reason": "waiting on the ledger migration window"})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["title"], body["kind"], body["strength"]) == (
        "Schema constraint on payment amounts", "eliminate", 5)
    assert body["description"] == "amount NOT NULL CHECK (amount >= 0)"
    assert (body["station_id"], body["station"]) == (ci.id, ci.name)
    assert (body["owner_team"], body["assignee"]) == ("platform", dana.email)
    assert body["due_date"] == "2026-12-15" and body["revision"] == 1
    assert api.get(url(item)).json == body

    history = {e.action: e.detail for e in service.history(session=session, item_id=item.id)}
    assert history["prevention.rescheduled"] == {
        "old": "2026-12-01", "new": "2026-12-15",
        "reason": "waiting on the ledger migration window"}
    assert history["prevention.edited"]["changes"]["assignee"] == ["", "dana@example.com"]
    assert history["prevention.edited"]["changes"]["kind"] == ["detect", "eliminate"]


def test_moving_a_set_due_date_needs_a_reason(api, session):
    item = make_item(session, due_date=date(2026, 12, 1))
    refused = api.patch(url(item), json={"revision": 0, "due_date": "2027-01-10"})
    assert refused.status_code == 422 and refused.json["field"] == "reason"
    assert api.get(url(item)).json["due_date"] == "2026-12-01"
    # A first due date is a plan, not a reschedule.
    undated = make_item(session, title="Alert on payment error rate", kind="fail_loudly")
    first = api.patch(url(undated), json={"revision": 0, "due_date": "2027-01-10"})
    assert first.status_code == 200 and first.json["due_date"] == "2027-01-10"


def test_a_stale_edit_is_refused_with_the_current_item(api, session):
    item = make_item(session)
    assert api.patch(url(item), json={"revision": 0, "title": "First"}).status_code == 200
    stale = api.patch(url(item), json={"revision": 0, "title": "Second"})
    assert stale.status_code == 409 and stale.json["field"] == "revision"
    assert stale.json["current"]["title"] == "First"
    assert stale.json["current"]["revision"] == 1
    assert api.get(url(item)).json["title"] == "First"


def test_a_status_move_makes_an_edit_started_before_it_stale(api, session):
    item = make_item(session)
    assert api.patch(url(item), json={"status": "committed"}).json["revision"] == 1
    assert api.patch(url(item), json={"revision": 0, "title": "x"}).status_code == 409
    # A status move naming a revision is checked as well.
    assert api.patch(url(item), json={"revision": 0, "status": "in_progress"}
                     ).status_code == 409
    assert api.patch(url(item), json={"revision": 1, "status": "in_progress"}
                     ).json["status"] == "in_progress"


def test_an_edit_needs_the_revision_it_started_from(api, session):
    item = make_item(session)
    response = api.patch(url(item), json={"title": "No revision"})
    assert response.status_code == 400 and response.json["field"] == "revision"


@pytest.mark.parametrize(("fields", "status", "field"), [
    ({"title": ""}, 400, "title"),
    ({"kind": "pray"}, 400, "kind"),
    ({"assignee": "nobody@example.com"}, 404, "email"),
    ({"station_id": 999}, 404, "station_id"),
    ({"due_date": "soon"}, 400, "due_date"),
])
def test_patch_refuses_bad_edits_with_the_field_named(api, session, fields, status, field):
    item = make_item(session)
    response = api.patch(url(item), json={"revision": 0, **fields})
    assert response.status_code == status, response.json
    assert response.json["field"] == field
    assert api.get(url(item)).json["revision"] == 0


def test_a_done_item_cannot_become_a_guarded_kind_without_a_guard(api, session):
    item = make_item(session, kind="contain")
    assert api.patch(url(item), json={"status": "done"}).status_code == 200
    refused = api.patch(url(item), json={"revision": 1, "kind": "detect"})
    assert refused.status_code == 422 and refused.json["field"] == "guard_url"


def test_patch_needs_a_write_token(client, make_token, session):
    item = make_item(session)
    reader = ApiClient(client, make_token("api:read"))
    assert reader.patch(url(item), json={"revision": 0, "title": "x"}).status_code == 403


# --- the item page --------------------------------------------------------------------------

def _form(item, **fields) -> dict:
    return {"revision": str(item.revision), "title": item.title, "kind": str(item.kind),
            "station_id": "0", "owner_team": "", "assignee": "", "due_date": "",
            "reason": "", "description": "", **fields}


def test_item_page_edits_and_shows_the_history(auth, session, client, make_user):
    item = make_item(session, due_date=date(2026, 12, 1))
    dana = make_user("responder", email="dana@example.com", name="Dana")
    auth.login_as("responder")
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert 'data-testid="edit-item"' in page and 'value="Contract test"' in page
    response = client.post(f"/prevention/{item.id}/edit", data=_form(
        item, title="Contract test in CI", assignee=dana.email, owner_team="payments",
        due_date="2026-12-20", reason="the provider's sandbox is down"))
    assert response.status_code == 302
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert "Contract test in CI" in page
    assert '<dd data-testid="assignee">Dana</dd>' in page
    history = page.split("<h2>History</h2>")[1]
    assert "2026-12-01 → 2026-12-20" in history
    assert "the provider&#39;s sandbox is down" in history
    assert "title: Contract test → Contract test in CI" in history


def test_item_page_refuses_a_move_without_reason_and_keeps_what_was_typed(auth, session,
                                                                           client):
    item = make_item(session, due_date=date(2026, 12, 1))
    auth.login_as("responder")
    response = client.post(f"/prevention/{item.id}/edit", data=_form(
        item, title="Typed title", due_date="2027-02-01"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "moving a due date needs a reason" in html and 'value="Typed title"' in html
    session.expire_all()
    assert session.get(PreventionItem, item.id).title == "Contract test"


def test_item_page_refuses_a_stale_edit_and_keeps_what_was_typed(auth, session, client):
    item = make_item(session)
    auth.login_as("responder")
    form = _form(item, title="Mine")
    service.edit(session=session, item=item, base_revision=0, title="Theirs")
    session.commit()
    response = client.post(f"/prevention/{item.id}/edit", data=form)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed while you were editing" in html and 'value="Mine"' in html
    assert '<h1><span class="muted">Item' in html and "Theirs" in html
    assert 'name="revision" type="hidden" value="1"' in html
    session.expire_all()
    assert session.get(PreventionItem, item.id).title == "Theirs"


def test_viewers_cannot_edit_items(auth, session, client):
    item = make_item(session)
    auth.login_as("viewer")
    assert 'data-testid="edit-item"' not in client.get(f"/prevention/{item.id}").get_data(
        as_text=True)
    assert client.post(f"/prevention/{item.id}/edit", data=_form(item)).status_code == 403
