"""Guards in the browser: the flag on the board, the item page and the review; naming a guard
with the form; confirming a manual guard; each team's N on the admin page."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from incidents.db import utcnow
from incidents.guard import service as guards
from incidents.guard.models import GuardConfirmation, GuardSettings
from incidents.incident import service as incidents
from incidents.prevention import service as prevention
from incidents.review import service as reviews
from tests import guard_payloads as payloads
from tests.conftest import GITHUB_SECRET
from tests.helpers import github_delivery


@pytest.fixture
def failing(client, session):
    """A done item of team payments, linked to an incident, whose guard's last run failed."""
    incident = incidents.declare(session=session, title="Checkout rounding", severity="SEV2")
    item = prevention.create_item(session=session, title="Contract test for amounts",
                                  kind="detect", owner_team="payments")
    prevention.link(session=session, incident=incident, item=item)
    prevention.update(session=session, item=item, status="done", guard=guards.spec(
        provider="github", repository="acme/checkout", name="contract-tests"))
    reviews.start(session=session, incident_id=incident.id)
    session.commit()
    at = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    body = payloads.check_run(run_id=5, name="contract-tests", conclusion="failure", at=at)
    client.post("/hooks/github", **github_delivery("check_run", body, secret=GITHUB_SECRET,
                                                   delivery=str(uuid.uuid4())))
    feature = payloads.check_run(run_id=6, name="contract-tests", conclusion="success", at=at,
                                 branch="feature/x")
    client.post("/hooks/github", **github_delivery("check_run", feature, secret=GITHUB_SECRET))
    return item, incident


def test_a_broken_guard_is_flagged_on_the_board_item_page_and_review(auth, client, failing):
    item, incident = failing
    auth.login_as("reviewer")
    board = client.get("/prevention").get_data(as_text=True)
    assert "guard-broken" in board and "guard failing" in board
    assert "Contract test for amounts" in client.get(
        "/prevention?guard_health=broken").get_data(as_text=True)
    assert "Contract test for amounts" not in client.get(
        "/prevention?guard_health=alive").get_data(as_text=True)
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert 'data-testid="guard-flag"' in page and "its last run on its branch failed" in page
    assert "acme/checkout · contract-tests on the default branch" in page
    assert "feature/x" in page and "does not count" in page  # the PR run shows, not counted
    review = client.get(f"/incidents/{incident.id}/review").get_data(as_text=True)
    assert "guard-broken" in review and "its guard is failing" in review


def test_marking_done_with_a_structured_guard(auth, client, session):
    item = prevention.create_item(session=session, title="Lint for floats", kind="detect")
    session.commit()
    auth.login_as("responder")
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert 'name="guard_provider"' in page and 'name="guard_test_id"' in page
    response = client.post(f"/prevention/{item.id}/status", data={
        "status": "done", "guard_url": "", "guard_provider": "gitlab",
        "guard_repository": "acme/checkout", "guard_name": "lint", "guard_test_id": "",
        "guard_branch": ""})
    assert response.status_code == 302
    session.expire_all()
    assert (item.status, item.guard.provider, item.guard.name) == ("done", "gitlab", "lint")
    refused = client.post(f"/prevention/{item.id}/status", follow_redirects=True, data={
        "guard_url": "", "guard_provider": "github", "guard_repository": "",
        "guard_name": "lint"})
    assert "needs guard.repository" in refused.get_data(as_text=True)
    session.expire_all()
    assert item.guard.provider == "gitlab"


def test_a_pasted_link_alone_is_read(auth, client, session):
    item = prevention.create_item(session=session, title="Contract test", kind="detect")
    session.commit()
    auth.login_as("responder")
    client.post(f"/prevention/{item.id}/status", data={
        "status": "done", "guard_provider": "",
        "guard_url": "https://github.com/acme/checkout/actions/workflows/contract.yml"})
    session.expire_all()
    assert (item.guard.provider, item.guard.name) == ("github",
                                                      ".github/workflows/contract.yml")


def test_confirming_a_manual_guard(auth, client, session):
    item = prevention.create_item(session=session, title="NOT NULL on amounts", kind="eliminate")
    prevention.update(session=session, item=item, status="done",
                      guard=guards.spec(provider="manual", name="orders.amount NOT NULL"))
    session.commit()
    auth.login_as("viewer")
    assert "Still in place" not in client.get(f"/prevention/{item.id}").get_data(as_text=True)
    auth.logout()
    auth.login_as("responder")
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert "Never confirmed" in page and "guard unverified" in page
    client.post(f"/prevention/{item.id}/guard/confirmations",
                data={"in_place": "yes", "note": "checked the schema"})
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert "in place — checked the schema" in page and "guard alive" in page
    (confirmation,) = session.query(GuardConfirmation).all()
    assert confirmation.in_place is True


def test_confirming_a_ci_guard_by_hand_is_refused(auth, client, failing):
    item, _ = failing
    auth.login_as("responder")
    page = client.post(f"/prevention/{item.id}/guard/confirmations", data={"in_place": "yes"},
                       follow_redirects=True).get_data(as_text=True)
    assert "only a manual guard is confirmed by hand" in page


def test_admin_sets_a_teams_days(auth, client, session, failing):
    auth.login_as("admin")
    page = client.get("/admin/guards").get_data(as_text=True)
    assert "payments" in page and "(defaults)" in page
    client.post("/admin/guards", data={"team": "payments", "stale_after_days": "7",
                                       "confirm_every_days": "20"})
    settings = session.query(GuardSettings).one()
    assert (settings.stale_after_days, settings.confirm_every_days) == (7, 20)
    bad = client.post("/admin/guards", data={"team": "payments", "stale_after_days": "0",
                                             "confirm_every_days": "x"}, follow_redirects=True)
    assert "whole number of days" in bad.get_data(as_text=True)
    nobody = client.post("/admin/guards", data={"team": "nobody", "stale_after_days": "3",
                                                "confirm_every_days": "3"},
                         follow_redirects=True)
    assert "no team named" in nobody.get_data(as_text=True)
