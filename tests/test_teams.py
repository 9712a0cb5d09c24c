"""Owner teams: made by admins only (browser and CLI), one team whatever the spelling,
renamed and merged with their incidents, items and members, and a Slack channel for reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text

from incidents.audit.models import AuditEntry
from incidents.auth.models import Team, User
from incidents.db import utcnow
from incidents.hooks import service as hook_settings
from incidents.hooks.models import SenderSettings
from incidents.incident import service as incidents
from incidents.incident.models import Incident
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionItem
from incidents.team import service as teams
from tests import test_migration_upgrade as migrations
from tests.conftest import PASSWORD
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
    drain,
)
from tests.helpers import sign_in_browser


def team(session, name) -> Team | None:
    session.expire_all()
    return session.scalar(select(Team).where(Team.key == name.casefold()))


def test_api_refuses_an_unknown_team_naming_the_known_ones_and_creates_none(api, session):
    response = api.post("/api/v1/incidents", json={"title": "Typo", "team": "Paymnets"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "team" and "'Paymnets'" in body["error"]
    assert "payments" in body["error"] and "/admin/teams" in body["error"]
    item = api.post("/api/v1/prevention-items", json={"title": "x", "kind": "detect",
                                                       "owner_team": "nope"})
    assert item.status_code == 400 and item.get_json()["field"] == "owner_team"
    assert team(session, "paymnets") is None and team(session, "nope") is None


def test_api_names_a_team_in_any_case(api, session):
    created = api.post("/api/v1/incidents", json={"title": "Case", "team": "PAYMENTS"})
    assert created.status_code == 201 and created.get_json()["team"] == "payments"


def test_browser_declare_offers_the_teams_as_a_list(client, auth, session):
    auth.login_as("responder")
    page = client.get("/incidents/new").get_data(as_text=True)
    assert '<select id="team" name="team">' in page and '<option value="payments">' in page
    response = client.post("/incidents/new", data={"title": "Made up", "severity": "SEV3",
                                                   "team": "made-up", "detection_method": "alert",
                                                   "change_origin": "unknown"})
    assert "there is no team" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_admin_adds_renames_and_sets_the_channel_in_the_browser(client, auth, session):
    auth.login_as("admin")
    assert client.post("/admin/teams", data={"name": "Checkout  Crew"}).status_code == 302
    made = team(session, "checkout crew")
    assert made.name == "Checkout Crew"
    again = client.post("/admin/teams", data={"name": "checkout crew"})
    assert again.status_code == 400 and "already" in again.get_data(as_text=True)
    client.post(f"/admin/teams/{made.id}/rename", data={"name": "Checkout"})
    assert team(session, "checkout").id == made.id
    taken = client.post(f"/admin/teams/{made.id}/rename", data={"name": "Payments"})
    assert taken.status_code == 400 and team(session, "checkout") is not None
    bad = client.post(f"/admin/teams/{made.id}/channel", data={"slack_channel_id": "#checkout"})
    assert bad.status_code == 400 and "C0123ABCD" in bad.get_data(as_text=True)
    client.post(f"/admin/teams/{made.id}/channel", data={"slack_channel_id": "C0CHECKOUT"})
    assert team(session, "checkout").slack_channel_id == "C0CHECKOUT"
    actions = set(session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "team", AuditEntry.entity_id == made.id)))
    assert {"team.created", "team.renamed", "team.channel_set"} <= actions
    listing = client.get("/admin/teams").get_data(as_text=True)
    assert "Checkout" in listing and "C0CHECKOUT" in listing


def test_admin_adds_and_removes_members(client, auth, session, make_user):
    auth.login_as("admin")
    ana = make_user("responder", email="ana@example.com")
    search = team(session, "search")
    client.post(f"/admin/teams/{search.id}/members", data={"user_id": ana.id})
    session.expire_all()
    assert session.get(User, ana.id).team_id == search.id
    page = client.get(f"/admin/teams/{search.id}").get_data(as_text=True)
    assert "ana@example.com" in page and "built-in method" not in page
    client.post(f"/admin/teams/{search.id}/members/{ana.id}/remove")
    session.expire_all()
    assert session.get(User, ana.id).team_id is None


def test_merge_moves_incidents_items_members_and_mappings_and_is_audited(
        client, auth, session, make_user, make_team):
    split = make_team("Payments Team", slack_channel_id="C0SPLIT")
    incident = incidents.declare(session=session, title="Split", team="payments team")
    item = prevention.create_item(session=session, title="Guard", kind="detect",
                                  owner_team="Payments Team")
    member = make_user("responder", team="payments team")
    hook_settings.save_settings(session=session, sender="generic", enabled=True,
                                default_severity="SEV3", default_team="Payments Team",
                                service_teams={"checkout": "Payments Team"})
    session.commit()
    payments, split_id = team(session, "payments"), split.id
    auth.login_as("admin")
    response = client.post(f"/admin/teams/{split_id}/merge", data={"into": payments.id})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Team, split_id) is None
    assert session.get(Incident, incident.id).team_id == payments.id
    assert session.get(PreventionItem, item.id).owner_team_id == payments.id
    assert session.get(User, member.id).team_id == payments.id
    settings = session.get(SenderSettings, "generic")
    assert settings.default_team_id == payments.id
    assert settings.service_teams == {"checkout": "payments"}
    assert session.get(Team, payments.id).slack_channel_id == "C0SPLIT"  # it had none
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "team.merged"))
    assert entry.entity_id == payments.id and entry.detail["merged"] == "Payments Team"
    assert (entry.detail["incidents"], entry.detail["items"], entry.detail["members"]) == (
        1, 1, 1)


def test_rename_keeps_paging_mappings_pointing_at_the_team(session):
    hook_settings.save_settings(session=session, sender="generic", enabled=True,
                                default_severity="SEV3", default_team=None,
                                service_teams={"search-api": "search"})
    teams.rename_team(session=session, team=team(session, "search"), name="Discovery Search")
    session.commit()
    session.expire_all()
    assert session.get(SenderSettings, "generic").service_teams == {
        "search-api": "Discovery Search"}


def test_cli_lists_creates_renames_merges_and_sets_the_channel(runner, session):
    assert runner.invoke(args=["teams", "create", "Ops", "--channel", "C0OPS"]).exit_code == 0
    again = runner.invoke(args=["teams", "create", "OPS"])
    assert again.exit_code != 0 and "already" in again.output
    assert runner.invoke(args=["teams", "rename", "ops", "Operations"]).exit_code == 0
    assert team(session, "operations").slack_channel_id == "C0OPS"
    result = runner.invoke(args=["teams", "set-channel", "sre", "C0SRE"])
    assert result.exit_code == 0 and "C0SRE" in result.output
    merged = runner.invoke(args=["teams", "merge", "Operations", "sre"])
    assert merged.exit_code == 0, merged.output
    assert team(session, "operations") is None
    unknown = runner.invoke(args=["teams", "rename", "nobody", "x"])
    assert unknown.exit_code != 0 and "there is no team 'nobody'" in unknown.output
    listing = runner.invoke(args=["teams", "list"]).output
    assert "sre\tC0SRE" in listing and "payments\t-" in listing


def test_remind_reaches_a_team_once_its_channel_is_set(app, runner, fake_slack, session):
    prevention.create_item(session=session, title="Overdue guard", kind="detect",
                           owner_team="search", due_date=utcnow().date() - timedelta(days=3))
    session.commit()
    skipped = runner.invoke(args=["remind"])
    assert "skipped search: the team has no Slack channel set" in skipped.output
    assert "flask teams set-channel" in skipped.output
    runner.invoke(args=["teams", "set-channel", "search", "C0SEARCH"])
    queued = runner.invoke(args=["remind"])
    assert "queued a reminder for search" in queued.output, queued.output
    drain(app)
    assert fake_slack.calls_to("chat.postMessage")[0]["channel"] == "C0SEARCH"


blank_url = migrations.blank_url  # an empty database per backend, for Alembic to build


def test_migration_merges_teams_that_were_split_by_spelling(blank_url):
    config = migrations.alembic_config(blank_url)
    command.upgrade(config, "0008")
    engine = create_engine(blank_url)
    now = utcnow()
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO teams (id, name, created_at) VALUES (1, 'Payments', :t), "
                "(2, 'payments ', :t), (3, 'search', :t)"), {"t": now})
            conn.execute(text(
                "INSERT INTO incidents (id, title, severity, status, source, description, "
                "started_at, created_at, updated_at, team_id, detection_method, change_origin) "
                "VALUES (1, 'a', 'SEV3', 'investigating', 'api', '', :t, :t, :t, 2, 'unknown', "
                "'unknown')"), {"t": now})
        command.upgrade(config, "head")
        with engine.connect() as conn:
            teams_after = conn.execute(text("SELECT id, name, key FROM teams ORDER BY id")).all()
            team_of_incident = conn.scalar(text("SELECT team_id FROM incidents WHERE id = 1"))
    finally:
        engine.dispose()
    assert [tuple(row) for row in teams_after] == [(1, "Payments", "payments"),
                                                    (3, "search", "search")]
    assert team_of_incident == 1


@pytest.mark.browser
@pytest.mark.csrf
def test_admin_adds_a_team_in_the_browser_and_a_responder_picks_it_from_the_list(
        live_server, page, make_user, session):
    sign_in_browser(page, live_server, make_user("admin"), PASSWORD)
    page.click("nav >> text=Teams")
    page.wait_for_url("**/admin/teams")
    page.fill("input[name=name]", "Checkout Crew")
    page.click("text=Add team")
    page.wait_for_url("**/admin/teams")
    assert "Added team Checkout Crew." in page.locator(".flash").inner_text()
    page.goto(f"{live_server}/incidents/new")
    page.fill("input[name=title]", "Card payments failing")
    page.select_option("select[name=team]", "Checkout Crew")
    page.click("text=Declare incident")
    page.wait_for_url("**/incidents/*")
    session.rollback()
    incident = session.scalars(select(Incident)).one()
    assert incident.team.name == "Checkout Crew"
