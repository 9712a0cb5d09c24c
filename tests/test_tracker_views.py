"""Where people look: the Trackers admin page, "create in tracker" and "link existing" on the
item page, the tracker column of the board (with a constant number of queries), the API's
tracker part, and disagreements in words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from incidents.db import utcnow
from incidents.outbox.models import OutboxJob
from incidents.prevention import service as prevention
from incidents.tracker.models import IssueState, Tracker, TrackerLink
from tests.fake_trackers import (  # noqa: F401  (fixtures)
    FakeGitHub,
    _fake_github_fixture,
    _fake_jira_fixture,
    _fake_linear_fixture,
    _tracker_app_config_fixture,
    configure_tracker,
    make_item,
)
from tests.helpers import count_queries


def tracker_form(**fields) -> dict:
    return {"team": "payments", "vendor": "github", "project": "acme/checkout", "site_url": "",
            "issue_type": "", "credential": "", **fields}


def test_admin_sets_a_tracker_and_never_shows_its_token_again(client, auth, session):
    auth.login_as("admin")
    token = "ghp_secret_token_for_the_page_0001"
    saved = client.post("/admin/trackers", data=tracker_form(credential=token))
    assert saved.status_code == 302
    page = client.get("/admin/trackers").get_data(as_text=True)
    stored = session.scalar(select(Tracker.credential))
    assert token not in page and stored not in page and token not in stored
    assert "acme/checkout" in page and "…0001" in page
    # Saving again without a token keeps the stored one; the schedule is queued once.
    assert client.post("/admin/trackers", data=tracker_form(project="acme/api")).status_code \
        == 302
    session.expire_all()
    assert session.scalar(select(Tracker.credential)) == stored
    assert session.scalar(select(func.count()).select_from(OutboxJob)
                          .where(OutboxJob.kind == "tracker.sync")) == 1


@pytest.mark.parametrize("fields, message", [
    ({"project": "not a repo"}, "owner/repository"),
    ({"vendor": "jira", "project": "OPS"}, "Jira tracker needs its site"),
    ({"vendor": "jira", "project": "ops", "site_url": "https://acme.atlassian.net"},
     "project key"),
    ({"vendor": "trello"}, "Not a valid choice"),
])
def test_admin_page_refuses_a_tracker_it_cannot_use(client, auth, session, fields, message):
    auth.login_as("admin")
    response = client.post("/admin/trackers", data=tracker_form(**fields))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Tracker)) == 0


def test_create_in_tracker_from_the_item_page(app, client, auth, session):
    team = configure_tracker(app, "github")
    item = make_item(session, team)
    auth.login_as("responder")
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert "Create in GitHub · acme/checkout" in page
    response = client.post(f"/prevention/{item.id}/tracker-issue")
    assert response.status_code == 302
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert "being created" in page and "creating…" in page
    session.expire_all()
    assert session.scalar(select(OutboxJob.kind)) == "tracker.create_issue"
    again = client.post(f"/prevention/{item.id}/tracker-issue", follow_redirects=True)
    assert "already has a tracker issue" in again.get_data(as_text=True)


def test_link_existing_from_the_item_page(client, auth, session):
    item = make_item(session, "sre")  # a team without a tracker
    auth.login_as("responder")
    bad = client.post(f"/prevention/{item.id}/tracker-link",
                      data={"url": "https://example.com/x"}, follow_redirects=True)
    assert "not a GitHub, Jira or Linear issue URL" in bad.get_data(as_text=True)
    good = client.post(f"/prevention/{item.id}/tracker-link", follow_redirects=True,
                       data={"url": "https://acme.atlassian.net/browse/OPS-12"})
    assert "Linked Jira OPS-12" in good.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(OutboxJob.kind)) == "tracker.fetch_state"


def test_viewer_sees_the_tracker_but_not_the_buttons(app, client, auth, session):
    team = configure_tracker(app, "github")
    item = make_item(session, team)
    auth.login_as("viewer")
    page = client.get(f"/prevention/{item.id}").get_data(as_text=True)
    assert "Not in a tracker" in page and "Create in GitHub" not in page


def linked(session, item, *, state, closed_days=None, vendor="jira", key="OPS-3"):
    now = utcnow()
    session.add(TrackerLink(
        prevention_item_id=item.id, vendor=vendor, reference=f"r-{item.id}", key=key,
        url=f"https://acme.atlassian.net/browse/{key}", state=state, state_name=str(state),
        assignee="Mia", closed_at=now - timedelta(days=closed_days) if closed_days else None,
        synced_at=now))
    session.commit()


@pytest.mark.parametrize("status, state, closed_days, words", [
    ("in_progress", IssueState.COMPLETED, 12, "closed in Jira 12 days ago, still in progress here"),
    ("committed", IssueState.NOT_PLANNED, 1, "closed in Jira yesterday, still committed here"),
    ("done", IssueState.OPEN, None, "open in Jira, done here"),
    ("dropped", IssueState.COMPLETED, 3, "done in Jira, dropped here"),
])
def test_disagreements_are_said_in_words_on_board_item_and_api(client, auth, api, session,
                                                                status, state, closed_days,
                                                                words):
    item = make_item(session, "platform", kind="local_fix")
    moves = {"in_progress": ["in_progress"], "committed": ["committed"], "done": ["done"],
             "dropped": ["dropped"]}[status]
    for move in moves:
        prevention.update(session=session, item=item, status=move, dropped_reason="dup")
    session.commit()
    linked(session, item, state=state, closed_days=closed_days)
    auth.login_as("viewer")
    assert words in client.get("/prevention").get_data(as_text=True)
    assert words in client.get(f"/prevention/{item.id}").get_data(as_text=True)
    tracker = api.get(f"/api/v1/prevention-items/{item.id}").json["tracker"]
    assert tracker["disagreement"] == words
    assert tracker["key"] == "OPS-3" and tracker["assignee"] == "Mia"


def test_board_query_count_does_not_grow_with_tracked_items(app, client, auth, session):
    auth.login_as("viewer")

    def add(n):
        for i in range(n):
            item = make_item(session, "platform", title=f"item {i}")
            linked(session, item, state=IssueState.OPEN, key=f"OPS-{item.id}")

    def statements():
        assert client.get("/prevention").status_code == 200
        with count_queries(app.extensions["linecheck.engine"]) as seen:
            client.get("/prevention")
        return len(seen)

    add(2)
    small = statements()
    add(30)
    assert statements() == small
