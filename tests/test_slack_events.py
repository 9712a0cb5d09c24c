"""Signatures on every /slack endpoint, the Events API, and pinning messages by reaction."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import func, select

from incidents.inbox.models import Delivery
from incidents.incident.models import Incident
from incidents.timeline.models import EventKind, TimelineEvent
from tests.fake_slack import INCIDENT_CHANNEL as CHANNEL
from tests.fake_slack import (  # noqa: F401  (fixtures)
    SlackSender,
    _fake_slack_fixture,
    _incident_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
    drain,
    reaction_event,
)

TS = "1763780000.123400"



def pinned(session, incident_id):
    session.rollback()
    return list(session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident_id, TimelineEvent.kind == EventKind.MESSAGE)))


def count(session, model):
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


# --- signatures -------------------------------------------------------------------------------

ENDPOINTS = ["/slack/commands", "/slack/interactions", "/slack/events"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_wrong_signature_is_refused_and_nothing_done(slack, session, path):
    body = b"text=declare+Forged&user_id=U1&channel_id=C1"
    headers = slack.headers(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    response = slack.client.post(path, data=body, headers=headers,
                                  content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    assert "signature" in response.get_json()["error"]
    assert count(session, Incident) == 0


@pytest.mark.parametrize("path", ENDPOINTS)
def test_missing_signature_headers_are_refused(slack, path):
    response = slack.client.post(path, data=b"text=list")
    assert response.status_code == 401


def test_stale_timestamp_is_refused_even_when_correctly_signed(slack, session):
    six_minutes_ago = int(time.time()) - 6 * 60
    response = slack.command("declare Replayed", timestamp=six_minutes_ago)
    assert response.status_code == 401
    assert count(session, Incident) == 0


def test_timestamp_from_the_future_is_refused(slack):
    assert slack.command("list", timestamp=int(time.time()) + 6 * 60).status_code == 401


def test_non_numeric_timestamp_is_refused(slack):
    body = b"text=list"
    headers = slack.headers(body)
    headers["X-Slack-Request-Timestamp"] = "yesterday"
    response = slack.client.post("/slack/commands", data=body, headers=headers,
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401


def test_body_changed_after_signing_is_refused(slack, session):
    headers = slack.headers(b"text=list")
    response = slack.client.post("/slack/commands", data=b"text=declare+Tampered",
                                 headers=headers,
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    assert count(session, Incident) == 0


def test_requests_signed_with_another_secret_are_refused(slack, fake_slack):
    other = SlackSender(slack.client, "not-the-signing-secret", fake_slack)
    assert other.command("list").status_code == 401


def test_everything_is_refused_without_a_signing_secret(app, slack):
    app.config["SLACK_SIGNING_SECRET"] = ""
    assert slack.command("list").status_code == 401


# --- Events API -------------------------------------------------------------------------------

def test_url_verification_answers_the_challenge(slack):
    response = slack.event({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"})  # noqa: E501
    assert response.status_code == 200
    assert response.get_json() == {
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_unsigned_url_verification_is_refused(slack):
    body = json.dumps({"type": "url_verification", "challenge": "abc"})
    response = slack.client.post("/slack/events", data=body, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_malformed_event_body_is_a_json_400(slack, body):
    response = slack.post("/slack/events", body, "application/json")
    assert response.status_code == 400 and "error" in response.get_json()


@pytest.mark.parametrize("payload", [b"payload=%7Bnot", b"payload=%5B%5D", b"nothing=1"])
def test_malformed_interaction_payload_is_a_json_400(slack, payload):
    response = slack.post("/slack/interactions", payload, "application/x-www-form-urlencoded")
    assert response.status_code == 400 and "payload" in response.get_json()["error"]


def test_two_reactions_add_the_message_once_with_its_own_time_and_author(
        slack, fake_slack, incident, session):
    fake_slack.add_message(CHANNEL, TS, "primary DB is at 100% CPU", user="U-bob")
    fake_slack.users["U-bob"] = {"id": "U-bob", "name": "bob",
                                 "profile": {"display_name": "Bob B", "real_name": "Bob"}}
    assert slack.event(reaction_event("Ev1", CHANNEL, TS, user="U-alice")).status_code == 200
    assert slack.event(reaction_event("Ev2", CHANNEL, TS, user="U-carol")).status_code == 200
    slack_drained(slack)
    events = pinned(session, incident.id)
    assert len(events) == 1
    event = events[0]
    assert event.text == "primary DB is at 100% CPU"
    assert event.occurred_at == datetime.fromtimestamp(float(TS), UTC)
    assert event.author_name == "Bob B" and event.source == "slack"
    assert event.external_key == f"slack:{CHANNEL}:{TS}"
    history = fake_slack.calls_to("conversations.history")[0]
    assert (history["channel"], history["latest"], history["limit"]) == (CHANNEL, TS, "1")
    assert history["inclusive"] in ("1", "true", "True")


def slack_drained(slack):
    slack.drain()


def test_message_by_a_linked_user_is_authored_by_their_account(
        slack, fake_slack, incident, session, make_user):
    user = make_user("responder", name="Dana")
    user.slack_user_id = "U-dana"
    session.commit()
    fake_slack.add_message(CHANNEL, TS, "rolling back", user="U-dana")
    slack.event(reaction_event("Ev1", CHANNEL, TS))
    slack_drained(slack)
    event = pinned(session, incident.id)[0]
    assert event.author_id == user.id and event.author_name == "Dana"
    assert fake_slack.calls_to("users.info") == []


def test_retried_event_is_applied_once(slack, fake_slack, incident, session):
    fake_slack.add_message(CHANNEL, TS, "error rate back to normal")
    envelope = reaction_event("Ev-retried", CHANNEL, TS)
    assert slack.event(envelope).status_code == 200
    for attempt in (1, 2, 3):
        response = slack.event(envelope, **{"X-Slack-Retry-Num": str(attempt),
                                            "X-Slack-Retry-Reason": "http_timeout"})
        assert response.status_code == 200
    slack_drained(slack)
    assert len(fake_slack.calls_to("conversations.history")) == 1
    assert len(pinned(session, incident.id)) == 1
    session.rollback()
    delivery = session.scalars(select(Delivery)).one()
    assert (delivery.sender, delivery.delivery_key, delivery.incident_id) == (
        "slack", "Ev-retried", incident.id)


def test_concurrent_duplicate_deliveries_apply_once(live_server, app, fake_slack, incident,
                                                    session):
    fake_slack.add_message(CHANNEL, TS, "same event, many deliveries")
    sender = SlackSender(None, app.config["SLACK_SIGNING_SECRET"], fake_slack)
    body = json.dumps(reaction_event("Ev-race", CHANNEL, TS)).encode()
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def deliver():
        headers = {**sender.headers(body), "Content-Type": "application/json"}
        barrier.wait()
        statuses.append(requests.post(f"{live_server}/slack/events", data=body,
                                      headers=headers, timeout=30).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain(app)
    assert statuses == [200] * 6
    assert count(session, Delivery) == 1
    assert len(pinned(session, incident.id)) == 1
    assert len(fake_slack.calls_to("conversations.history")) == 1


def test_other_reactions_are_ignored(slack, fake_slack, incident, session):
    fake_slack.add_message(CHANNEL, TS, "lol")
    slack.event(reaction_event("Ev1", CHANNEL, TS, reaction="joy"))
    slack_drained(slack)
    assert fake_slack.calls_to("conversations.history") == []
    assert pinned(session, incident.id) == []


def test_pins_outside_incident_channels_are_ignored(slack, fake_slack, incident, session):
    slack.event(reaction_event("Ev1", "C-random", TS))
    slack_drained(slack)
    assert fake_slack.calls_to("conversations.history") == []


def test_pin_emoji_is_configurable(app, slack, fake_slack, incident, session):
    app.config["SLACK_PIN_EMOJI"] = ":round_pushpin:"
    fake_slack.add_message(CHANNEL, TS, "customer report via support")
    slack.event(reaction_event("Ev1", CHANNEL, TS, reaction="pushpin"))
    slack.event(reaction_event("Ev2", CHANNEL, TS, reaction="round_pushpin"))
    slack_drained(slack)
    assert [e.text for e in pinned(session, incident.id)] == ["customer report via support"]


def test_pinned_thread_reply_is_found_in_its_thread(slack, fake_slack, incident, session):
    parent = "1763780000.000100"
    fake_slack.add_message(CHANNEL, parent, "thread parent")
    fake_slack.add_message(CHANNEL, TS, "the reply that matters", thread_ts=parent)
    slack.event(reaction_event("Ev1", CHANNEL, TS))
    slack_drained(slack)
    assert [e.text for e in pinned(session, incident.id)] == ["the reply that matters"]


def test_rate_limited_history_fetch_waits_then_pins_once(slack, fake_slack, incident,
                                                         session):
    fake_slack.add_message(CHANNEL, TS, "rolled back the canary")
    fake_slack.fail("conversations.history", "ratelimited", status=429, retry_after=1)
    fake_slack.fail("conversations.history", "internal_error", status=500)
    slack.event(reaction_event("Ev1", CHANNEL, TS, user="U-alice"))
    slack_drained(slack)
    calls = [c for c in fake_slack.calls if c.method == "conversations.history"]
    assert len(calls) == 3 and calls[1].at - calls[0].at >= 1  # Retry-After was honoured
    assert [e.text for e in pinned(session, incident.id)] == ["rolled back the canary"]
    assert fake_slack.calls_to("chat.postEphemeral") == []


def test_refused_history_fetch_is_told_to_the_reactor_and_goes_dead(slack, fake_slack, incident,
                                                                      session):
    from incidents.outbox.models import JobState, OutboxJob

    fake_slack.fail("conversations.history", "not_in_channel")
    slack.event(reaction_event("Ev1", CHANNEL, TS, user="U-alice"))
    slack_drained(slack)
    told = fake_slack.calls_to("chat.postEphemeral")[0]
    assert (told["channel"], told["user"]) == (CHANNEL, "U-alice")
    assert "not_in_channel" in told["text"]
    assert pinned(session, incident.id) == []
    job = session.scalar(select(OutboxJob).where(OutboxJob.kind == "slack.pin"))
    assert job.state == JobState.DEAD and "not_in_channel" in job.last_error


def test_a_retry_of_a_recorded_event_is_applied_by_the_worker_not_lost(slack, fake_slack,
                                                                         incident, session):
    """Recorded and queued in one transaction: once Slack has a 200, the work is queued, so
    Slack's retry may be answered "seen" — the worker still does the work, once."""
    fake_slack.add_message(CHANNEL, TS, "db failover started")
    envelope = reaction_event("Ev-crash", CHANNEL, TS)
    assert slack.event(envelope).status_code == 200  # …and the app dies before any Slack work
    assert slack.event(envelope, **{"X-Slack-Retry-Num": "1"}).status_code == 200
    assert pinned(session, incident.id) == []
    slack_drained(slack)  # a worker, started afterwards
    assert [e.text for e in pinned(session, incident.id)] == ["db failover started"]


def test_other_event_types_are_acknowledged_and_ignored(slack, session):
    envelope = {"type": "event_callback", "event_id": "Ev9",
                "event": {"type": "message", "text": "hi", "channel": "C1", "ts": TS}}
    assert slack.event(envelope).status_code == 200
    assert count(session, Incident) == 0
