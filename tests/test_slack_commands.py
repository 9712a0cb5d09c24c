"""/incident subcommands through POST /slack/commands, against a fake Slack Web API."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from incidents.incident import service as incidents
from incidents.incident.models import Incident, Severity, Status
from incidents.prevention.models import PreventionItem, PreventionKind, PreventionLink
from incidents.timeline.models import EventKind, TimelineEvent
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
)

CHANNEL = "C-incident"


@pytest.fixture
def incident(session):
    """An open incident with its own Slack channel."""
    found = incidents.declare(session=session, title="Checkout errors", severity="SEV2",
                              service="checkout", team="payments")
    found.slack_channel_id = CHANNEL
    session.commit()
    return found


def reload(session, model, ident):
    session.rollback()  # a fresh transaction sees what the app committed meanwhile
    return session.get(model, ident)


def events_of(session, incident_id):
    session.rollback()
    return list(session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident_id).order_by(TimelineEvent.id)))


def test_declare_with_title_answers_and_opens_channel_afterwards(slack, fake_slack, session):
    response = slack.command("declare sev2 Checkout is failing")
    assert response.status_code == 200
    body = response.get_json()
    assert body["response_type"] == "ephemeral"
    assert "Declared" in body["text"] and "Checkout is failing" in body["text"]

    created = fake_slack.wait_for("conversations.create")
    assert created[0]["name"].startswith("inc-") and "checkout-is-failing" in created[0]["name"]
    invited = fake_slack.wait_for("conversations.invite")
    assert invited[0]["users"] == "U-alice"
    posted = fake_slack.wait_for("chat.postMessage")
    announcement = fake_slack.wait_responses()
    assert announcement[0]["response_type"] == "in_channel"
    session.rollback()
    incident = session.scalars(select(Incident)).one()
    assert incident.severity == Severity.SEV2
    assert incident.source == "slack"
    assert incident.slack_channel_id == posted[0]["channel"]
    assert incident.slack_channel_name == created[0]["name"]
    assert events_of(session, incident.id)[0].author_name == "alice"
