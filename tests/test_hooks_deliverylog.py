"""Per-sender tokens, the delivery log (refused deliveries too) and the test-event button."""

import pytest
from sqlalchemy import func, select

from incidents.hooks import receive
from incidents.inbox.models import Delivery, RejectedDelivery
from tests.conftest import GITHUB_SECRET
from tests.helpers import github_delivery
from tests.hooks_payloads import HookClient, am_alert, am_group, incidents, timeline


@pytest.mark.parametrize("scope, tool, status", [
    ("hooks:alertmanager", "alertmanager", 200),
    ("hooks:alertmanager", "grafana", 403),
    ("hooks", "alertmanager", 200),
    ("api:write", "alertmanager", 403),
])
def test_a_token_limited_to_one_sender_opens_only_its_hook(client, make_token, scope, tool,
                                                           status):
    hooks = HookClient(client, make_token(scope))
    body = am_group(am_alert("aaa1"))
    if tool == "grafana":
        body = {**body, "orgId": 1, "version": "1", "state": "alerting"}

    response = hooks.post(tool, body)

    assert response.status_code == status, response.get_json()
    if status == 403:
        assert f"hooks:{tool} or hooks" in response.get_json()["error"]


def test_the_tokens_cli_and_admin_page_offer_sender_scopes(runner, client, auth):
    created = runner.invoke(args=["tokens", "create", "am", "--scope", "hooks:alertmanager"])
    assert created.exit_code == 0, created.output
    assert "hooks:alertmanager" in created.output
    auth.login_as("admin")
    assert 'value="hooks:grafana"' in client.get("/admin/tokens").get_data(as_text=True)


def _refused(session):
    session.rollback()
    return [(r.sender, r.status, r.reason) for r in session.scalars(
        select(RejectedDelivery).order_by(RejectedDelivery.id))]


def test_refused_deliveries_are_logged_with_status_and_reason(client, make_token, session):
    hooks = HookClient(client, make_token("hooks"))
    hooks.post("alertmanager", am_group(am_alert("aaa1")), token="lc_wrong")
    hooks.post("grafana", am_group(am_alert("aaa1")))
    hooks.post("generic", None, raw=b"{not json")
    hooks.post("generic", None, raw=b"x" * (1024 * 1024 + 1))

    logged = _refused(session)

    assert [(sender, status) for sender, status, _ in logged] == [
        ("alertmanager", 401), ("grafana", 400), ("generic", 400), ("generic", 413)]
    assert "invalid or revoked token" in logged[0][2]
    assert "body.orgId" in logged[1][2]
    assert incidents(session) == []


def test_the_refused_log_keeps_only_the_newest_per_sender(client, session):
    hooks = HookClient(client, None)
    for _ in range(receive.KEEP_REJECTED + 5):
        hooks.post("opsgenie", {})
    hooks.post("generic", {})

    session.rollback()
    kept = dict(session.execute(select(RejectedDelivery.sender, func.count())
                                .group_by(RejectedDelivery.sender)).all())
    assert kept == {"opsgenie": receive.KEEP_REJECTED, "generic": 1}


@pytest.mark.parametrize("sender", ["alertmanager", "grafana", "pagerduty", "opsgenie",
                                    "generic"])
def test_the_test_event_button_sends_a_documented_sample_through_the_hook(client, auth,
                                                                          session, sender):
    auth.login_as("admin")

    response = client.post(f"/admin/paging/{sender}/test")

    assert response.status_code == 302
    [incident] = incidents(session)
    assert incident.source == sender and incident.status == "resolved"
    assert len(timeline(session, incident.id)) >= 2
    page = client.get("/admin/paging").get_data(as_text=True)
    assert f"incident #{incident.id}" in page
    assert client.post(f"/admin/paging/{sender}/test").status_code == 302
    assert len(incidents(session)) == 2  # each press is a new test event


def test_the_settings_page_saves_the_stale_time_and_rule(client, auth, session):
    from incidents.hooks import service

    auth.login_as("admin")
    response = client.post("/admin/paging/grafana", data={
        "grafana-enabled": "y", "grafana-default_severity": "SEV3",
        "grafana-stale_after_hours": "6", "grafana-resolve_stale": "y"})

    assert response.status_code == 302
    session.rollback()
    saved = service.settings_for(session=session, sender="grafana")
    assert (saved.stale_after_hours, saved.resolve_stale) == (6, True)
    refused = client.post("/admin/paging/grafana", data={
        "grafana-enabled": "y", "grafana-default_severity": "SEV3",
        "grafana-resolve_stale": "y"})
    assert refused.status_code == 400


# --- the signed code-host, tracker and CI hooks ----------------------------------------------

GITHUB_STAR = {"action": "created", "repository": {"id": 1, "full_name": "acme/checkout"},
               "sender": {"login": "octocat", "id": 1, "type": "User"}}


def test_signed_hooks_log_their_refusals_with_status_and_reason(client, make_token, session):
    client.post("/hooks/github", **github_delivery("star", GITHUB_STAR, secret="wrong"))
    client.post("/hooks/github", **github_delivery("star", b"{not json", secret=GITHUB_SECRET))
    client.post("/hooks/gitlab", data=b"{}", content_type="application/json",
                headers={"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"})
    client.post("/hooks/jira", json={"webhookEvent": "jira:issue_updated"})
    client.post("/hooks/linear", json={"type": "Issue"})
    client.post("/hooks/ci", json={"run_id": "1"})
    client.post("/hooks/changes", json={"repository": "acme/checkout"},
                headers={"Authorization": f"Bearer {make_token('api:read')}"})
    client.post("/hooks/changes", data=b"x" * (1024 * 1024 + 1),
                content_type="application/json",
                headers={"Authorization": f"Bearer {make_token('hooks')}"})

    logged = _refused(session)

    assert [(sender, status) for sender, status, _ in logged] == [
        ("github", 401), ("github", 400), ("gitlab", 401), ("jira", 401), ("linear", 401),
        ("ci", 401), ("changes", 403), ("changes", 413)]
    assert "X-Hub-Signature-256 does not match" in logged[0][2]
    assert "not valid JSON" in logged[1][2]
    assert "X-Gitlab-Token" in logged[2][2]
    assert all(reason for _, _, reason in logged)


def test_a_signed_hooks_bad_body_leaves_no_delivery_recorded(client, session):
    # A check_run without its check_run object: the consumer refuses it after the delivery
    # was recorded in the same transaction; the refusal log's rollback undoes the record.
    response = client.post("/hooks/github", **github_delivery(
        "check_run", {"action": "completed"}, secret=GITHUB_SECRET))
    assert response.status_code == 400
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert [(s, st) for s, st, _ in _refused(session)] == [("github", 400)]


def test_the_delivery_log_page_shows_signed_hooks_accepted_and_refused(client, auth):
    accepted = client.post("/hooks/github", **github_delivery("star", GITHUB_STAR,
                                                              secret=GITHUB_SECRET))
    assert accepted.status_code == 202
    client.post("/hooks/linear", json={"type": "Issue"})
    auth.login_as("admin")

    page = client.get("/admin/paging").get_data(as_text=True)

    assert 'data-testid="hook-url-github"' in page and "/hooks/github" in page
    github_log = page.split('data-testid="deliveries-github"')[1].split("</ul>")[0]
    assert "recorded" in github_log
    linear_refused = page.split('data-testid="refused-linear"')[1].split("</ul>")[0]
    assert "<strong>401</strong>" in linear_refused
    for sender in ("gitlab", "jira", "ci", "changes"):
        assert f'id="hook-{sender}"' in page
