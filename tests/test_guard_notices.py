"""A done item's owner team is told in Slack — through the outbox, once per transition — when
its guard starts failing, goes stale or loses its test; the fake Slack on loopback receives
what the worker posts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from incidents.auth.models import Team
from incidents.db import utcnow
from incidents.guard.service import spec
from incidents.outbox import service as outbox
from incidents.outbox.models import OutboxJob
from incidents.prevention import service as prevention
from tests import guard_payloads as payloads
from tests.conftest import GITHUB_SECRET
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
)
from tests.helpers import github_delivery


@pytest.fixture
def item(session):
    item = prevention.create_item(session=session, title="Contract test for amounts",
                                  kind="detect", owner_team="payments")
    prevention.update(session=session, item=item, status="done", guard=spec(
        provider="github", repository="acme/checkout", name="contract-tests"),
        now=utcnow() - timedelta(days=3))
    session.scalar(select(Team).where(Team.name == "payments")).slack_channel_id = "C-payments"
    session.commit()
    return item


def run(client, conclusion, hours_ago):
    at = (utcnow() - timedelta(hours=hours_ago)).replace(microsecond=0)
    body = payloads.check_run(run_id=int(at.timestamp()), name="contract-tests",
                              conclusion=conclusion, at=at)
    response = client.post("/hooks/github", **github_delivery(
        "check_run", body, secret=GITHUB_SECRET, delivery=str(uuid.uuid4())))
    assert response.status_code == 200


def posts(fake_slack) -> list[str]:
    return [call["text"] for call in fake_slack.calls_to("chat.postMessage")]


def test_a_failing_guard_is_told_once_then_again_after_it_recovered(app, client, fake_slack,
                                                                    item):
    run(client, "success", 30)
    assert outbox.drain(app) == 0  # alive: nothing to tell
    run(client, "failure", 20)
    run(client, "failure", 10)  # still failing: the same transition
    assert outbox.drain(app) == 1
    (text,) = posts(fake_slack)
    assert f"#{item.id} Contract test for amounts" in text and "failing" in text
    assert fake_slack.calls_to("chat.postMessage")[0]["channel"] == "C-payments"
    run(client, "success", 5)
    run(client, "failure", 1)
    assert outbox.drain(app) == 1 and len(posts(fake_slack)) == 2


def test_the_check_command_finds_a_guard_gone_stale_and_tells_once(app, runner, fake_slack,
                                                                   client, session, item):
    run(client, "success", 24 * 15)  # fifteen days ago: past the default 14
    assert outbox.drain(app) == 1  # the delivery itself already found it stale
    assert "stale" in posts(fake_slack)[0] and "14 days" in posts(fake_slack)[0]
    for _ in range(2):  # cron, twice: nothing new
        result = runner.invoke(args=["guards", "check"])
        assert result.exit_code == 0 and "0 guard(s) newly broken" in result.output
    assert outbox.drain(app) == 0 and len(posts(fake_slack)) == 1


def test_slack_down_delays_the_notice_and_loses_nothing(app, client, fake_slack, session, item):
    # A retry at least half a second away, so one drain is one attempt on a busy machine.
    app.config["OUTBOX_BACKOFF_SECONDS"] = 1.0
    fake_slack.fail("chat.postMessage", "internal_error", status=503, times=1)
    run(client, "failure", 1)
    outbox.drain(app)
    session.rollback()
    job = session.scalar(select(OutboxJob).where(OutboxJob.kind == "slack.guard_health"))
    assert job.state == "queued" and job.attempts == 1
    outbox.drain(app, wait=True)
    session.rollback()
    assert session.get(OutboxJob, job.id).state == "done"
    assert len(posts(fake_slack)) == 2  # the refused attempt and the one that went through


def test_a_team_without_a_channel_shows_as_a_dead_job(app, client, fake_slack, session, item):
    session.scalar(select(Team).where(Team.name == "payments")).slack_channel_id = None
    session.commit()
    run(client, "failure", 1)
    outbox.drain(app)
    session.rollback()
    (job,) = outbox.dead(session=session)
    assert "no Slack channel" in job.last_error and posts(fake_slack) == []
