"""POST /hooks/alertmanager and /hooks/grafana: alert groups become one incident each."""

from datetime import UTC, datetime

import pytest

from tests.hooks_payloads import (
    HookClient,
    am_alert,
    am_group,
    counts,
    grafana_payload,
    incidents,
    timeline,
)


@pytest.fixture
def hooks(client, make_token):
    return HookClient(client, make_token("hooks"))


def _alerts(session, incident_id):
    return [(e.kind, e.fingerprint) for e in timeline(session, incident_id) if e.fingerprint]


def test_a_firing_group_opens_one_incident_with_an_event_per_alert(hooks, session):
    response = hooks.post("alertmanager", am_group(am_alert("aaa1"), am_alert("bbb2")))

    assert response.status_code == 200, response.get_json()
    [incident] = incidents(session)
    assert incident.source == "alertmanager"
    assert incident.dedup_key == '{}:{alertname="HighLatency"}'
    assert incident.title == "HighLatency"  # commonLabels.alertname
    assert incident.service == "checkout"
    assert incident.severity == "SEV1"  # severity="critical"
    assert incident.started_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert _alerts(session, incident.id) == [("alert", "aaa1"), ("alert", "bbb2")]
    event = timeline(session, incident.id)[1]
    assert event.text.startswith("Firing: HighLatency — HighLatency on api-1:9090")
    assert event.link.startswith("http://prometheus.internal:9090/graph")


def test_later_notifications_join_the_open_incident_and_repeat_alerts_land_once(hooks, session):
    hooks.post("alertmanager", am_group(am_alert("aaa1")))
    # Alertmanager re-sends the whole group: the known alert again, plus a new one.
    response = hooks.post("alertmanager", am_group(am_alert("aaa1"), am_alert("ccc3")))

    assert response.get_json()["status"] == "applied"
    [incident] = incidents(session)
    assert _alerts(session, incident.id) == [("alert", "aaa1"), ("alert", "ccc3")]
    assert counts(session) == (1, 3, 2)


def test_an_identical_renotification_is_a_duplicate_delivery(hooks, session):
    body = am_group(am_alert("aaa1"))
    hooks.post("alertmanager", body)

    again = hooks.post("alertmanager", body)

    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert counts(session) == (1, 2, 1)


def test_the_incident_resolves_only_when_every_alert_of_the_group_has_resolved(hooks, session):
    hooks.post("alertmanager", am_group(am_alert("aaa1"), am_alert("bbb2")))
    one_resolved = am_group(
        am_alert("aaa1", "resolved", ends_at="2026-03-01T10:20:00Z"), am_alert("bbb2"))
    hooks.post("alertmanager", one_resolved)

    [incident] = incidents(session)
    assert incident.status == "investigating"
    assert _alerts(session, incident.id)[-1] == ("resolution", "aaa1")

    all_resolved = am_group(am_alert("aaa1", "resolved", ends_at="2026-03-01T10:20:00Z"),
                            am_alert("bbb2", "resolved", ends_at="2026-03-01T10:30:00Z"))
    assert hooks.post("alertmanager", all_resolved).status_code == 200

    [incident] = incidents(session)
    assert incident.status == "resolved"
    assert incident.resolved_at == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert [k for k, _ in _alerts(session, incident.id)] == [
        "alert", "alert", "resolution", "resolution"]
    assert [e.kind for e in timeline(session, incident.id)].count("resolution") == 3


def test_an_alert_firing_again_after_resolving_keeps_the_incident_open(hooks, session):
    hooks.post("alertmanager", am_group(am_alert("aaa1"), am_alert("bbb2")))
    hooks.post("alertmanager", am_group(
        am_alert("aaa1", "resolved", ends_at="2026-03-01T10:20:00Z"), am_alert("bbb2")))
    # aaa1 fires again (a new start), then bbb2 resolves: aaa1's new firing is still open.
    hooks.post("alertmanager", am_group(
        am_alert("aaa1", starts_at="2026-03-01T10:40:00Z"),
        am_alert("bbb2", "resolved", ends_at="2026-03-01T10:45:00Z")))

    [incident] = incidents(session)
    assert incident.status == "investigating"


def test_a_group_firing_again_after_resolution_opens_a_new_incident(hooks, session):
    hooks.post("alertmanager", am_group(am_alert("aaa1")))
    hooks.post("alertmanager", am_group(am_alert("aaa1", "resolved",
                                                 ends_at="2026-03-01T10:20:00Z")))
    hooks.post("alertmanager", am_group(am_alert("aaa1", starts_at="2026-03-02T08:00:00Z")))

    assert [i.status for i in incidents(session)] == ["resolved", "investigating"]


def test_a_resolved_notification_without_an_incident_is_only_recorded(hooks, session):
    body = am_group(am_alert("aaa1", "resolved", ends_at="2026-03-01T10:20:00Z"))

    response = hooks.post("alertmanager", body)

    assert response.status_code == 202
    assert counts(session) == (0, 0, 1)  # the delivery, so a replay is a duplicate
    assert hooks.post("alertmanager", body).get_json()["status"] == "duplicate"


@pytest.mark.parametrize("label, expected", [("warning", "SEV3"), ("info", "SEV4"),
                                             ("page", "SEV1"), ("something", "SEV3")])
def test_severity_maps_from_the_severity_label(hooks, session, label, expected):
    hooks.post("alertmanager", am_group(am_alert("aaa1", severity=label)))

    assert incidents(session)[0].severity == expected


def test_alerts_without_a_fingerprint_are_told_apart_by_their_labels(hooks, session):
    first, second = am_alert("x", instance="api-1"), am_alert("x", instance="api-2")
    del first["fingerprint"], second["fingerprint"]

    hooks.post("alertmanager", am_group(first, second))
    hooks.post("alertmanager", am_group(first, second, group_key="{}:other"))

    one, _ = incidents(session)
    fingerprints = [f for _, f in _alerts(session, one.id)]
    assert len(set(fingerprints)) == 2


# --- Grafana ------------------------------------------------------------------------------------

def test_grafana_documented_payload_opens_an_incident_with_both_alerts(hooks, session):
    response = hooks.post("grafana", grafana_payload())

    assert response.status_code == 200, response.get_json()
    [incident] = incidents(session)
    assert incident.source == "grafana"
    assert incident.dedup_key == "{}:{}"
    assert incident.title == "This alert was triggered for zone us-1"
    assert incident.severity == "SEV3"  # no severity label: the sender's default
    assert incident.started_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert _alerts(session, incident.id) == [("alert", "c6eadffa33fcdf37"),
                                             ("alert", "bc97ff14869b13e3")]
    # No panel or dashboard URL in this payload: the link falls back to the rule.
    assert timeline(session, incident.id)[1].link == (
        "https://play.grafana.org/alerting/1afz29v7z/edit")


def test_grafana_resolved_notification_resolves_the_incident(hooks, session):
    hooks.post("grafana", grafana_payload())

    response = hooks.post("grafana", grafana_payload("resolved"))

    assert response.status_code == 200
    [incident] = incidents(session)
    assert incident.status == "resolved"
    assert incident.resolved_at == datetime(2021, 10, 12, 8, 26, 3, 157076, tzinfo=UTC)


def test_grafana_panel_url_is_the_preferred_link(hooks, session):
    body = grafana_payload()
    body["alerts"][0]["panelURL"] = "https://grafana.internal/d/abc?viewPanel=2"

    hooks.post("grafana", body)

    [incident] = incidents(session)
    assert timeline(session, incident.id)[1].link == "https://grafana.internal/d/abc?viewPanel=2"


def test_grafana_and_alertmanager_groups_with_the_same_key_stay_apart(hooks, session):
    hooks.post("grafana", grafana_payload())
    hooks.post("alertmanager", am_group(am_alert("aaa1"), group_key="{}:{}"))

    assert sorted(i.source for i in incidents(session)) == ["alertmanager", "grafana"]
