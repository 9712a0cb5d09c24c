"""The declare modal, and the "Add to incident timeline" message shortcut."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from incidents.incident.models import Incident, Severity
from incidents.timeline.models import EventKind, TimelineEvent
from tests.fake_slack import INCIDENT_CHANNEL as CHANNEL
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _incident_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
)

TS = "1763780000.555500"



def view_submission(callback_id: str, values: dict, metadata: dict | None = None,
                    user_id: str = "U-alice") -> dict:
    """A view_submission payload as Slack documents it: state.values[block][action]."""
    state = {}
    for block, value in values.items():
        if block == "severity":
            state[block] = {"value": {"type": "static_select",
                                      "selected_option": {"value": value}}}
        else:
            state[block] = {"value": {"type": "plain_text_input", "value": value}}
    return {"type": "view_submission", "team": {"id": "T1", "domain": "acme"},
            "user": {"id": user_id, "username": "alice", "name": "alice"},
            "api_app_id": "A1", "trigger_id": "1.2.3",
            "view": {"id": "V1", "type": "modal", "callback_id": callback_id,
                     "private_metadata": json.dumps(metadata or {}),
                     "state": {"values": state}}}


def message_shortcut(channel: str, message: dict, response_url: str, n: int = 7) -> dict:
    """Each use of a shortcut has its own trigger id and action time, as Slack sends them."""
    return {"type": "message_action", "callback_id": "add_to_timeline", "trigger_id": f"9.8.{n}",
            "response_url": response_url, "action_ts": f"1763780100.{n}",
            "team": {"id": "T1", "domain": "acme"}, "user": {"id": "U-alice", "name": "alice"},
            "channel": {"id": channel, "name": "somewhere"}, "message_ts": message["ts"],
            "message": {"type": "message", **message}}


def messages_on(session, incident_id):
    session.rollback()
    return list(session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident_id, TimelineEvent.kind == EventKind.MESSAGE)))


def test_submitted_declare_form_declares_and_opens_the_channel(slack, fake_slack, session):
    metadata = {"channel_id": "C-general", "response_url": fake_slack.response_url("modal")}
    payload = view_submission("declare_incident", {
        "title": "Login failures", "severity": "SEV1", "service": "auth",
        "description": "SSO returns 500"}, metadata)
    response = slack.interaction(payload)
    assert response.status_code == 200 and response.data == b""  # closes the modal
    session.rollback()
    incident = session.scalars(select(Incident)).one()
    assert (incident.title, incident.severity, incident.service, incident.description,
            incident.source) == ("Login failures", Severity.SEV1, "auth", "SSO returns 500",
                                 "slack")
    slack.drain()
    fake_slack.wait_for("chat.postMessage")
    assert fake_slack.wait_for("conversations.invite")[0]["users"] == "U-alice"
    announced = fake_slack.wait_responses()[0]
    assert announced["response_type"] == "in_channel" and "Login failures" in announced["text"]


@pytest.mark.parametrize("values, block", [
    ({"title": "", "severity": "SEV2"}, "title"),
    ({"title": "x" * 301, "severity": "SEV2"}, "title"),
    ({"title": "Fine", "severity": "SEV9"}, "severity"),
])
def test_invalid_declare_form_keeps_the_modal_open_with_errors(slack, session, values, block):
    response = slack.interaction(view_submission("declare_incident", values))
    body = response.get_json()
    assert body["response_action"] == "errors" and block in body["errors"]
    session.rollback()
    assert session.scalars(select(Incident)).all() == []


def test_shortcut_in_incident_channel_adds_the_message(slack, fake_slack, incident, session):
    message = {"ts": TS, "user": "U-erin", "text": "cache flushed"}
    fake_slack.users["U-erin"] = {"id": "U-erin", "name": "erin", "profile": {}}
    response = slack.interaction(message_shortcut(CHANNEL, message, fake_slack.response_url()))
    assert response.status_code == 200
    slack.drain()
    reply = fake_slack.wait_responses()[0]
    assert reply["text"] == f"Added to the timeline of #{incident.id}."
    event = messages_on(session, incident.id)[0]
    assert (event.text, event.author_name, event.external_key) == (
        "cache flushed", "erin", f"slack:{CHANNEL}:{TS}")


def test_shortcut_twice_adds_the_message_once(slack, fake_slack, incident, session):
    message = {"ts": TS, "user": "U-erin", "text": "cache flushed"}
    for n in range(2):
        slack.interaction(message_shortcut(CHANNEL, message, fake_slack.response_url(), n))
        slack.drain()
    replies = fake_slack.wait_responses(count=2)
    assert "already on the timeline" in replies[1]["text"]
    assert len(messages_on(session, incident.id)) == 1


def test_shortcut_elsewhere_asks_which_incident_then_adds(slack, fake_slack, incident, session):
    message = {"ts": TS, "user": "U-erin", "text": "customer says checkout hangs"}
    slack.interaction(message_shortcut("C-support", message, fake_slack.response_url("sc")))
    opened = fake_slack.wait_for("views.open")[0]
    assert opened["trigger_id"] == "9.8.7"
    view = opened["view"]
    assert view["callback_id"] == "pin_to_incident"
    assert f"#{incident.id} Checkout errors" in json.dumps(view["blocks"])

    submitted = view_submission("pin_to_incident", {"incident": f"#{incident.id}"},
                                json.loads(view["private_metadata"]))
    assert slack.interaction(submitted).data == b""
    slack.drain()
    assert fake_slack.wait_responses()[0]["text"] == f"Added to the timeline of #{incident.id}."
    event = messages_on(session, incident.id)[0]
    assert event.text == "customer says checkout hangs"
    assert event.external_key == f"slack:C-support:{TS}"


@pytest.mark.parametrize("typed, error", [
    ("twelve", "Type an incident number"),
    ("", "Type an incident number"),
    ("#99999", "There is no incident #99999."),
])
def test_shortcut_modal_refuses_a_bad_incident_number(slack, incident, typed, error):
    metadata = {"channel_id": "C-support", "ts": TS, "text": "x"}
    body = slack.interaction(view_submission("pin_to_incident", {"incident": typed},
                                             metadata)).get_json()
    assert body["response_action"] == "errors" and error in body["errors"]["incident"]


def test_shortcut_keeps_a_long_message_within_slack_metadata_limit(slack, fake_slack, incident):
    message = {"ts": TS, "user": "U-erin", "text": "é" * 5000}
    slack.interaction(message_shortcut("C-support", message, fake_slack.response_url()))
    view = fake_slack.wait_for("views.open")[0]["view"]
    assert len(view["private_metadata"]) <= 3000
    assert json.loads(view["private_metadata"])["text"].endswith("…")


def test_unknown_interactions_are_acknowledged(slack):
    response = slack.interaction({"type": "block_actions", "actions": []})
    assert response.status_code == 200 and response.data == b""
