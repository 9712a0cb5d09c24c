"""How incidents follow real senders, case by case, on both databases: flapping alerts,
truncated groups, worst severity, stale resolves, quiet incidents, and the PagerDuty,
Opsgenie and Grafana lifecycles from their documented payloads."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from incidents.hooks.models import PagingSignal
from tests.hooks_payloads import (
    PD_INCIDENT,
    HookClient,
    am_alert,
    am_group,
    counts,
    grafana_payload,
    incidents,
    opsgenie_action,
    pd_event,
    pd_post,
    timeline,
)


@pytest.fixture
def hooks(client, make_token):
    return HookClient(client, make_token("hooks"))


def _alerts(session, incident_id):
    return [(e.kind, e.fingerprint) for e in timeline(session, incident_id) if e.fingerprint]


# --- Alertmanager groups ------------------------------------------------------------------------

def test_a_new_starts_at_for_a_fingerprint_ends_its_earlier_firing(hooks, session):
    hooks.post("alertmanager", am_group(am_alert("aaa1")))
    # Resolved and fired again between two flushes: only the new instance is ever sent.
    hooks.post("alertmanager", am_group(am_alert("aaa1", starts_at="2026-03-01T10:07:00Z")))
    [incident] = incidents(session)
    assert _alerts(session, incident.id) == [("alert", "aaa1"), ("resolution", "aaa1"),
                                             ("alert", "aaa1")]
    assert "without a resolve" in timeline(session, incident.id)[2].text

    hooks.post("alertmanager", am_group(am_alert("aaa1", "resolved",
                                                 starts_at="2026-03-01T10:07:00Z",
                                                 ends_at="2026-03-01T10:09:00Z")))
    [incident] = incidents(session)
    assert incident.status == "resolved"
    assert incident.resolved_at == datetime(2026, 3, 1, 10, 9, tzinfo=UTC)


def test_a_resolved_group_with_alerts_hidden_by_max_alerts_does_not_resolve(hooks, session):
    shown = am_group(am_alert("aaa1"))
    shown["truncatedAlerts"] = 1
    hooks.post("alertmanager", shown)
    partial = am_group(am_alert("aaa1", "resolved", ends_at="2026-03-01T10:20:00Z"))
    partial["truncatedAlerts"] = 1

    assert hooks.post("alertmanager", partial).status_code == 200
    hooks.post("alertmanager", am_group(am_alert("bbb2")))

    [incident] = incidents(session)
    assert incident.status == "investigating"
    assert _alerts(session, incident.id) == [("alert", "aaa1"), ("resolution", "aaa1"),
                                             ("alert", "bbb2")]


def test_a_resolved_group_resolves_even_when_an_alert_left_it_unresolved(hooks, session):
    # bbb2 was silenced and vanished from the group; the group then resolved as a whole.
    hooks.post("alertmanager", am_group(am_alert("aaa1"), am_alert("bbb2")))
    hooks.post("alertmanager", am_group(am_alert("aaa1", "resolved",
                                                 ends_at="2026-03-01T10:20:00Z")))
    [incident] = incidents(session)
    assert incident.status == "resolved"


def test_the_worst_alert_opens_the_incident_whatever_its_place(hooks, session):
    hooks.post("alertmanager", am_group(am_alert("aaa1", severity="warning"),
                                        am_alert("bbb2", severity="critical")))
    assert incidents(session)[0].severity == "SEV1"


def test_a_worse_alert_joining_raises_the_severity_and_a_milder_one_never_lowers_it(hooks,
                                                                                     session):
    hooks.post("alertmanager", am_group(am_alert("aaa1", severity="warning")))
    hooks.post("alertmanager", am_group(am_alert("aaa1", severity="warning"),
                                        am_alert("bbb2", severity="critical")))
    hooks.post("alertmanager", am_group(am_alert("aaa1", severity="warning"),
                                        am_alert("bbb2", severity="critical"),
                                        am_alert("ccc3", severity="info")))
    [incident] = incidents(session)
    assert incident.severity == "SEV1"
    texts = [e.text for e in timeline(session, incident.id)]
    assert sum(t.startswith("Severity raised from SEV3 to SEV1 by alertmanager") for t in
               texts) == 1
    assert "Severity changed from SEV3 to SEV1" in texts


def test_a_resolved_alert_that_never_fired_on_the_incident_stays_off_it(hooks, session):
    hooks.post("alertmanager", am_group(am_alert("aaa1")))
    hooks.post("alertmanager", am_group(am_alert("aaa1", "resolved",
                                                 ends_at="2026-03-01T10:20:00Z")))
    # Prometheus re-sends aaa1's resolve while bbb2 opens the next outage.
    hooks.post("alertmanager", am_group(
        am_alert("aaa1", "resolved", ends_at="2026-03-01T10:20:00Z"),
        am_alert("bbb2", starts_at="2026-03-01T10:30:00Z")))

    first, second = incidents(session)
    assert second.status == "investigating"
    assert _alerts(session, second.id) == [("alert", "bbb2")]


def test_a_time_in_the_future_is_clamped_to_arrival_and_kept_in_the_text(hooks, session):
    future = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    hooks.post("alertmanager", am_group(am_alert("aaa1", starts_at=future)))

    [incident] = incidents(session)
    event = timeline(session, incident.id)[1]
    assert event.occurred_at <= datetime.now(UTC)
    assert incident.started_at <= datetime.now(UTC)
    assert f"sent as {future[:19]}" in event.text


def test_a_duplicate_names_the_incident_it_belongs_to(hooks, session):
    body = am_group(am_alert("aaa1"))
    first = hooks.post("alertmanager", body).get_json()

    again = hooks.post("alertmanager", body).get_json()

    assert again["status"] == "duplicate"
    assert again["incidents"] == first["incidents"]
    assert f"incident #{first['incidents'][0]}" in again["message"]


@pytest.mark.parametrize("tool, body, field", [
    ("grafana", am_group(am_alert("aaa1")), "body.orgId"),
    ("alertmanager", grafana_payload(), "body.version"),
    ("opsgenie", am_group(am_alert("aaa1")), "body.action"),
])
def test_each_hook_refuses_another_senders_payload_naming_the_field(hooks, session, tool, body,
                                                                    field):
    response = hooks.post(tool, body)

    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert counts(session) == (0, 0, 0)


def test_grafana_state_must_agree_with_status(hooks, session):
    body = grafana_payload()
    body["state"] = "ok"

    response = hooks.post("grafana", body)

    assert response.status_code == 400
    assert response.get_json()["field"] == "body.state"


# --- quiet (stale) incidents ---------------------------------------------------------------------

def _go_quiet(session, hours=25):
    session.execute(update(PagingSignal).values(
        last_firing_at=datetime.now(UTC) - timedelta(hours=hours)))
    session.commit()


def test_a_repeated_notification_keeps_an_incident_from_going_quiet(hooks, session):
    body = am_group(am_alert("aaa1"))
    hooks.post("alertmanager", body)
    _go_quiet(session)

    assert hooks.post("alertmanager", body).get_json()["status"] == "duplicate"

    session.rollback()
    assert session.get(PagingSignal, incidents(session)[0].id).last_firing_at > \
        datetime.now(UTC) - timedelta(minutes=1)


def test_a_firing_after_the_group_went_quiet_opens_a_new_incident(hooks, session):
    hooks.post("alertmanager", am_group(am_alert("aaa1")))
    _go_quiet(session)

    hooks.post("alertmanager", am_group(am_alert("bbb2")))

    quiet, fresh = incidents(session)
    assert quiet.status == "investigating" and quiet.open_dedup_key is None
    assert fresh.open_dedup_key == quiet.dedup_key
    assert "going quiet" in timeline(session, quiet.id)[-1].text
    assert _alerts(session, fresh.id) == [("alert", "bbb2")]


def test_the_admin_rule_resolves_a_quiet_incident_at_its_last_firing(hooks, session):
    from incidents.hooks import service

    service.save_settings(session=session, sender="alertmanager", enabled=True,
                          default_severity="SEV3", default_team=None, service_teams={},
                          stale_after_hours=24, resolve_stale=True)
    session.commit()
    hooks.post("alertmanager", am_group(am_alert("aaa1")))
    _go_quiet(session)

    hooks.post("alertmanager", am_group(am_alert("bbb2")))

    quiet, fresh = incidents(session)
    assert quiet.status == "resolved" and fresh.status == "investigating"
    assert "resolved as stale" in timeline(session, quiet.id)[-1].text


def test_the_admin_rule_resolves_quiet_incidents_as_other_deliveries_arrive(hooks, session):
    from incidents.hooks import service

    service.save_settings(session=session, sender="alertmanager", enabled=True,
                          default_severity="SEV3", default_team=None, service_teams={},
                          stale_after_hours=24, resolve_stale=True)
    session.commit()
    hooks.post("alertmanager", am_group(am_alert("aaa1")))
    _go_quiet(session)

    hooks.post("alertmanager", am_group(am_alert("zzz9"), group_key="another-group"))

    quiet, other = incidents(session)
    assert quiet.status == "resolved" and other.status == "investigating"


def test_quiet_incidents_are_flagged_in_the_list_and_on_the_page(hooks, session, client, auth):
    hooks.post("alertmanager", am_group(am_alert("aaa1")))
    [incident] = incidents(session)
    auth.login_as("viewer")
    assert "went quiet" not in client.get("/incidents").get_data(as_text=True)
    _go_quiet(session)

    listed = client.get("/incidents").get_data(as_text=True)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)

    assert 'data-testid="quiet-' in listed
    assert "went quiet" in page


# --- PagerDuty ------------------------------------------------------------------------------------

def test_pagerduty_reopened_reopens_the_incident_and_priority_raises_never_lowers(hooks,
                                                                                  session):
    low = {"priority": {**PD_INCIDENT["priority"], "summary": "P3"}}
    pd_post(hooks, pd_event("incident.triggered", event_id="e1", **low))
    pd_post(hooks, pd_event("incident.resolved", event_id="e2", **low))
    pd_post(hooks, pd_event("incident.reopened", event_id="e3", **low))
    [incident] = incidents(session)
    assert incident.status == "investigating" and incident.severity == "SEV3"

    pd_post(hooks, pd_event("incident.priority_updated", event_id="e4"))  # P1
    pd_post(hooks, pd_event("incident.priority_updated", event_id="e5", **low))
    [incident] = incidents(session)
    assert incident.severity == "SEV1"
    pd_post(hooks, pd_event("incident.resolved", event_id="e6"))
    assert incidents(session)[0].status == "resolved"


def test_pagerduty_merged_incident_resolves_saying_where_it_went(hooks, session):
    pd_post(hooks, pd_event("incident.triggered", event_id="e1"))
    merged = {"resolve_reason": {"type": "merge_resolve_reason", "incident": {
        "id": "PX0N9ZU", "type": "incident_reference", "summary": "[#3] Checkout errors",
        "self": "https://api.pagerduty.com/incidents/PX0N9ZU",
        "html_url": "https://acme.pagerduty.com/incidents/PX0N9ZU"}}}

    pd_post(hooks, pd_event("incident.resolved", event_id="e2", **merged))

    [incident] = incidents(session)
    assert incident.status == "resolved"
    last = timeline(session, incident.id)[-1]
    assert "Merged in PagerDuty into [#3] Checkout errors" in last.text


def test_a_non_ascii_pagerduty_signature_is_401_not_500(hooks, session):
    response = hooks.post("pagerduty", pd_event("incident.triggered", event_id="e1"), token=None,
                          headers={"X-PagerDuty-Signature": "v1=\u00e9\u00e9\u00e9"})
    assert response.status_code == 401
    assert counts(session) == (0, 0, 0)


# --- Opsgenie and Grafana -------------------------------------------------------------------------

def test_opsgenie_lifecycle_priority_raise_and_a_new_alert_after_close(hooks, session):
    hooks.post("opsgenie", opsgenie_action("Create", priority="P3", updated_at=1))
    hooks.post("opsgenie", opsgenie_action("AddNote", note="looking", updated_at=2))
    hooks.post("opsgenie", opsgenie_action("UpdatePriority", priority="P1", updated_at=3))
    hooks.post("opsgenie", opsgenie_action("UpdatePriority", priority="P4", updated_at=4))
    hooks.post("opsgenie", opsgenie_action("Close", updated_at=5))
    [incident] = incidents(session)
    assert incident.severity == "SEV1" and incident.status == "resolved"

    # A closed alert is never reopened: the same alias creates a new alert, a new incident.
    hooks.post("opsgenie", opsgenie_action("Create", priority="P3", updated_at=6,
                                           alertId="a2b3c4d5-0000-4000-8000-000000000001"))
    assert [i.status for i in incidents(session)] == ["resolved", "investigating"]


def test_grafana_lifecycle_firing_partial_then_ok(hooks, session):
    hooks.post("grafana", grafana_payload())
    partial = grafana_payload()
    partial["alerts"][0].update(status="resolved", endsAt="2021-10-12T10:21:03.157076+02:00")
    hooks.post("grafana", partial)
    assert incidents(session)[0].status == "investigating"

    hooks.post("grafana", grafana_payload("resolved"))
    assert incidents(session)[0].status == "resolved"
