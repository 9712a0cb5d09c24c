"""`flask remind`: overdue prevention items posted to owner teams, once, from several hosts."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from incidents.auth.models import Team
from incidents.db import utcnow
from incidents.incident import service as incidents
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionItem, PreventionLink, PreventionStatus
from slackbot.reminders import send_reminders
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
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
    with app.app_context():
        summary = send_reminders()
    assert summary.sent == {"payments": 1}
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
    with app.app_context():
        assert send_reminders().sent == {"payments": 2}
    text = str(fake_slack.calls_to("chat.postMessage")[0]["blocks"])
    assert "in progress" in text and "Contract test" in text
    for quiet in ("due today", "no due date", "done already", "dropped"):
        assert quiet not in text


def test_second_run_the_same_day_sends_nothing_and_tomorrow_again(app, fake_slack, overdue):
    with app.app_context():
        send_reminders()
        assert send_reminders().sent == {}
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
        assert send_reminders(today=TODAY + timedelta(days=1)).sent == {"payments": 1}
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_two_concurrent_runs_send_each_reminder_once(app, fake_slack, overdue, session):
    for n in range(4):
        make_item(session, f"guard number {n}", due=TODAY - timedelta(days=n + 1))
    other = make_item(session, "search timeout alert", team="search",
                      due=TODAY - timedelta(days=3))
    reload(session, Team, other.owner_team_id).slack_channel_id = "C-search"
    session.commit()
    fake_slack.delay["chat.postMessage"] = 0.5  # both runs overlap while posting
    barrier = threading.Barrier(2)
    summaries = []

    def run():
        with app.app_context():
            barrier.wait()
            summaries.append(send_reminders())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sent: dict[str, int] = {}
    for summary in summaries:
        for team, count in summary.sent.items():
            sent[team] = sent.get(team, 0) + count
    assert sent == {"payments": 5, "search": 1}
    posted = " ".join(str(post["blocks"]) for post in fake_slack.calls_to("chat.postMessage"))
    for title in ["Contract test", "search timeout alert",
                  *(f"guard number {n}" for n in range(4))]:
        assert posted.count(title) == 1, title


def test_failed_post_is_reported_and_retried_by_the_next_run(app, runner, fake_slack, overdue,
                                                             session):
    fake_slack.fail("chat.postMessage", "not_in_channel")
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 1
    assert "payments" in result.output and "not_in_channel" in result.output
    assert reload(session, PreventionItem, overdue.id).last_reminded_at is None
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0 and "reminded payments: 1 overdue item" in result.output


def test_team_without_a_channel_is_skipped_and_said(app, runner, fake_slack, overdue, session):
    make_item(session, "flag for the new search ranker", team="search",
              due=TODAY - timedelta(days=2))
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0
    assert "reminded payments: 1 overdue item" in result.output
    assert "skipped search: the team has no Slack channel set" in result.output


def test_remind_with_nothing_due_says_so(runner, fake_slack):
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0 and "no reminders due" in result.output
    assert fake_slack.calls == []
