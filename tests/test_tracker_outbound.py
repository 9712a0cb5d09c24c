"""Creating and linking issues: the real clients against fake GitHub, Jira and Linear APIs.

A tracker outage (5xx, 429 with Retry-After), a vendor that did the work and then answered
with an error, and a crash between the vendor's answer and the commit all end with the issue
created once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from incidents.appdb import new_session
from incidents.audit.models import AuditEntry
from incidents.errors import Conflict, InvalidInput, Refused
from incidents.prevention.models import PreventionItem
from incidents.tracker import jobs
from incidents.tracker import service as trackers
from incidents.tracker.models import IssueState, TrackerLink
from incidents.tracker.providers.base import NoAccess, Unavailable
from tests.fake_slack import reload
from tests.fake_trackers import (  # noqa: F401  (fixtures)
    _fake_github_fixture,
    _fake_jira_fixture,
    _fake_linear_fixture,
    _tracker_app_config_fixture,
    configure_tracker,
    make_item,
    run_job,
)

VENDORS = ["github", "jira", "linear"]


@pytest.fixture
def fakes(fake_github, fake_jira, fake_linear):
    return {"github": fake_github, "jira": fake_jira, "linear": fake_linear}


def issues_in(fake) -> int:
    return len(fake.issues)


def request(app, session, vendor, **item_options) -> tuple[PreventionItem, int]:
    team = configure_tracker(app, vendor)
    item = make_item(session, team, **item_options)
    with app.app_context(), new_session() as db:
        link = trackers.request_issue(session=db, item=db.get(PreventionItem, item.id))
        db.commit()
        return item, link.id


@pytest.mark.parametrize("vendor", VENDORS)
def test_create_in_tracker_opens_the_issue_with_the_items_facts(app, session, fakes, vendor):
    item, link_id = request(app, session, vendor, kind="detect")
    assert "created" in run_job(app, jobs.create_issue, link_id=link_id)
    fake = fakes[vendor]
    assert issues_in(fake) == 1
    link = reload(session, TrackerLink, link_id)
    assert link.state == IssueState.OPEN and link.key and link.url.startswith("https://")
    assert reload(session, PreventionItem, item.id).tracker_url == link.url
    if vendor == "github":
        body = fake.calls_to("POST", r"/issues$")[0].body
        assert body["title"] == item.title
        assert "detect (4 of 5)" in body["body"] and "a guard" in body["body"]
        assert f"http://linecheck.test/prevention/{item.id}" in body["body"]
    elif vendor == "jira":
        fields = fake.created_fields[0]
        assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Task"}
        texts = [node["text"] for p in fields["description"]["content"] for node in p["content"]]
        assert "detect (4 of 5)" in texts and f"http://linecheck.test/prevention/{item.id}" in texts
        assert link.key == "OPS-1" and link.url == "https://acme.atlassian.net/browse/OPS-1"
    else:
        (sent,) = [c.body["variables"]["input"] for c in fake.calls_to("POST", r"/graphql")
                   if "issueCreate" in c.body["query"]]
        assert sent["id"] == link.reference  # the client-chosen id is the issue's id
        assert link.key == "ENG-1"
    again = run_job(app, jobs.create_issue, link_id=link_id)
    assert again.startswith("already created") and issues_in(fake) == 1


@pytest.mark.parametrize("vendor", VENDORS)
def test_outage_then_recovery_creates_the_issue_once(app, session, fakes, vendor):
    fake = fakes[vendor]
    item, link_id = request(app, session, vendor)
    fake.fail(503, times=2)
    fake.fail(429, retry_after=7)
    fake.fail(502, after_work=True)  # the vendor created it, then a gateway lost the answer
    waits = []
    for _ in range(6):
        try:
            run_job(app, jobs.create_issue, link_id=link_id)
            break
        except Unavailable as exc:
            waits.append(exc.retry_after)
    assert 7.0 in waits, waits
    assert issues_in(fake) == 1, "the tracker was asked to create the issue more than once"
    assert reload(session, TrackerLink, link_id).state == IssueState.OPEN


@pytest.mark.parametrize("vendor", VENDORS)
def test_crash_after_the_vendor_answered_finds_the_issue_instead_of_opening_another(
        app, session, fakes, vendor):
    fake = fakes[vendor]
    item, link_id = request(app, session, vendor)
    with app.app_context(), new_session() as db:
        jobs.create_issue(session=db, link_id=link_id)
        db.rollback()  # the worker died before its commit: nothing of the answer was stored
    assert reload(session, TrackerLink, link_id).reference is None
    run_job(app, jobs.create_issue, link_id=link_id)
    assert issues_in(fake) == 1
    link = reload(session, TrackerLink, link_id)
    assert link.key and link.state == IssueState.OPEN
    notes = session.scalars(select(AuditEntry.actor_label).where(
        AuditEntry.action == "prevention.tracker_created")).all()
    assert notes and "earlier attempt" in notes[0]


def test_wrong_credential_is_no_access_and_creates_nothing(app, session, fake_github):
    team = configure_tracker(app, "github", credential="ghp_not_the_right_one_000")
    item = make_item(session, team)
    with app.app_context(), new_session() as db:
        link = trackers.request_issue(session=db, item=db.get(PreventionItem, item.id))
        db.commit()
    with pytest.raises(NoAccess):
        run_job(app, jobs.create_issue, link_id=link.id)
    assert issues_in(fake_github) == 0


def test_a_stored_credential_is_used_and_never_stored_in_clear(app, session, fake_github,
                                                               fakes):
    app.config["GITHUB_TOKEN"] = ""
    team = configure_tracker(app, "github", credential=fake_github.TOKEN)
    stored = session.scalar(select(trackers.Tracker.credential))
    assert fake_github.TOKEN not in stored
    item = make_item(session, team)
    with app.app_context(), new_session() as db:
        link = trackers.request_issue(session=db, item=db.get(PreventionItem, item.id))
        db.commit()
    run_job(app, jobs.create_issue, link_id=link.id)
    assert issues_in(fake_github) == 1


def test_request_needs_a_team_tracker_and_only_one_issue_per_item(app, session, fakes):
    item = make_item(session, "sre")  # a team without a tracker
    with app.app_context(), new_session() as db:
        with pytest.raises(Refused):
            trackers.request_issue(session=db, item=db.get(PreventionItem, item.id))
    item, _ = request(app, session, "github")
    with app.app_context(), new_session() as db:
        with pytest.raises(Conflict):
            trackers.request_issue(session=db, item=db.get(PreventionItem, item.id))


@pytest.mark.parametrize("vendor", VENDORS)
def test_link_existing_recognises_the_url_and_fetches_its_state(app, session, fakes, vendor):
    fake = fakes[vendor]
    # An issue someone opened by hand, already being worked on.
    if vendor == "github":
        issue = fake._new_issue("acme/checkout", "Add a contract test", "")
        fake.assign("acme/checkout#1", "mona")
        url = issue["html_url"]
    elif vendor == "jira":
        fake.route("POST", "/rest/api/3/issue", {}, {"fields": {
            "summary": "Add a contract test", "project": {"key": "OPS"},
            "description": {"type": "doc", "version": 1, "content": []}}})
        fake.transition("OPS-1", "indeterminate")
        fake.assign("OPS-1", "Mia Krystof")
        url = "https://acme.atlassian.net/browse/OPS-1"
    else:
        fake.route("POST", "/graphql", {}, {"query": "mutation { issueCreate }", "variables": {
            "input": {"teamId": fake.TEAM, "title": "Add a contract test"}}})
        (issue_id,) = fake.issues
        fake.set_state(issue_id, "started")
        url = fake.issues[issue_id]["url"]
    item = make_item(session, "sre")  # a team without a tracker
    with app.app_context(), new_session() as db:
        link = trackers.link_issue(session=db, item=db.get(PreventionItem, item.id), url=url)
        db.commit()
    run_job(app, jobs.fetch_state, link_id=link.id)
    link = reload(session, TrackerLink, link.id)
    item = session.get(PreventionItem, item.id)
    if vendor == "github":
        assert (link.state, link.assignee) == (IssueState.OPEN, "mona")
        assert item.status == "proposed"
    else:
        assert link.state == IssueState.IN_PROGRESS
        assert item.status == "in_progress"  # started in the tracker: in progress here
    assert item.tracker_url == link.url
    if vendor != "github":
        assert link.reference != link.key  # the stable id replaced the key from the URL


@pytest.mark.parametrize("url", [
    "https://example.com/acme/checkout/issues/1", "https://github.com/acme/checkout/pull/3",
    "javascript:alert(1)", "https://acme.atlassian.net/browse/lower-1", "x" * 3000, "",
])
def test_link_refuses_urls_no_tracker_recognises(app, session, url):
    item = make_item(session, "sre")  # a team without a tracker
    with app.app_context(), new_session() as db:
        with pytest.raises(InvalidInput):
            trackers.link_issue(session=db, item=db.get(PreventionItem, item.id), url=url)
    assert session.scalar(select(func.count()).select_from(TrackerLink)) == 0


def test_the_same_issue_linked_twice_is_drift_not_a_crash(app, session, fakes):
    first, link_id = request(app, session, "jira")
    run_job(app, jobs.create_issue, link_id=link_id)
    second = make_item(session, "platform", title="Same issue, other item")
    with app.app_context(), new_session() as db:
        other = trackers.link_issue(session=db, item=db.get(PreventionItem, second.id),
                                    url="https://acme.atlassian.net/browse/OPS-1")
        db.commit()
    run_job(app, jobs.fetch_state, link_id=other.id)
    assert reload(session, TrackerLink, other.id).drift == \
        f"Jira OPS-1 is already linked to item {first.id}"
    assert reload(session, TrackerLink, link_id).drift is None
