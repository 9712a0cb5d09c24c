"""The whole loop, once per tracker, through the real doors: the API, the outbox worker, the
vendor's webhook, Slack and the report.

item → "create in tracker" → issue created by the worker → the issue closed as completed
(webhook) → the item asks its owners for its guard (Slack, through the outbox) → guard given →
done → the report's figures move. Then the reconcile (`flask trackers sync` and the scheduled
worker job) and a tracker outage seen through the outbox.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from incidents.auth.models import Team
from incidents.db import utcnow
from incidents.outbox import service as outbox
from incidents.outbox.models import JobState, OutboxJob
from incidents.tracker.models import TrackerLink
from tests.fake_slack import _fake_slack_fixture  # noqa: F401  (fixture)
from tests.fake_trackers import (  # noqa: F401  (fixtures)
    _fake_github_fixture,
    _fake_jira_fixture,
    _fake_linear_fixture,
    configure_tracker,
    tracker_settings,
)
from tests.tracker_support import Driver

VENDORS = ["github", "jira", "linear"]
GUARD = "https://github.com/acme/checkout/actions/workflows/contract-tests.yml"
CHANNEL = "C-team-channel"


@pytest.fixture
def app_config(app_config, fake_github, fake_jira, fake_linear, fake_slack):
    return {**app_config, **tracker_settings(fake_github, fake_jira, fake_linear),
            "SLACK_API_URL": fake_slack.api_url}


@pytest.fixture
def drivers(fake_github, fake_jira, fake_linear):
    return {"github": Driver("github", fake_github), "jira": Driver("jira", fake_jira),
            "linear": Driver("linear", fake_linear)}


def report(api) -> dict:
    response = api.get("/api/v1/reports/recurrence")
    assert response.status_code == 200
    return response.json["prevention"]


def item_now(api, item_id) -> dict:
    response = api.get(f"/api/v1/prevention-items/{item_id}")
    assert response.status_code == 200
    return response.json


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_whole_loop(app, api, client, session, drivers, fake_slack, vendor):
    driver = drivers[vendor]
    team = configure_tracker(app, vendor)
    session.execute(update(Team).where(Team.name == team).values(slack_channel_id=CHANNEL))
    session.commit()
    created = api.post("/api/v1/prevention-items", json={
        "title": "Contract test for the currency field", "kind": "detect", "owner_team": team})
    assert created.status_code == 201 and created.json["tracker"] is None
    item_id = created.json["id"]
    before = report(api)

    # "Create in tracker": queued, then carried out by the worker.
    asked = api.post(f"/api/v1/prevention-items/{item_id}/tracker-issue")
    assert asked.status_code == 202, asked.json
    assert asked.json["tracker"]["state"] == "pending"
    assert len(driver.fake.issues) == 0  # never from the request
    outbox.drain(app)
    assert len(driver.fake.issues) == 1
    tracker = item_now(api, item_id)["tracker"]
    assert tracker["state"] == "open" and tracker["key"] and tracker["url"]
    middle = report(api)
    assert middle["tracker_linked"] == before["tracker_linked"] + 1
    assert middle["tracker_unlinked"] == before["tracker_unlinked"] - 1

    # Closed as completed in the tracker: the structural item asks for its guard.
    link = session.scalar(select(TrackerLink).where(TrackerLink.prevention_item_id == item_id))
    assert driver.deliver(client, driver.close_completed(link)).status_code == 200
    item = item_now(api, item_id)
    assert item["status"] == "in_progress"
    assert item["tracker"]["guard_needed"] is True and item["tracker"]["state"] == "completed"
    outbox.drain(app)
    (posted,) = fake_slack.calls_to("chat.postMessage")
    assert posted["channel"] == CHANNEL
    assert "guard" in posted["text"] and str(item_id) in posted["text"]

    # Guard given: done; the report moves.
    done = api.patch(f"/api/v1/prevention-items/{item_id}",
                     json={"status": "done", "guard_url": GUARD})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "done" and done.json["tracker"]["guard_needed"] is False
    assert done.json["tracker"]["disagreement"] is None
    after = report(api)
    assert after["done"] == before["done"] + 1
    assert after["watching"] == before["watching"] + 1
    outbox.drain(app)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # asked once


def test_a_tracker_outage_delays_the_issue_and_it_is_created_once(app, api, session,
                                                                    fake_github):
    # Backoff longer than a loaded machine's pause between claims: one drain, one attempt.
    app.config.update(OUTBOX_BACKOFF_SECONDS=30, OUTBOX_MAX_BACKOFF_SECONDS=60)
    team = configure_tracker(app, "github")
    item_id = api.post("/api/v1/prevention-items", json={
        "title": "Schema constraint on currency", "kind": "eliminate",
        "owner_team": team}).json["id"]
    assert api.post(f"/api/v1/prevention-items/{item_id}/tracker-issue").status_code == 202
    fake_github.fail(503)
    fake_github.fail(429, retry_after=120)
    fake_github.fail(502, after_work=True)
    for expected_delay in (None, 120, None):
        outbox.drain(app)
        session.expire_all()
        job = session.scalar(select(OutboxJob).where(OutboxJob.kind == "tracker.create_issue"))
        assert job.state == JobState.QUEUED and job.last_error
        if expected_delay:
            wait = (job.available_at - utcnow()).total_seconds()
            assert expected_delay - 5 < wait <= expected_delay, wait
        session.execute(update(OutboxJob).where(OutboxJob.id == job.id)
                        .values(available_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    outbox.drain(app)
    session.expire_all()
    assert session.get(OutboxJob, job.id).state == JobState.DONE
    assert len(fake_github.issues) == 1
    assert item_now(api, item_id)["tracker"]["key"] == "acme/checkout#1"


def test_sync_reconciles_missed_webhooks_and_reports_drift(app, api, session, runner, drivers):
    keys = {}
    for vendor in VENDORS:
        team = configure_tracker(app, vendor)
        for title in ("a", "b"):
            item_id = api.post("/api/v1/prevention-items", json={
                "title": f"{vendor} {title}", "kind": "local_fix",
                "owner_team": team}).json["id"]
            api.post(f"/api/v1/prevention-items/{item_id}/tracker-issue")
            keys[(vendor, title)] = item_id
    outbox.drain(app)
    links = {k: session.scalar(select(TrackerLink).where(TrackerLink.prevention_item_id == v))
             for k, v in keys.items()}
    # Webhooks that never arrived: closed in GitHub, won't do in Jira, moved in Jira,
    # deleted in GitHub, and a Linear key that no longer works.
    drivers["github"].close_completed(links[("github", "a")])
    drivers["github"].fake.deleted.add(links[("github", "b")].reference)
    drivers["jira"].close_not_planned(links[("jira", "a")])
    new_key = drivers["jira"].fake.move(links[("jira", "b")].key, "PLAT")
    app.config["LINEAR_API_KEY"] = "lin_api_revoked"

    result = runner.invoke(args=["trackers", "sync"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "checked 6 item(s)" in out
    assert f"drift\titem {keys[('github', 'b')]}\tthe issue is not found in GitHub" in out
    for title in ("a", "b"):
        assert f"drift\titem {keys[('linear', title)]}\tno access" in out
    assert item_now(api, keys[("github", "a")])["status"] == "done"
    jira_a = item_now(api, keys[("jira", "a")])
    assert jira_a["status"] == "dropped" and jira_a["dropped_reason"] == "Jira: Done (Won't Do)"
    jira_b = item_now(api, keys[("jira", "b")])
    assert jira_b["tracker"]["key"] == new_key and jira_b["tracker"]["drift"] is None
    assert "not found" in item_now(api, keys[("github", "b")])["tracker"]["drift"]
    # The scheduled reconcile is queued for the next slot.
    session.expire_all()
    scheduled = session.scalars(select(OutboxJob).where(OutboxJob.kind == "tracker.sync")).all()
    assert len(scheduled) == 1 and scheduled[0].available_at > utcnow()


def test_the_scheduled_reconcile_runs_in_the_worker_and_queues_the_next(app, api, session,
                                                                        drivers):
    team = configure_tracker(app, "github")
    item_id = api.post("/api/v1/prevention-items", json={
        "title": "Alert on currency mismatches", "kind": "contain",
        "owner_team": team}).json["id"]
    api.post(f"/api/v1/prevention-items/{item_id}/tracker-issue")
    with app.app_context():
        from incidents.appdb import new_session
        from incidents.tracker import service

        with new_session() as db:
            assert service.schedule_sync(session=db, every_minutes=60)
            assert not service.schedule_sync(session=db, every_minutes=60)  # same slot
            db.commit()
    outbox.drain(app)  # creates the issue; the reconcile is not due yet
    link = session.scalar(select(TrackerLink).where(TrackerLink.prevention_item_id == item_id))
    drivers["github"].close_completed(link)
    session.execute(update(OutboxJob).where(OutboxJob.kind == "tracker.sync")
                    .values(available_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    outbox.drain(app)
    assert item_now(api, item_id)["status"] == "done"
    session.expire_all()
    jobs = session.scalars(select(OutboxJob).where(OutboxJob.kind == "tracker.sync")
                           .order_by(OutboxJob.id)).all()
    assert [j.state for j in jobs] == [JobState.DONE, JobState.QUEUED]
    assert jobs[1].available_at > utcnow()
