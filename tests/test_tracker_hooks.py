"""Tracker webhooks: GitHub `issues` at /hooks/github, Jira at /hooks/jira, Linear at
/hooks/linear — signatures, bad input, replays and concurrent duplicates, and the state
rules each event applies to the linked prevention item."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from incidents.appdb import new_session
from incidents.audit.models import AuditEntry
from incidents.inbox.models import Delivery
from incidents.prevention.models import PreventionItem
from incidents.tracker import jobs
from incidents.tracker import service as trackers
from incidents.tracker.models import IssueState, TrackerLink
from tests.fake_slack import reload
from tests.fake_trackers import (  # noqa: F401  (fixtures)
    LINEAR_SECRET,
    _fake_github_fixture,
    _fake_jira_fixture,
    _fake_linear_fixture,
    _tracker_app_config_fixture,
    configure_tracker,
    make_item,
    run_job,
)
from tests.tracker_support import HOOKS, Driver

VENDORS = ["github", "jira", "linear"]


@pytest.fixture
def drivers(fake_github, fake_jira, fake_linear):
    return {"github": Driver("github", fake_github), "jira": Driver("jira", fake_jira),
            "linear": Driver("linear", fake_linear)}


def tracked(app, session, vendor, *, kind="detect") -> tuple[int, TrackerLink]:
    """An item of the vendor's team with its issue created in the fake; (item id, link)."""
    team = configure_tracker(app, vendor)
    item = make_item(session, team, kind=kind)
    with app.app_context(), new_session() as db:
        link_id = trackers.request_issue(session=db, item=db.get(PreventionItem, item.id)).id
        db.commit()
    run_job(app, jobs.create_issue, link_id=link_id)
    return item.id, reload(session, TrackerLink, link_id)


def history(session, item_id) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "prevention_item", AuditEntry.entity_id == item_id)
        .order_by(AuditEntry.id)))


def deliveries(session, sender) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Delivery)
                          .where(Delivery.sender == sender))


# --- the state rules ------------------------------------------------------------------------

@pytest.mark.parametrize("vendor", VENDORS)
def test_closed_as_completed_asks_a_structural_item_for_its_guard(app, client, session,
                                                                   drivers, vendor):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor, kind="detect")
    response = driver.deliver(client, driver.close_completed(link))
    assert response.status_code == 200, response.json
    assert response.json["status"] == "applied"
    assert response.json["prevention_items"] == [item_id]
    item = reload(session, PreventionItem, item_id)
    assert item.status == "in_progress"  # not done: the guard is missing
    assert trackers.guard_needed(item)
    assert trackers.disagreement(item, item.created_at) is None
    lines = history(session, item_id)
    asked = [e for e in lines if e.action == "prevention.guard_requested"]
    assert len(asked) == 1 and "webhook" in asked[0].actor_label
    moved = [e for e in lines if e.action == "prevention.status_changed"]
    assert moved[-1].detail["new"] == "in_progress" and "webhook" in moved[-1].actor_label


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("kind", ["local_fix", "contain", "advice"])
def test_closed_as_completed_finishes_an_item_that_needs_no_guard(app, client, session,
                                                                   drivers, vendor, kind):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor, kind=kind)
    assert driver.deliver(client, driver.close_completed(link)).status_code == 200
    item = reload(session, PreventionItem, item_id)
    assert item.status == "done" and item.completed_at is not None
    assert not trackers.guard_needed(item)


@pytest.mark.parametrize("vendor", VENDORS)
def test_closed_as_not_planned_drops_the_item_with_that_reason(app, client, session, drivers,
                                                               vendor):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor)
    assert driver.deliver(client, driver.close_not_planned(link)).status_code == 200
    item = reload(session, PreventionItem, item_id)
    assert item.status == "dropped"
    expected = {"github": "GitHub: closed as not planned", "jira": "Jira: Done (Won't Do)",
                "linear": "Linear: Canceled"}[vendor]
    assert item.dropped_reason == expected


@pytest.mark.parametrize("vendor", VENDORS)
def test_reopened_moves_a_dropped_or_done_item_back_in_progress(app, client, session, drivers,
                                                                vendor):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor, kind="local_fix")
    driver.deliver(client, driver.close_not_planned(link))
    assert reload(session, PreventionItem, item_id).status == "dropped"
    assert driver.deliver(client, driver.reopen(link)).status_code == 200
    item = reload(session, PreventionItem, item_id)
    assert item.status == "in_progress" and item.dropped_reason is None
    driver.deliver(client, driver.close_completed(link))
    assert reload(session, PreventionItem, item_id).status == "done"
    driver.deliver(client, driver.reopen(link))
    item = reload(session, PreventionItem, item_id)
    assert item.status == "in_progress" and item.completed_at is None


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_older_event_arriving_late_changes_nothing(app, client, session, drivers, vendor):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor, kind="local_fix")
    closed = driver.close_not_planned(link)
    reopened = driver.reopen(link)
    assert driver.deliver(client, reopened).status_code == 200
    late = driver.deliver(client, closed)  # sent first, arrived last
    assert late.status_code == 200 and "older" in late.json["message"]
    assert reload(session, PreventionItem, item_id).status != "dropped"


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_issue_no_item_is_linked_to_is_recorded_and_ignored(app, client, session, drivers,
                                                               vendor):
    driver = drivers[vendor]
    _, link = tracked(app, session, vendor)
    body = driver.close_completed(link)
    with app.app_context(), new_session() as db:
        db.delete(db.get(TrackerLink, link.id))
        db.commit()
    response = driver.deliver(client, body)
    assert response.status_code == 202 and response.json["status"] == "ignored"
    assert deliveries(session, vendor) == 1


# --- exactly once ---------------------------------------------------------------------------

@pytest.mark.parametrize("vendor", VENDORS)
def test_a_replayed_delivery_is_a_duplicate_and_changes_nothing(app, client, session, drivers,
                                                                vendor):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor)
    body, delivery = driver.close_completed(link), str(uuid.uuid4())
    assert driver.deliver(client, body, delivery=delivery).json["status"] == "applied"
    before = len(history(session, item_id))
    again = driver.deliver(client, body, delivery=delivery)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert len(history(session, item_id)) == before
    assert deliveries(session, vendor) == 1


@pytest.mark.parametrize("vendor", VENDORS)
def test_concurrent_copies_of_one_delivery_apply_once(app, session, drivers, live_server,
                                                      vendor):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor)
    body, delivery = driver.close_completed(link), str(uuid.uuid4())
    prepared = driver.deliver(_Capture(), body, delivery=delivery)

    def send(_):
        return requests.post(live_server + HOOKS[vendor], data=prepared["data"],
                             headers={**prepared["headers"],
                                      "Content-Type": prepared["content_type"]}, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [r.json()["status"] for r in pool.map(send, range(8))]
    assert answers.count("applied") == 1 and answers.count("duplicate") == 7, answers
    asked = [e for e in history(session, item_id) if e.action == "prevention.guard_requested"]
    assert len(asked) == 1
    assert deliveries(session, vendor) == 1


class _Capture:
    """Stands in for the test client to capture what `Driver.deliver` would post."""

    def post(self, path, **kwargs):
        return kwargs


# --- authentication and bad input -----------------------------------------------------------

@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("secret", [None, "someone-elses-secret"])
def test_missing_or_wrong_signature_is_401_and_writes_nothing(app, client, session, drivers,
                                                              vendor, secret):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor)
    response = driver.deliver(client, driver.close_completed(link), secret=secret)
    assert response.status_code == 401
    assert "error" in response.json
    assert deliveries(session, vendor) == 0
    assert reload(session, PreventionItem, item_id).status == "proposed"


@pytest.mark.parametrize("vendor, setting", [("jira", "JIRA_WEBHOOK_SECRET"),
                                             ("linear", "LINEAR_WEBHOOK_SECRET")])
def test_without_a_configured_secret_every_delivery_is_refused(app, client, drivers, vendor,
                                                                setting):
    app.config[setting] = ""
    response = drivers[vendor].deliver(client, {"webhookEvent": "x"}, secret="")
    assert response.status_code == 401 and setting in response.json["error"]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1]", b"\xff\xfe"])
def test_malformed_body_is_400_and_writes_nothing(app, client, session, drivers, vendor, raw):
    response = drivers[vendor].deliver(client, raw)
    assert response.status_code == 400 and response.json["field"] == "body"
    assert deliveries(session, vendor) == 0


@pytest.mark.parametrize("vendor, mangle, field", [
    ("github", lambda b: b.pop("issue"), "issue"),
    ("github", lambda b: b["issue"].update(number="7"), "issue.number"),
    ("github", lambda b: b["issue"].update(state="merged"), "issue.state"),
    ("jira", lambda b: b["issue"].pop("fields"), "issue.fields"),
    ("jira", lambda b: b["issue"]["fields"].update(status=None), "issue.fields.status"),
    ("linear", lambda b: b.pop("data"), "data"),
    ("linear", lambda b: b["data"]["state"].update(type="weird"), "data.state.type"),
    ("linear", lambda b: b.pop("webhookTimestamp"), "webhookTimestamp"),
])
def test_a_body_not_in_the_documented_shape_is_400_naming_the_field(
        app, client, session, drivers, vendor, mangle, field):
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor)
    body = driver.close_completed(link)
    mangle(body)
    response = driver.deliver(client, body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert deliveries(session, vendor) == 0
    assert reload(session, PreventionItem, item_id).status == "proposed"


@pytest.mark.parametrize("offset_ms", [-61_000, 61_000, -3_600_000])
def test_linear_refuses_a_stale_or_future_timestamp(app, client, session, drivers, offset_ms):
    driver = drivers["linear"]
    item_id, link = tracked(app, session, "linear")
    driver.close_completed(link)
    body = driver.fake.event("update", link.reference,
                             timestamp_ms=int(time.time() * 1000) + offset_ms)
    response = driver.deliver(client, body)
    assert response.status_code == 401 and "webhookTimestamp" in response.json["error"]
    assert deliveries(session, "linear") == 0


@pytest.mark.parametrize("vendor, body", [
    ("jira", {"timestamp": 1, "webhookEvent": "comment_created", "comment": {"id": "1"}}),
    ("linear", {"action": "create", "type": "Comment", "data": {"id": "c1", "body": "hi"},
                "webhookTimestamp": None}),
])
def test_events_that_are_not_about_issues_are_202(client, session, drivers, vendor, body):
    if vendor == "linear":
        body["webhookTimestamp"] = int(time.time() * 1000)
    response = drivers[vendor].deliver(client, body)
    assert response.status_code == 202 and response.json["status"] == "ignored"


def test_linear_signature_is_over_the_raw_body(client, session, drivers):
    body = json.dumps({"action": "create", "type": "Comment", "data": {"id": "c"},
                       "webhookTimestamp": int(time.time() * 1000)}).encode()
    kwargs = drivers["linear"].deliver(_Capture(), body)
    kwargs["data"] = body.replace(b'"c"', b'"d"')  # the same JSON shape, other bytes
    assert client.post("/hooks/linear", **kwargs).status_code == 401
    kwargs = drivers["linear"].deliver(_Capture(), body, secret=LINEAR_SECRET)
    assert client.post("/hooks/linear", **kwargs).status_code == 202


# --- drift the webhooks report ---------------------------------------------------------------

def test_github_deleted_issue_is_drift_on_the_item(app, client, session, drivers):
    driver = drivers["github"]
    item_id, link = tracked(app, session, "github")
    assert driver.deliver(client, driver.fake.event("deleted", link.reference)).status_code \
        == 200
    assert "deleted" in reload(session, TrackerLink, link.id).drift
    assert any(e.action == "prevention.tracker_drift" for e in history(session, item_id))


def test_github_transferred_issue_follows_to_its_new_repository(app, client, session, drivers):
    driver = drivers["github"]
    item_id, link = tracked(app, session, "github")
    new = driver.fake._new_issue("acme/platform", "moved", "")
    body = driver.fake.event("transferred", link.reference,
                             changes={"new_issue": new,
                                      "new_repository": {"full_name": "acme/platform"}})
    assert driver.deliver(client, body).status_code == 200
    link = reload(session, TrackerLink, link.id)
    assert link.reference == "acme/platform#1" and link.drift is None
    assert any("moved in GitHub" in (e.detail.get("note") or "")
               for e in history(session, item_id))


def test_linear_removed_issue_is_drift(app, client, session, drivers):
    driver = drivers["linear"]
    _, link = tracked(app, session, "linear")
    body = driver.fake.event("remove", link.reference)
    assert driver.deliver(client, body).status_code == 200
    assert "deleted" in reload(session, TrackerLink, link.id).drift
    assert reload(session, TrackerLink, link.id).state == IssueState.OPEN


@pytest.mark.parametrize("vendor", VENDORS)
def test_concurrent_different_deliveries_about_one_closure_move_the_item_once(
        app, session, drivers, live_server, vendor):
    """A sender that retries under a new delivery id: the link's row lock orders them."""
    driver = drivers[vendor]
    item_id, link = tracked(app, session, vendor)
    body = driver.close_completed(link)
    prepared = [driver.deliver(_Capture(), body) for _ in range(6)]  # six delivery ids

    def send(kwargs):
        return requests.post(live_server + HOOKS[vendor], data=kwargs["data"],
                             headers={**kwargs["headers"], "Content-Type": kwargs["content_type"]},
                             timeout=30)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = [r.status_code for r in pool.map(send, prepared)]
    assert statuses == [200] * 6
    lines = history(session, item_id)
    assert len([e for e in lines if e.action == "prevention.guard_requested"]) == 1
    assert len([e for e in lines if e.action == "prevention.tracker_state"]) == 2  # open, closed
    assert deliveries(session, vendor) == 6


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_oversized_body_is_413_and_writes_nothing(client, session, drivers, vendor):
    body = json.dumps({"padding": "x" * (1024 * 1024)}).encode()
    response = drivers[vendor].deliver(client, body)
    assert response.status_code == 413
    assert deliveries(session, vendor) == 0
