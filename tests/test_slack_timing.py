"""Slack gives three seconds: the answer never waits for a slow Slack Web API."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from incidents.incident import service as incidents
from incidents.incident.models import Incident, Severity
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
    reload,
)

pytestmark = pytest.mark.slow
SLOW = 2.0


def test_declare_answers_within_a_second_while_slack_takes_five(slack, fake_slack, session):
    fake_slack.delay["*"] = SLOW
    started = time.monotonic()
    response = slack.command("declare Orders stuck")
    answered = time.monotonic() - started
    assert response.status_code == 200 and "Declared" in response.get_json()["text"]
    assert answered < 1.0, f"answered after {answered:.2f} s"

    # The slow work is the worker's: channel, invite, announcement, the answer in place.
    slack.drain()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1 and len(fake_slack.responses) == 1
    session.rollback()
    incident = session.scalars(select(Incident)).one()
    assert incident.slack_channel_id and time.monotonic() - started >= 3 * SLOW


def test_sev_answers_within_a_second_and_posts_later(slack, fake_slack, session):
    incident = incidents.declare(session=session, title="Slow queue", severity="SEV3")
    incident.slack_channel_id = "C-incident"
    session.commit()
    fake_slack.delay["*"] = SLOW
    started = time.monotonic()
    response = slack.command("sev 2", channel_id="C-incident")
    assert time.monotonic() - started < 1.0
    assert reload(session, Incident, incident.id).severity == Severity.SEV2
    assert "SEV3 → *SEV2*" in response.get_json()["text"]
    slack.drain()
    post = fake_slack.calls_to("chat.postMessage")[0]
    assert post["channel"] == "C-incident"


def test_declare_form_opens_after_answering_within_a_second(slack, fake_slack):
    fake_slack.delay["*"] = SLOW
    started = time.monotonic()
    assert slack.command("declare").status_code == 200
    assert time.monotonic() - started < 1.0
    fake_slack.wait_for("views.open", timeout=2 * SLOW)
