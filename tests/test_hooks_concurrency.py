"""Retried and concurrent deliveries over real HTTP: the database constraints keep them once."""

import json
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import requests

from tests.hooks_payloads import (
    am_alert,
    am_group,
    counts,
    incidents,
    pd_event,
    pd_signature,
    timeline,
)

THREADS = 50


def _post_all(url, bodies, headers_for):
    """Post every body at once (threads released together), return the responses."""
    barrier = Barrier(len(bodies))

    def post(raw):
        with requests.Session() as http:
            barrier.wait(timeout=30)
            return http.post(url, data=raw, headers=headers_for(raw), timeout=60)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


@pytest.fixture
def token(make_token):
    return make_token("hooks")


def test_fifty_identical_pagerduty_deliveries_at_once_yield_one_incident_and_one_event(
        live_server, session):
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()

    responses = _post_all(f"{live_server}/hooks/pagerduty", [raw] * THREADS, lambda body: {
        "Content-Type": "application/json",
        "X-PagerDuty-Signature": pd_signature(body, "pd-test-secret")})

    statuses = sorted(r.json()["status"] for r in responses)
    assert {r.status_code for r in responses} == {200}
    assert statuses == ["applied"] + ["duplicate"] * (THREADS - 1)
    [incident] = incidents(session)
    assert [e.kind for e in timeline(session, incident.id)] == ["status_change", "alert"]
    assert counts(session) == (1, 2, 1)


def test_fifty_identical_alertmanager_deliveries_at_once_yield_one_incident_and_one_event(
        live_server, session, token):
    raw = json.dumps(am_group(am_alert("aaa1"))).encode()

    responses = _post_all(f"{live_server}/hooks/alertmanager", [raw] * THREADS, lambda _: {
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})

    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["status"] == "applied" for r in responses) == 1
    assert counts(session) == (1, 2, 1)


def test_different_alerts_of_one_group_at_once_join_one_incident(live_server, session, token):
    bodies = [json.dumps(am_group(am_alert(f"fp{n:03}", instance=f"api-{n}"))).encode()
              for n in range(20)]

    responses = _post_all(f"{live_server}/hooks/alertmanager", bodies, lambda _: {
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})

    assert {r.status_code for r in responses} == {200}
    assert {r.json()["status"] for r in responses} == {"applied"}
    [incident] = incidents(session)
    alerts = [e.fingerprint for e in timeline(session, incident.id) if e.kind == "alert"]
    assert sorted(alerts) == [f"fp{n:03}" for n in range(20)]
    assert sum(len(r.json()["opened"]) for r in responses) == 1


def test_concurrent_resolutions_of_one_incident_resolve_it_once(live_server, session, token):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    requests.post(f"{live_server}/hooks/generic", headers=headers, timeout=30, data=json.dumps(
        {"dedup_key": "k", "status": "trigger", "title": "Disk full"}))
    bodies = [json.dumps({"dedup_key": "k", "status": "resolve", "event_id": f"r{n}"}).encode()
              for n in range(10)]

    responses = _post_all(f"{live_server}/hooks/generic", bodies, lambda _: headers)

    assert {r.status_code for r in responses} == {200}
    [incident] = incidents(session)
    assert incident.status == "resolved"
    assert [e.kind for e in timeline(session, incident.id)].count("resolution") == 1
