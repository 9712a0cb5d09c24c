"""The admin page for paging tools, and the settings deliveries obey."""

import re

import pytest
from sqlalchemy import select

from incidents.auth.models import Team
from incidents.hooks.models import SenderSettings
from incidents.hooks.tools import registry
from tests.conftest import TEST_TEAMS
from tests.hooks_payloads import HookClient, am_alert, am_group, incidents, pd_event, pd_post


@pytest.fixture
def hooks(client, make_token):
    return HookClient(client, make_token("hooks"))


def _save(client, sender, **fields):
    data = {f"{sender}-enabled": "y", f"{sender}-default_severity": "SEV3",
            f"{sender}-default_team": "", f"{sender}-service_teams": ""}
    data.update({f"{sender}-{k}": v for k, v in fields.items() if v is not None})
    for name, value in fields.items():
        if value is None:
            data.pop(f"{sender}-{name}")
    return client.post(f"/admin/paging/{sender}", data=data)


def test_every_tool_is_registered():
    assert sorted(registry()) == ["alertmanager", "generic", "grafana", "opsgenie", "pagerduty"]


def test_admin_sees_every_hook_url_and_its_settings(client, auth):
    auth.login_as("admin")

    response = client.get("/admin/paging")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for name in registry():
        assert f"http://linecheck.test/hooks/{name}" in page  # PUBLIC_BASE_URL, not Host
    assert "X-PagerDuty-Signature" in page
    assert 'href="/admin/paging"' in page  # the nav link appears for admins


@pytest.mark.parametrize("role", ["viewer", "responder", "lead"])
def test_only_admins_may_see_or_change_paging_settings(client, auth, role, session):
    auth.login_as(role)

    assert client.get("/admin/paging").status_code == 403
    assert _save(client, "alertmanager", default_severity="SEV1").status_code == 403
    assert session.scalars(select(SenderSettings)).all() == []


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/admin/paging")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_saved_settings_map_services_to_teams_and_set_the_default_severity(
        client, auth, hooks, session):
    auth.login_as("admin")
    response = _save(client, "alertmanager", default_severity="SEV2", default_team="sre",
                     service_teams="checkout = payments\n# a comment\n\nsearch=discovery")
    assert response.status_code == 302

    hooks.post("alertmanager", am_group(am_alert("a1", severity="unknown")))
    hooks.post("alertmanager", am_group(am_alert("b1", service="billing"), group_key="g2"))

    checkout, billing = incidents(session)
    assert (checkout.severity, checkout.team.name) == ("SEV2", "payments")
    assert billing.team.name == "sre"  # no mapping for billing: the default team
    saved = session.get(SenderSettings, "alertmanager")
    assert saved.service_teams == {"checkout": "payments", "search": "discovery"}
    assert sorted(session.scalars(select(Team.name))) == sorted(TEST_TEAMS)  # none made
    unknown = _save(client, "alertmanager", default_team="sre", service_teams="a = nobody")
    assert "there is no team &#39;nobody&#39;" in unknown.get_data(as_text=True)
    page = client.get("/admin/paging").get_data(as_text=True)
    assert "checkout = payments" in page
    assert f'href="/incidents/{checkout.id}"' in page  # the last deliveries, for setting up


def test_settings_of_one_sender_do_not_touch_another(client, auth, hooks, session):
    auth.login_as("admin")
    _save(client, "alertmanager", default_severity="SEV1", default_team="sre")

    pd_post(hooks, pd_event("incident.triggered", event_id="ev-1", priority=None))

    [incident] = incidents(session)
    assert (incident.severity, incident.team) == ("SEV3", None)


def test_turning_a_sender_off_stops_its_deliveries(client, auth, hooks, session):
    auth.login_as("admin")
    _save(client, "alertmanager", enabled=None)  # an unticked checkbox is not sent

    response = hooks.post("alertmanager", am_group(am_alert("a1")))

    assert response.status_code == 202
    assert incidents(session) == []


@pytest.mark.parametrize("mapping", ["checkout payments", "= payments", "checkout ="])
def test_a_malformed_mapping_line_is_refused_with_the_line_number(client, auth, session,
                                                                  mapping):
    auth.login_as("admin")

    response = _save(client, "grafana", service_teams=f"a = b\n{mapping}")

    assert response.status_code == 400
    assert "line 2: write it as service = team" in response.get_data(as_text=True)
    assert session.get(SenderSettings, "grafana") is None


def test_an_unknown_severity_is_refused(client, auth, session):
    auth.login_as("admin")

    assert _save(client, "grafana", default_severity="SEV9").status_code == 400
    assert session.get(SenderSettings, "grafana") is None


def test_an_unknown_sender_is_404(client, auth):
    auth.login_as("admin")

    assert _save(client, "nagios").status_code == 404


def _login_with_csrf(client, make_user):
    user = make_user("admin")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").data).group(1).decode()
    response = client.post("/login", data={"email": user.email, "csrf_token": token,
                                           "password": "correct-horse-battery"})
    assert response.status_code == 302


@pytest.mark.csrf
def test_saving_settings_without_a_csrf_token_is_refused(client, make_user, session):
    _login_with_csrf(client, make_user)

    response = _save(client, "grafana", default_severity="SEV1")

    assert response.status_code == 400
    assert session.get(SenderSettings, "grafana") is None


@pytest.mark.csrf
def test_saving_settings_with_the_pages_csrf_token_is_accepted(client, make_user, session):
    _login_with_csrf(client, make_user)
    page = client.get("/admin/paging").data
    token = re.search(rb'name="grafana-csrf_token" type="hidden" value="([^"]+)"',
                      page).group(1).decode()

    response = _save(client, "grafana", default_severity="SEV1", csrf_token=token)

    assert response.status_code == 302
    assert session.get(SenderSettings, "grafana").default_severity == "SEV1"


def test_every_hook_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    for name in registry():
        operation = spec["paths"][f"/hooks/{name}"]["post"]
        assert {"200", "202", "400", "401", "413"} <= set(operation["responses"])
        assert operation["requestBody"]["required"] is True
    generic = spec["paths"]["/hooks/generic"]["post"]["requestBody"]
    assert generic["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GenericEvent"}
    assert "status" in spec["components"]["schemas"]["GenericEvent"]["properties"]
