"""/incident subcommands through POST /slack/commands, against a fake Slack Web API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incidents.incident import service as incidents
from incidents.incident.models import Incident, Severity, Status
from incidents.outbox import service as outbox
from incidents.outbox.models import JobState, OutboxJob
from incidents.prevention.models import PreventionItem, PreventionKind, PreventionLink
from incidents.timeline.models import EventKind, TimelineEvent
from tests.fake_slack import INCIDENT_CHANNEL as CHANNEL
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _incident_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
    reload,
)


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
    assert fake_slack.calls == []  # nothing in the request: the worker does it

    slack.drain()
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


def test_declare_without_title_opens_the_form_after_answering(slack, fake_slack, session):
    response = slack.command("declare")
    assert response.status_code == 200 and response.data == b""
    opened = fake_slack.wait_for("views.open")
    assert opened[0]["trigger_id"] == "13345.trigger"
    assert opened[0]["view"]["callback_id"] == "declare_incident"
    blocks = [block["block_id"] for block in opened[0]["view"]["blocks"]]
    assert blocks == ["title", "severity", "service", "description"]
    session.rollback()
    assert session.scalars(select(Incident)).all() == []


def test_declare_retries_a_taken_channel_name_with_a_suffix(slack, fake_slack, session):
    session.rollback()
    next_id = (session.scalar(select(Incident.id).order_by(Incident.id.desc())) or 0) + 1
    fake_slack.taken_names.add(f"inc-{next_id}-db-down")
    slack.command("declare DB down")
    slack.drain()
    names = [call["name"] for call in fake_slack.calls_to("conversations.create")]
    assert names == [f"inc-{next_id}-db-down", f"inc-{next_id}-db-down-2"]
    assert reload(session, Incident, next_id).slack_channel_name == f"inc-{next_id}-db-down-2"


def channel_job(session) -> OutboxJob:
    session.rollback()
    session.expire_all()
    return session.scalar(select(OutboxJob).where(OutboxJob.kind == "slack.channel"))


def test_rate_limited_channel_creation_waits_as_told_and_says_so(app, slack, fake_slack,
                                                                 session):
    fake_slack.fail("conversations.create", "ratelimited", status=429, retry_after=30)
    response = slack.command("declare Payments slow")
    assert response.status_code == 200
    outbox.drain(app)  # the first attempt, and the note to the declarer
    reply = fake_slack.wait_responses()[0]
    assert reply["response_type"] == "ephemeral"
    assert "rate limiting" in reply["text"] and "retry after 30 s" in reply["text"]
    assert "will be created as soon as Slack allows" in reply["text"]
    session.rollback()
    incident = session.scalars(select(Incident)).one()
    assert incident.title == "Payments slow" and incident.slack_channel_id is None
    assert f"#{incident.id}" in reply["text"]
    job = channel_job(session)
    assert job.state == JobState.QUEUED and job.attempts == 1
    assert (job.available_at - job.created_at).total_seconds() >= 29


@pytest.fixture
def alice_linked(make_user, session):
    """alice's Slack id is on a responder's account, so her commands queue no link lookup."""
    alice = make_user("responder", name="alice")
    alice.slack_user_id = "U-alice"
    session.commit()
    return alice


def test_unreachable_slack_is_retried_and_the_incident_kept(app, slack, fake_slack, session,
                                                            alice_linked):
    app.config["SLACK_API_URL"] = "http://127.0.0.1:9/api/"  # nothing listens there
    slack.command("declare Search down")
    outbox.drain(app)
    reply = fake_slack.wait_responses()[0]
    assert "could not be reached" in reply["text"]
    assert "could not be reached" in channel_job(session).last_error
    app.config["SLACK_API_URL"] = fake_slack.api_url  # Slack is back: the retry succeeds
    slack.drain()
    session.rollback()
    assert session.scalars(select(Incident.title)).all() == ["Search down"]
    assert len(fake_slack.calls_to("conversations.create")) == 1
    assert channel_job(session).state == JobState.DONE


def test_note_in_incident_channel_lands_on_its_timeline(slack, incident, session):
    body = slack.command("note rolled back deploy 42", channel_id=CHANNEL).get_json()
    assert body["response_type"] == "ephemeral" and f"#{incident.id}" in body["text"]
    note = events_of(session, incident.id)[-1]
    assert (note.kind, note.text, note.author_name, note.source) == (
        EventKind.NOTE, "rolled back deploy 42", "alice", "slack")


@pytest.mark.parametrize("text", ["note #{id} db failover done", "#{id} note db failover done"])
def test_note_elsewhere_names_the_incident(slack, incident, session, text):
    slack.command(text.format(id=incident.id), channel_id="C-random")
    assert events_of(session, incident.id)[-1].text == "db failover done"


def test_note_by_a_linked_slack_user_is_authored_by_their_account(
        slack, incident, session, make_user):
    user = make_user("responder", name="Ada Responder")
    user.slack_user_id = "U-ada"
    session.commit()
    slack.command("note paged the DBA", channel_id=CHANNEL, user_id="U-ada", user_name="ada")
    note = events_of(session, incident.id)[-1]
    assert note.author_id == user.id and note.author_name == "Ada Responder"


def test_linked_viewer_cannot_change_incidents(slack, incident, session, make_user):
    user = make_user("viewer")
    user.slack_user_id = "U-viewer"
    session.commit()
    body = slack.command("sev 1", channel_id=CHANNEL, user_id="U-viewer").get_json()
    assert "not a responder" in body["text"]
    assert reload(session, Incident, incident.id).severity == Severity.SEV2


@pytest.mark.parametrize("text, usage", [
    ("note", "note [#id] <text>"),
    ("sev 7", "sev [#id] <1-4>"),
    ("sev", "sev [#id] <1-4>"),
    ("status sleeping", "status [#id] <investigating|identified|monitoring|resolved>"),
    ("prevent", "prevent [#id] [kind:] <text>"),
    ("prevent detect:", "prevent [#id] [kind:] <text>"),
])
def test_malformed_subcommand_answers_its_usage(slack, incident, session, text, usage):
    response = slack.command(text, channel_id=CHANNEL)
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"response_type": "ephemeral", "text": f"Usage: `/incident {usage}`"}
    assert len(events_of(session, incident.id)) == 1  # only the declaration


@pytest.mark.parametrize("text", ["", "   ", "explode", "#12", "<script>"])
def test_unknown_input_answers_short_usage(slack, text):
    response = slack.command(text)
    assert response.status_code == 200
    body = response.get_json()
    assert body["response_type"] == "ephemeral" and body["text"].startswith("Usage:")


def test_command_outside_incident_channel_without_id_explains(slack, incident):
    body = slack.command("note hello", channel_id="C-random").get_json()
    assert "not an incident channel" in body["text"] and "#12" in body["text"]


def test_command_naming_a_missing_incident_says_so(slack):
    assert slack.command("timeline #999").get_json()["text"] == "There is no incident #999."


def test_too_long_note_is_refused_with_the_reason(slack, incident, session):
    body = slack.command("note " + "x" * 20_001, channel_id=CHANNEL).get_json()
    assert "longer than" in body["text"]
    assert len(events_of(session, incident.id)) == 1


def test_sev_changes_severity_and_posts_to_the_incident_channel(slack, fake_slack, incident,
                                                                session):
    body = slack.command("sev 1", channel_id=CHANNEL).get_json()
    assert "SEV2 → *SEV1*" in body["text"]
    assert reload(session, Incident, incident.id).severity == Severity.SEV1
    assert events_of(session, incident.id)[-1].text == "Severity changed from SEV2 to SEV1"
    slack.drain()
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post["channel"] == CHANNEL and "SEV2 → *SEV1* (alice)" in post["text"]


def test_unchanged_severity_posts_nothing(slack, fake_slack, incident, alice_linked):
    body = slack.command("sev sev2", channel_id=CHANNEL).get_json()
    assert "already SEV2" in body["text"]
    assert slack.drain() == 0
    assert fake_slack.calls_to("chat.postMessage") == []


def test_status_changes_and_posts_to_the_incident_channel(slack, fake_slack, incident, session):
    slack.command(f"status #{incident.id} identified", channel_id="C-random")
    assert reload(session, Incident, incident.id).status == Status.IDENTIFIED
    slack.drain()
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post["channel"] == CHANNEL and "investigating → *identified*" in post["text"]


@pytest.mark.parametrize("text", ["resolve failover complete", "status resolved"])
def test_resolve_links_the_review_in_reply_and_channel(slack, fake_slack, incident, session,
                                                       text):
    body = slack.command(text, channel_id=CHANNEL).get_json()
    review = f"http://linecheck.test/incidents/{incident.id}/review"
    assert review in body["text"]
    resolved = reload(session, Incident, incident.id)
    assert resolved.status == Status.RESOLVED and resolved.resolved_at is not None
    last = events_of(session, incident.id)[-1]
    assert last.kind == EventKind.RESOLUTION
    if text.startswith("resolve"):
        assert last.text == "Resolved: failover complete"
    slack.drain()
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert review in post["text"]


def test_timeline_shows_every_event_with_its_date(slack, incident, session):
    slack.command("note first responder online", channel_id=CHANNEL)
    body = slack.command("timeline", channel_id=CHANNEL).get_json()
    text = "\n".join(block["text"]["text"] for block in body["blocks"])
    assert "Incident declared: Checkout errors" in text and "first responder online" in text
    assert text.count("^{date_num} {time}|") == 2
    day = events_of(session, incident.id)[0].occurred_at.strftime("%Y-%m-%d")
    assert f"|{day} " in text


def test_timeline_escapes_slack_markup_in_event_text(slack, incident):
    slack.command("note <!channel> & <@U1>", channel_id=CHANNEL)
    body = slack.command("timeline", channel_id=CHANNEL).get_json()
    text = body["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in text


def test_review_links_the_browser_review(slack, incident):
    body = slack.command(f"review #{incident.id}").get_json()
    assert f"http://linecheck.test/incidents/{incident.id}/review" in body["text"]


@pytest.mark.parametrize("text, kind, title", [
    ("prevent add a contract test for the tax API", PreventionKind.LOCAL_FIX,
     "add a contract test for the tax API"),
    ("prevent detect: contract test for the tax API", PreventionKind.DETECT,
     "contract test for the tax API"),
    ("prevent Fail loudly: alert on 5xx ratio", PreventionKind.FAIL_LOUDLY, "alert on 5xx ratio"),
    ("prevent eliminate:make currency a type", PreventionKind.ELIMINATE, "make currency a type"),
])
def test_prevent_proposes_a_linked_item(slack, incident, session, text, kind, title):
    body = slack.command(text, channel_id=CHANNEL).get_json()
    assert f"({kind})" in body["text"]
    session.rollback()
    item = session.scalars(select(PreventionItem)).one()
    assert (item.title, item.kind, item.status) == (title, kind, "proposed")
    assert item.owner_team.name == "payments"
    link = session.scalars(select(PreventionLink)).one()
    assert link.incident_id == incident.id and link.prevention_item_id == item.id
    assert ("not structural" in body["text"]) == (not kind.structural)


def test_list_shows_only_open_incidents(slack, incident, session):
    closed = incidents.declare(session=session, title="Old outage")
    incidents.resolve(session=session, incident=closed)
    session.commit()
    body = slack.command("list").get_json()
    text = body["blocks"][0]["text"]["text"]
    assert f"#{incident.id}>" in text and "Checkout errors" in text and f"<#{CHANNEL}>" in text
    assert "Old outage" not in text


def test_list_with_nothing_open(slack):
    assert slack.command("list").get_json()["text"] == "No open incidents."


def test_help_lists_every_subcommand(slack):
    text = slack.command("help").get_json()["text"]
    for name in ("declare", "note", "sev", "status", "resolve", "timeline", "review", "prevent",
                 "list", "help", ":pushpin:"):
        assert name in text


def test_ssl_check_is_acknowledged(slack):
    from urllib.parse import urlencode

    body = urlencode({"ssl_check": "1", "token": "x"}).encode()
    response = slack.post("/slack/commands", body, "application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.data == b""
