"""Slack jobs through the worker against the fake Slack: rate limits and outages wait, permanent
errors go dead with their reason for admins, a channel is never created twice, a replayed
command never acts twice, and nothing a person wrote reaches Slack as markup."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from incidents.incident.models import Incident
from incidents.outbox.models import JobState, OutboxJob
from incidents.timeline.models import TimelineEvent
from tests.fake_slack import INCIDENT_CHANNEL as CHANNEL
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _incident_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
    reload,
)


def jobs(session, kind: str) -> list[OutboxJob]:
    session.rollback()
    session.expire_all()
    return list(session.scalars(select(OutboxJob).where(OutboxJob.kind == kind)
                                .order_by(OutboxJob.id)))


def test_a_notice_waits_out_429_and_500_then_posts_once(slack, fake_slack, incident, session):
    fake_slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=1)
    fake_slack.fail("chat.postMessage", "internal_error", status=500)
    slack.command("sev 1", channel_id=CHANNEL)
    slack.drain()
    attempts = [call for call in fake_slack.calls if call.method == "chat.postMessage"]
    assert len(attempts) == 3
    assert attempts[1].at - attempts[0].at >= 1  # the Retry-After, honoured
    [notice] = jobs(session, "slack.notice")
    assert notice.state == JobState.DONE and notice.attempts == 3
    assert "SEV2 → *SEV1*" in attempts[2].params["text"]


def test_a_permanent_error_goes_dead_and_admins_see_why(app, slack, fake_slack, incident, client,
                                                       auth, session):
    fake_slack.fail("chat.postMessage", "channel_not_found")
    slack.command("status identified", channel_id=CHANNEL)
    slack.drain()
    [notice] = jobs(session, "slack.notice")
    assert notice.state == JobState.DEAD and notice.attempts == 1
    assert "channel_not_found" in notice.last_error

    auth.login_as("admin")
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "A change could not be posted to the incident&#39;s Slack channel: Slack answered " \
           "`channel_not_found`" in page
    incident_page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert 'data-testid="dead-job"' in incident_page and "channel_not_found" in incident_page

    client.post(f"/admin/outbox/{notice.id}/retry")
    slack.drain()
    assert jobs(session, "slack.notice")[0].state == JobState.DONE
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert 'data-testid="dead-job"' not in client.get(f"/incidents/{incident.id}").get_data(
        as_text=True)


def test_an_admin_discards_a_dead_job(slack, fake_slack, incident, client, auth, session):
    fake_slack.fail("chat.postMessage", "is_archived")
    slack.command("sev 3", channel_id=CHANNEL)
    slack.drain()
    [notice] = jobs(session, "slack.notice")
    auth.login_as("admin")
    assert client.post(f"/admin/outbox/{notice.id}/discard").status_code == 302
    assert jobs(session, "slack.notice")[0].state == JobState.DISCARDED
    assert "No dead jobs." in client.get("/admin/outbox").get_data(as_text=True)
    answer = client.post(f"/admin/outbox/{notice.id}/retry", follow_redirects=True)
    assert "is discarded, not dead" in answer.get_data(as_text=True)


def test_a_channel_created_before_a_crash_is_adopted_not_doubled(app, slack, fake_slack,
                                                                 session):
    slack.command("declare sev1 Card payments failing")
    session.rollback()
    incident = session.scalars(select(Incident)).one()
    # An earlier worker got this far — Slack created the channel — and died before storing it.
    name = f"inc-{incident.id}-card-payments-failing"
    fake_slack._api_conversations_create({"name": name})
    slack.drain()
    assert len(fake_slack.channels) == 1
    stored = reload(session, Incident, incident.id).slack_channel_id
    assert stored == fake_slack.channels[name]["id"]
    assert [c["name"] for c in fake_slack.calls_to("conversations.create")] == [name]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # announced once


def test_someone_elses_channel_of_that_name_is_not_adopted(slack, fake_slack, session):
    session.rollback()
    next_id = (session.scalar(select(func.max(Incident.id))) or 0) + 1
    fake_slack.taken_names.add(f"inc-{next_id}-login-down")
    slack.command("declare Login down")
    slack.drain()
    assert list(fake_slack.channels) == [f"inc-{next_id}-login-down-2"]


def test_a_stored_channel_is_not_created_again_on_a_rerun(app, slack, fake_slack, session):
    slack.command("declare Queue stuck")
    slack.drain()
    [job] = jobs(session, "slack.channel")
    from incidents.outbox import service as outbox
    from slackbot.jobs import open_channel

    with app.app_context():
        open_channel(outbox.Job(id=job.id, kind=job.kind, key=job.key, payload=job.payload,
                                incident_id=job.incident_id, attempts=2))
    assert len(fake_slack.calls_to("conversations.create")) == 1


def test_a_replayed_slash_command_does_not_act_twice(slack, incident, session):
    timestamp = int(time.time())
    first = slack.command("note paged the DBA", channel_id=CHANNEL, timestamp=timestamp)
    again = slack.command("note paged the DBA", channel_id=CHANNEL, timestamp=timestamp)
    assert "Noted" in first.get_json()["text"]
    assert "already received" in again.get_json()["text"]
    session.rollback()
    assert session.scalar(select(func.count()).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.text == "paged the DBA")) == 1
    # The same words typed again are a new command (a new signature time), and act.
    later = slack.command("note paged the DBA", channel_id=CHANNEL, timestamp=timestamp + 1)
    assert "Noted" in later.get_json()["text"]


def test_a_replayed_declare_form_declares_once(slack, session):
    from tests.test_slack_interactions import view_submission

    payload = view_submission("declare_incident", {"title": "Replayed form", "severity": "SEV2"})
    timestamp = int(time.time())
    assert slack.interaction(payload, timestamp=timestamp).status_code == 200
    assert slack.interaction(payload, timestamp=timestamp).status_code == 200
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Incident)) == 1


@pytest.mark.parametrize("name", ["<!channel>", "<http://evil.example|log in>", "<@U0ADMIN> & co"])
def test_names_reach_slack_as_text_never_as_markup(slack, fake_slack, incident, session, name):
    slack.command("sev 1", channel_id=CHANNEL, user_name=name)
    slack.drain()
    text = fake_slack.calls_to("chat.postMessage")[0]["text"]
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f"({escaped})" in text and name not in text


def test_titles_and_services_are_escaped_in_the_announcement(slack, fake_slack, session):
    slack.command("declare <!here> checkout <http://evil.example|login>")
    slack.drain()
    announced = fake_slack.calls_to("chat.postMessage")[0]
    assert "<!here>" not in str(announced) and "&lt;!here&gt;" in announced["text"]
    assert "<http://evil.example|login>" not in str(announced)


def test_a_prevention_item_proposed_in_slack_is_told_in_the_channel(slack, fake_slack, incident):
    slack.command("prevent detect: contract test for <!channel> amounts", channel_id=CHANNEL)
    slack.drain()
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post["channel"] == CHANNEL
    assert "Prevention item proposed by alice" in post["text"] and "(detect)" in post["text"]
    assert "contract test for &lt;!channel&gt; amounts" in post["text"]


def test_web_declared_incidents_queue_no_slack_work(client, auth, session):
    auth.login_as("responder")
    client.post("/incidents/new", data={"title": "From the browser", "severity": "SEV3"})
    incident = session.scalars(select(Incident)).one()
    client.post(f"/incidents/{incident.id}/status", data={"severity": "SEV1",
                                                          "status": "identified"})
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxJob)) == 0
