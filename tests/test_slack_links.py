"""Slack members linked to Linecheck accounts: by an admin on the user's page, by the worker
when an unlinked member acts and Slack tells their email (users.info), or at an admin's request
by the account's email (users.lookupByEmail); and, with SLACK_LINKED_USERS_ONLY, only linked
responders change incidents from Slack."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incidents.audit.models import AuditEntry
from incidents.auth.models import User
from incidents.outbox.models import JobState, OutboxJob
from slackbot import people
from tests.fake_slack import INCIDENT_CHANNEL as CHANNEL
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _incident_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
    drain,
    reload,
)


def test_an_unlinked_member_who_acts_is_linked_by_their_slack_email(
        app, slack, fake_slack, session, make_user, incident):
    ana = make_user("responder", email="ana@example.com", name="Ana")
    fake_slack.add_user("U-ana", email="Ana@Example.com", name="ana")
    assert slack.command("note checking the pool", channel_id=CHANNEL,
                         user_id="U-ana", user_name="ana").status_code == 200
    drain(app)
    assert fake_slack.calls_to("users.info")[-1]["user"] == "U-ana"
    assert reload(session, User, ana.id).slack_user_id == "U-ana"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.slack_linked"))
    assert entry.entity_id == ana.id and entry.actor_label == "slack (same email)"
    slack.command("note pool resized", channel_id=CHANNEL, user_id="U-ana", user_name="ana")
    assert session.scalars(select(OutboxJob).where(
        OutboxJob.kind == "slack.link_user")).all().__len__() == 1  # linked: not asked again


def test_a_member_whose_email_matches_no_account_stays_unlinked_and_the_job_is_done(
        app, slack, fake_slack, session, make_user):
    make_user("responder", email="ana@example.com")
    fake_slack.add_user("U-bob", email="bob@example.com")
    fake_slack.add_user("U-noemail")  # the app lacks users:read.email, or a guest
    slack.command("list", user_id="U-bob")
    slack.command("list", user_id="U-noemail")
    drain(app)
    session.rollback()
    jobs = session.scalars(select(OutboxJob).where(OutboxJob.kind == "slack.link_user")).all()
    assert len(jobs) == 2 and {job.state for job in jobs} == {JobState.DONE}
    assert session.scalar(select(User).where(User.slack_user_id.is_not(None))) is None


def test_an_admins_link_is_never_replaced_by_email(app, slack, fake_slack, session, make_user):
    ana = make_user("responder", email="ana@example.com")
    ana.slack_user_id = "U-ana-work"
    session.commit()
    fake_slack.add_user("U-ana-other", email="ana@example.com")
    slack.command("list", user_id="U-ana-other")
    drain(app)
    assert reload(session, User, ana.id).slack_user_id == "U-ana-work"


def test_admin_links_and_unlinks_a_member_on_the_users_page(client, auth, session, make_user):
    auth.login_as("admin")
    ana = make_user("responder", email="ana@example.com")
    bob = make_user("responder", email="bob@example.com")
    assert client.post(f"/admin/users/{ana.id}/slack",
                       data={"slack_user_id": "U0ANA"}).status_code == 302
    assert reload(session, User, ana.id).slack_user_id == "U0ANA"
    page = client.get(f"/admin/users/{ana.id}").get_data(as_text=True)
    assert "Linked to <code>U0ANA</code>" in page
    taken = client.post(f"/admin/users/{bob.id}/slack", data={"slack_user_id": "U0ANA"})
    assert taken.status_code == 400 and "linked to ana@example.com already" in taken.get_data(
        as_text=True)
    wrong = client.post(f"/admin/users/{bob.id}/slack", data={"slack_user_id": "@bob"})
    assert wrong.status_code == 400 and "U0123ABCD" in wrong.get_data(as_text=True)
    client.post(f"/admin/users/{ana.id}/slack", data={"slack_user_id": ""})
    assert reload(session, User, ana.id).slack_user_id is None
    actions = list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "user", AuditEntry.entity_id == ana.id)
        .order_by(AuditEntry.id)))
    assert actions[-2:] == ["user.slack_linked", "user.slack_unlinked"]


def test_admin_finds_an_account_in_slack_by_its_email(app, client, auth, fake_slack, session,
                                                      make_user):
    auth.login_as("admin")
    ana = make_user("responder", email="ana@example.com")
    nobody = make_user("viewer", email="nobody@example.com")
    fake_slack.add_user("W0ANA", email="ana@example.com")
    client.post(f"/admin/users/{ana.id}/slack/lookup")
    client.post(f"/admin/users/{nobody.id}/slack/lookup")
    drain(app)
    looked_up = {call["email"] for call in fake_slack.calls_to("users.lookupByEmail")}
    assert looked_up == {"ana@example.com", "nobody@example.com"}
    assert reload(session, User, ana.id).slack_user_id == "W0ANA"
    assert reload(session, User, nobody.id).slack_user_id is None
    dead = session.scalar(select(OutboxJob).where(OutboxJob.kind == "slack.find_user",
                                                  OutboxJob.state == JobState.DEAD))
    assert "no member with the email nobody@example.com" in dead.last_error


@pytest.fixture
def linked_only(app_config):
    app_config["SLACK_LINKED_USERS_ONLY"] = True


def test_with_linked_users_only_an_unlinked_member_may_not_change_an_incident_until_linked(
        linked_only, app, slack, fake_slack, session, make_user, incident):
    make_user("responder", email="ana@example.com")
    fake_slack.add_user("U-ana", email="ana@example.com")
    refused = slack.command("sev 1", channel_id=CHANNEL, user_id="U-ana").get_json()
    assert refused["text"] == people.NOT_LINKED
    drain(app)  # the worker links ana by her email meanwhile
    done = slack.command("sev 1", channel_id=CHANNEL, user_id="U-ana").get_json()
    assert "SEV1" in done["text"], done
    make_user("viewer", email="val@example.com")
    fake_slack.add_user("U-val", email="val@example.com")
    slack.command("list", user_id="U-val")
    drain(app)
    viewer = slack.command("sev 2", channel_id=CHANNEL, user_id="U-val").get_json()
    assert viewer["text"] == people.NOT_A_RESPONDER


def test_without_linked_users_only_an_unlinked_member_still_responds(slack, fake_slack,
                                                                     incident):
    answer = slack.command("sev 1", channel_id=CHANNEL, user_id="U-stranger").get_json()
    assert "SEV1" in answer["text"]
