"""Tokens and secrets never reach the logs, at any level, on success or failure."""

from __future__ import annotations

import logging
import re

import pytest

from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
)
from tests.hooks_payloads import HookClient, pd_event, pd_post


@pytest.fixture
def everything_logged(caplog):
    """Every logger at DEBUG, SQL statements with their parameters included."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "slack_sdk", "urllib3", "werkzeug", "incidents",
                 "slackbot"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_absent(caplog, *secrets: str) -> None:
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert caplog.records, "nothing was logged: the capture is not working"
    for secret in secrets:
        assert secret and secret not in logged, f"{secret[:6]}… appears in the logs"


def test_token_created_on_the_command_line_is_not_logged(runner, everything_logged):
    result = runner.invoke(args=["tokens", "create", "ci", "--scope", "api:write"])
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("lc_")
    assert_absent(everything_logged, raw)


def test_token_created_in_the_browser_is_not_logged(client, auth, everything_logged):
    auth.login_as("admin")
    page = client.post("/admin/tokens", data={"name": "grafana", "scope": "hooks"})
    raw = re.search(r"lc_[A-Za-z0-9_-]{20,}", page.get_data(as_text=True)).group(0)
    assert_absent(everything_logged, raw)


def test_bearer_tokens_are_not_logged_when_used_or_refused(client, make_token,
                                                           everything_logged):
    good = make_token("api:write")
    hooks = make_token("hooks")
    forged = "lc_" + "x" * 43
    client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {good}"})
    client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {forged}"})
    client.post("/api/v1/incidents", json={"title": "t"},
                headers={"Authorization": f"Bearer {hooks}"})  # wrong scope
    sender = HookClient(client, hooks)
    sender.post("generic", {"dedup_key": "k", "status": "trigger", "title": "Disk full"})
    sender.post("generic", None, raw=b"{broken")
    sender.post("generic", {"dedup_key": "k"}, token=forged)
    sender.post("generic", {"dedup_key": "k"}, token=good)  # wrong scope
    assert_absent(everything_logged, good, hooks, forged)


def test_signing_secrets_and_bot_token_are_not_logged(app, client, slack, fake_slack,
                                                       everything_logged):
    assert slack.command("help").status_code == 200
    assert slack.command("declare sev2 Checkout down").status_code == 200
    slack.drain()  # the worker's part: channel, invite, announcement
    fake_slack.wait_for("chat.postMessage")
    slack.command("help", timestamp=1)  # stale: refused
    hooks = HookClient(client, None)
    pd_post(hooks, pd_event("incident.triggered", event_id="E1"))
    pd_post(hooks, pd_event("incident.triggered", event_id="E2"), "wrong-secret")
    assert_absent(everything_logged, app.config["SLACK_SIGNING_SECRET"],
                  app.config["SLACK_BOT_TOKEN"], app.config["PAGERDUTY_WEBHOOK_SECRET"])


def test_unexpected_errors_log_the_route_but_not_the_credentials(app, client, make_token,
                                                                  everything_logged):
    token = make_token("api:read")

    @app.get("/api/v1/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/api/v1/boom-for-test", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500 and response.get_json() == {
        "error": response.get_json()["error"]}
    assert "boom-for-test" in everything_logged.text
    assert_absent(everything_logged, token)
