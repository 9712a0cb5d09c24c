"""Every hook refuses bad input with a JSON error and the right status, and writes nothing."""

import copy
import json
import random

import pytest
import requests
from sqlalchemy import text

from tests.hooks_payloads import (
    HookClient,
    am_alert,
    am_group,
    counts,
    grafana_payload,
    opsgenie_action,
    pd_event,
    pd_signature,
)

TOOLS = ["pagerduty", "alertmanager", "opsgenie", "grafana", "generic"]
VALID = {
    "pagerduty": lambda: pd_event("incident.triggered", event_id="ev-1"),
    "alertmanager": lambda: am_group(am_alert("aaa1")),
    "opsgenie": lambda: opsgenie_action("Create"),
    "grafana": grafana_payload,
    "generic": lambda: {"dedup_key": "k", "status": "trigger", "title": "Disk full"},
}


@pytest.fixture
def hooks(client, make_token):
    return HookClient(client, make_token("hooks"))


@pytest.mark.parametrize("tool", TOOLS)
def test_a_valid_delivery_is_accepted(hooks, session, tool):
    assert hooks.post(tool, VALID[tool]()).status_code == 200
    assert counts(session)[0] == 1


@pytest.mark.parametrize("tool", TOOLS)
def test_a_missing_token_is_401(hooks, session, tool):
    response = hooks.post(tool, VALID[tool](), token=None)

    assert response.status_code == 401
    assert response.is_json and response.get_json()["error"]
    assert counts(session) == (0, 0, 0)


@pytest.mark.parametrize("tool", TOOLS)
def test_a_wrong_or_revoked_token_is_401(hooks, session, runner, tool):
    assert hooks.post(tool, VALID[tool](), token="lc_not-a-token").status_code == 401
    assert hooks.post(tool, VALID[tool](), headers={"Authorization": "Basic abc"},
                      token=None).status_code == 401
    token_id = session.scalar(text("select id from api_tokens"))
    assert runner.invoke(args=["tokens", "revoke", str(token_id)]).exit_code == 0
    assert hooks.post(tool, VALID[tool]()).status_code == 401
    assert counts(session) == (0, 0, 0)


@pytest.mark.parametrize("tool", TOOLS)
def test_a_token_without_the_hooks_scope_is_403(client, make_token, session, tool):
    hooks = HookClient(client, make_token("api:write"))

    response = hooks.post(tool, VALID[tool]())

    assert response.status_code == 403
    assert "hooks" in response.get_json()["error"]
    assert counts(session) == (0, 0, 0)


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("raw, problem", [
    (b"", "empty"),
    (b"   ", "empty"),
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe{}", "UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_a_body_that_is_not_json_is_400(hooks, session, tool, raw, problem):
    response = hooks.post(tool, None, raw=raw)

    assert response.status_code == 400
    assert problem in response.get_json()["error"]
    assert counts(session) == (0, 0, 0)


SHAPES = {
    "pagerduty": [[], {}, {"event": []}, {"event": {"id": 5}},
                  {"event": {"id": "e", "event_type": "incident.triggered"}},
                  {"event": {"id": "e", "event_type": "incident.triggered",
                             "occurred_at": "2020-01-01T00:00:00Z", "data": {"type": "incident"}}},
                  {"event": {"id": "e", "event_type": "incident.annotated",
                             "occurred_at": "2020-01-01T00:00:00Z", "data": {"incident": 3}}}],
    "alertmanager": [[], {"alerts": []}, {"groupKey": "g", "status": "firing", "alerts": []},
                     {"groupKey": "g", "status": "firing", "alerts": [1]},
                     {"groupKey": "g", "status": "weird", "alerts": [am_alert("a")]},
                     {"groupKey": "g", "status": "firing",
                      "alerts": [{**am_alert("a"), "startsAt": "not a time"}]},
                     {"groupKey": "g", "status": "firing",
                      "alerts": [{**am_alert("a"), "labels": {"x": 1}}]},
                     {"groupKey": "g", "status": "firing", "commonLabels": [],
                      "alerts": [am_alert("a")]}],
    "opsgenie": [[], {"action": "Create"}, {"action": 3, "alert": {}},
                 {"action": "Create", "alert": {"alertId": 7}},
                 {"action": "Create", "alert": {"alertId": "a", "createdAt": "yesterday"}},
                 {"action": "Create", "alert": {"alertId": "a", "createdAt": 10 ** 30}}],
    "grafana": [[], {"groupKey": "{}:{}", "status": "firing", "alerts": {}},
                {**grafana_payload(), "alerts": [{"status": "firing"}]}],
    "generic": [[], "text", 3, {"dedup_key": "k"}],
}


@pytest.mark.parametrize("tool, body", [(t, b) for t, bodies in SHAPES.items() for b in bodies])
def test_json_of_the_wrong_shape_is_400_with_a_message(hooks, session, tool, body):
    response = hooks.post(tool, body)

    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]
    assert counts(session) == (0, 0, 0)


@pytest.mark.parametrize("tool", TOOLS)
def test_a_body_over_one_mebibyte_is_413(hooks, session, tool):
    raw = json.dumps({"padding": "x" * (1024 * 1024)}).encode()

    response = hooks.post(tool, None, raw=raw)

    assert response.status_code == 413
    assert "1 MiB" in response.get_json()["error"]
    assert counts(session) == (0, 0, 0)


def test_a_chunked_body_over_one_mebibyte_is_413_without_a_content_length(
        live_server, make_token, session):
    token = make_token("hooks")

    def chunks():
        yield b'{"dedup_key": "k", "status": "trigger", "title": "'
        for _ in range(1100):
            yield b"x" * 1024
        yield b'"}'

    response = requests.post(f"{live_server}/hooks/generic", data=chunks(), timeout=30,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/json"})

    assert response.status_code == 413
    assert "1 MiB" in response.json()["error"]
    assert counts(session) == (0, 0, 0)


def test_a_chunked_body_under_the_limit_is_accepted(live_server, make_token, session):
    token = make_token("hooks")
    body = json.dumps(VALID["generic"]()).encode()

    response = requests.post(f"{live_server}/hooks/generic", data=iter([body[:10], body[10:]]),
                             timeout=30, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    assert counts(session)[0] == 1


def test_an_unknown_tool_is_404_json(hooks):
    response = hooks.post("nagios", {"x": 1})

    assert response.status_code == 404
    assert response.is_json


def test_get_on_a_hook_is_405_json(client):
    response = client.get("/hooks/generic")

    assert response.status_code == 405
    assert response.is_json


def test_a_disabled_sender_is_answered_202_and_only_the_delivery_is_recorded(hooks, session):
    from incidents.hooks import service

    service.save_settings(session=session, sender="generic", enabled=False,
                          default_severity="SEV3", default_team=None, service_teams={})
    session.commit()

    response = hooks.post("generic", VALID["generic"]())

    assert response.status_code == 202
    assert "turned off" in response.get_json()["message"]
    assert counts(session) == (0, 0, 1)


ODD_VALUES = [None, "", " ", "x" * 5000, -1, 0, 10 ** 30, 1.5, True, [], {}, [1, "a"],
              {"k": {"k": []}}, "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00",
              "2026-02-30T00:00:00Z", "\u0000\u202e", float("nan"), float("inf")]


def _paths(value, path=()):
    """Every path to a value inside a JSON document."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replaced(document, path, new):
    document = copy.deepcopy(document)
    if not path:
        return new
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return document


@pytest.mark.parametrize("tool", TOOLS)
def test_no_mutation_of_a_valid_payload_causes_a_server_error(hooks, tool):
    """Every value of a valid payload, replaced by odd ones: 200, 202 or 400, never a 500."""
    rng = random.Random(f"hooks-{tool}")
    valid = VALID[tool]()
    paths = list(_paths(valid))
    statuses = set()
    for path in paths:
        for new in rng.sample(ODD_VALUES, 5):
            raw = json.dumps(_replaced(valid, path, new)).encode()  # NaN/Infinity as JS does
            response = hooks.post(tool, None, raw=raw, headers={
                "X-PagerDuty-Signature": pd_signature(raw, "pd-test-secret")})
            assert response.status_code in (200, 202, 400), (path, new, response.get_json())
            statuses.add(response.status_code)
    assert 400 in statuses
