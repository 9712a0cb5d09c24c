"""`flask remind`: overdue prevention items queued for owner teams, once, from several hosts;
the worker posts them."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from incidents.appdb import new_session
from incidents.auth.models import Team
from incidents.db import utcnow
from incidents.incident import service as incidents
from incidents.outbox.models import JobState, OutboxJob
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionItem, PreventionLink, PreventionStatus
from slackbot.reminders import queue_reminders
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
    drain,
    reload,
)

TODAY = utcnow().date()


@pytest.fixture
def overdue(session):
    """An overdue item of team payments, serving an incident resolved 200 days ago."""
    long_ago = utcnow() - timedelta(days=200)
    incident = incidents.declare(session=session, title="Tax API outage", started_at=long_ago)
    incidents.resolve(session=session, incident=incident,
                      resolved_at=long_ago + timedelta(hours=2))
    item = prevention.create_item(session=session, title="Contract test for the tax API",
                                  kind="detect", owner_team="payments",
                                  due_date=TODAY - timedelta(days=30))
    prevention.link(session=session, incident=incident, item=item)
    session.scalar(select(Team).where(Team.name == "payments")).slack_channel_id = "C-payments"
    session.commit()
    return item


def remind(app, today: date | None = None):
    with app.app_context(), new_session() as session:
        return queue_reminders(session=session, today=today)


def overdue_incident_id(session, item) -> int:
    session.rollback()
    return session.scalar(select(PreventionLink.incident_id).where(
        PreventionLink.prevention_item_id == item.id))


def make_item(session, title, *, team="payments", due: date | None = None,
              status=PreventionStatus.PROPOSED):
    item = prevention.create_item(session=session, title=title, kind="contain",
                                  owner_team=team, due_date=due)
    item.status = status
    session.commit()
    return item


def test_overdue_item_of_a_long_closed_incident_is_reminded(app, fake_slack, overdue, session):
    assert remind(app).queued == {"payments": 1}
    assert fake_slack.calls == []  # queued; the worker posts
    drain(app)
    post = fake_slack.calls_to("chat.postMessage")[0]
    assert post["channel"] == "C-payments"
    assert "Contract test for the tax API" in str(post["blocks"])
    assert f"/incidents/{overdue_incident_id(session, overdue)}|" in str(post["blocks"])
    assert reload(session, PreventionItem, overdue.id).last_reminded_at is not None


def test_items_not_due_done_or_dropped_are_not_reminded(app, fake_slack, overdue, session):
    past = TODAY - timedelta(days=1)
    make_item(session, "due today", due=TODAY)
    make_item(session, "no due date")
    make_item(session, "done already", due=past, status=PreventionStatus.DONE)
    make_item(session, "dropped", due=past, status=PreventionStatus.DROPPED)
    make_item(session, "in progress", due=past, status=PreventionStatus.IN_PROGRESS)
    assert remind(app).queued == {"payments": 2}
    drain(app)
    text = str(fake_slack.calls_to("chat.postMessage")[0]["blocks"])
    assert "in progress" in text and "Contract test" in text
    for quiet in ("due today", "no due date", "done already", "dropped"):
        assert quiet not in text


def test_an_item_done_before_the_worker_posts_is_left_out(app, fake_slack, overdue, session):
    other = make_item(session, "flag the new ranker", due=TODAY - timedelta(days=2))
    remind(app)
    reload(session, PreventionItem, other.id).status = PreventionStatus.DONE
    session.commit()
    drain(app)
    text = str(fake_slack.calls_to("chat.postMessage")[0]["blocks"])
    assert "Contract test" in text and "flag the new ranker" not in text


def test_second_run_the_same_day_queues_nothing_and_tomorrow_again(app, fake_slack, overdue):
    remind(app)
    assert remind(app).queued == {}
    drain(app)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert remind(app, today=TODAY + timedelta(days=1)).queued == {"payments": 1}
    drain(app)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_two_concurrent_runs_remind_of_each_item_once(app, fake_slack, overdue, session):
    for n in range(4):
        make_item(session, f"guard number {n}", due=TODAY - timedelta(days=n + 1))
    other = make_item(session, "search timeout alert", team="search",
                      due=TODAY - timedelta(days=3))
    reload(session, Team, other.owner_team_id).slack_channel_id = "C-search"
    session.commit()
    barrier = threading.Barrier(2)
    summaries = []

    def run():
        barrier.wait()
        summaries.append(remind(app))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    queued: dict[str, int] = {}
    for summary in summaries:
        for team, count in summary.queued.items():
            queued[team] = queued.get(team, 0) + count
    assert queued == {"payments": 5, "search": 1}
    drain(app)
    posted = " ".join(str(post["blocks"]) for post in fake_slack.calls_to("chat.postMessage"))
    for title in ["Contract test", "search timeout alert",
                  *(f"guard number {n}" for n in range(4))]:
        assert posted.count(title) == 1, title


def test_refused_post_goes_dead_with_its_reason_and_is_not_sent_twice(app, runner, fake_slack,
                                                                    overdue, session):
    fake_slack.fail("chat.postMessage", "not_in_channel")
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0 and "queued a reminder for payments: 1 overdue item" in \
        result.output
    drain(app)
    session.rollback()
    job = session.scalar(select(OutboxJob).where(OutboxJob.kind == "slack.reminder"))
    assert job.state == JobState.DEAD and "not_in_channel" in job.last_error
    assert runner.invoke(args=["remind"]).output.strip() == "no reminders due"


def test_team_without_a_channel_is_skipped_and_said(app, runner, fake_slack, overdue, session):
    make_item(session, "flag for the new search ranker", team="search",
              due=TODAY - timedelta(days=2))
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0
    assert "queued a reminder for payments: 1 overdue item" in result.output
    assert "skipped search: the team has no Slack channel set" in result.output


def test_remind_with_nothing_due_says_so(runner, fake_slack):
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0 and "no reminders due" in result.output
    assert fake_slack.calls == []
