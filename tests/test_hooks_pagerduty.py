"""POST /hooks/pagerduty: Webhooks v3 events, X-PagerDuty-Signature, exactly once."""

import json
from datetime import UTC, datetime

import pytest

from tests.hooks_payloads import (
    PD_NOTE,
    HookClient,
    counts,
    incidents,
    pd_event,
    pd_post,
    pd_signature,
    timeline,
)


@pytest.fixture
def hooks(client, make_token):
    return HookClient(client, make_token("hooks"))


def test_triggered_opens_an_incident_from_the_pagerduty_incident(hooks, session):
    response = pd_post(hooks, pd_event("incident.triggered", event_id="ev-1"))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "applied"
    [incident] = incidents(session)
    assert response.get_json()["opened"] == [incident.id]
    assert incident.title == "A little bump in the road"
    assert incident.service == "API Service"
    assert incident.source == "pagerduty"
    assert incident.severity == "SEV1"  # PagerDuty priority P1
    assert incident.dedup_key == "PGR0VU2"
    assert incident.status == "investigating"
    assert incident.detection_method == "alert"
    kinds = [(e.kind, e.source) for e in timeline(session, incident.id)]
    assert kinds == [("status_change", "pagerduty"), ("alert", "pagerduty")]
    alert = timeline(session, incident.id)[1]
    assert alert.link == "https://acme.pagerduty.com/incidents/PGR0VU2"
    assert alert.fingerprint == "d3640fbd41094207a1c11e58e46b1662"
    assert "#2 triggered" in alert.text


def test_acknowledge_note_and_reassign_land_on_the_timeline_and_resolve_resolves(hooks, session):
    pd_post(hooks, pd_event("incident.triggered", event_id="ev-1"))
    for event in (
        pd_event("incident.acknowledged", event_id="ev-2", status="acknowledged"),
        pd_event("incident.annotated", event_id="ev-3", data=PD_NOTE),
        pd_event("incident.reassigned", event_id="ev-4"),
        pd_event("incident.priority_updated", event_id="ev-5"),
    ):
        assert pd_post(hooks, event).status_code == 200
    resolved = pd_event("incident.resolved", event_id="ev-6", status="resolved",
                        occurred_at="2020-10-02T19:30:00.000Z")
    assert pd_post(hooks, resolved).status_code == 200

    [incident] = incidents(session)
    assert incident.status == "resolved"
    assert incident.resolved_at == datetime(2020, 10, 2, 19, 30, tzinfo=UTC)
    assert incident.open_dedup_key is None
    texts = [(e.kind, e.text) for e in timeline(session, incident.id)]
    assert texts[2:] == [
        ("action", "Acknowledged in PagerDuty by Tenex Engineer"),
        ("note", "I sure am glad we are using PagerDuty!"),
        ("action", "Reassigned in PagerDuty to User 123 by Tenex Engineer"),
        ("action", "Priority changed to P1 in PagerDuty by Tenex Engineer"),
        ("resolution", "Resolved: Resolved in PagerDuty by Tenex Engineer"),
    ]


def test_the_same_delivery_twice_answers_200_and_changes_nothing(hooks, session):
    event = pd_event("incident.triggered", event_id="ev-1")
    assert pd_post(hooks, event).get_json()["status"] == "applied"
    before = counts(session)

    again = pd_post(hooks, event)

    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert counts(session) == before == (1, 2, 1)


def test_a_retried_event_with_a_new_body_is_still_one_delivery(hooks, session):
    """PagerDuty's event id identifies the delivery, not the bytes of the body."""
    pd_post(hooks, pd_event("incident.triggered", event_id="ev-1"))
    retried = pd_event("incident.triggered", event_id="ev-1", title="Retitled on retry")

    assert pd_post(hooks, retried).get_json()["status"] == "duplicate"
    assert counts(session) == (1, 2, 1)


def test_a_resolved_incident_is_resolved_once_however_often_pagerduty_says_so(hooks, session):
    pd_post(hooks, pd_event("incident.triggered", event_id="ev-1"))
    pd_post(hooks, pd_event("incident.resolved", event_id="ev-2"))
    pd_post(hooks, pd_event("incident.resolved", event_id="ev-3"))

    [incident] = incidents(session)
    assert [e.kind for e in timeline(session, incident.id)].count("resolution") == 1


def test_a_late_note_lands_on_the_resolved_incident(hooks, session):
    pd_post(hooks, pd_event("incident.triggered", event_id="ev-1"))
    pd_post(hooks, pd_event("incident.resolved", event_id="ev-2"))

    assert pd_post(hooks, pd_event("incident.annotated", event_id="ev-3",
                                   data=PD_NOTE)).status_code == 200
    [incident] = incidents(session)
    assert timeline(session, incident.id)[-1].text == "I sure am glad we are using PagerDuty!"


def test_a_new_trigger_after_resolution_opens_a_new_incident(hooks, session):
    pd_post(hooks, pd_event("incident.triggered", event_id="ev-1"))
    pd_post(hooks, pd_event("incident.resolved", event_id="ev-2"))
    pd_post(hooks, pd_event("incident.triggered", event_id="ev-3", id="PNEW001",
                            title="Another bump"))

    assert [i.title for i in incidents(session)] == ["A little bump in the road", "Another bump"]


@pytest.mark.parametrize("event_type", ["pagey.ping", "service.updated"])
def test_event_types_linecheck_does_not_use_answer_202_and_cannot_be_replayed(hooks, session,
                                                                               event_type):
    body = pd_event(event_type, event_id="ev-9", data={"id": "PF9KMXH", "type": "service"})

    response = pd_post(hooks, body)

    assert response.status_code == 202
    assert response.get_json()["status"] == "ignored"
    assert counts(session) == (0, 0, 1)  # recorded: a captured copy replayed later is refused
    assert pd_post(hooks, body).get_json()["status"] == "duplicate"


def test_an_event_for_an_incident_never_triggered_here_is_only_recorded(hooks, session):
    response = pd_post(hooks, pd_event("incident.acknowledged", event_id="ev-2"))

    assert response.status_code == 202
    assert counts(session) == (0, 0, 1)


# --- signatures ---------------------------------------------------------------------------------

def _signed(hooks, body_bytes, header):
    return hooks.post("pagerduty", None, raw=body_bytes, token=None,
                      headers={"X-PagerDuty-Signature": header} if header is not None else {})


def test_a_wrong_signature_is_refused_with_401_and_nothing_written(hooks, session):
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()

    response = _signed(hooks, raw, pd_signature(raw, "not-the-secret"))

    assert response.status_code == 401
    assert "X-PagerDuty-Signature" in response.get_json()["error"]
    assert counts(session) == (0, 0, 0)


def test_a_missing_signature_is_refused_with_401(hooks, session):
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()

    response = _signed(hooks, raw, None)

    assert response.status_code == 401
    assert "missing X-PagerDuty-Signature" in response.get_json()["error"]
    assert counts(session) == (0, 0, 0)


@pytest.mark.parametrize("header", ["", "v1=", "v0=abc", "sha256=abc", "v1=zz,,v1"])
def test_malformed_signature_headers_are_refused_with_401(hooks, session, header):
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()

    assert _signed(hooks, raw, header).status_code == 401
    assert counts(session) == (0, 0, 0)


def test_a_body_changed_after_signing_is_refused(hooks, session):
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()
    header = pd_signature(raw, "pd-test-secret")

    response = _signed(hooks, raw.replace(b"A little bump", b"A little bomb"), header)

    assert response.status_code == 401
    assert counts(session) == (0, 0, 0)


@pytest.fixture
def rotating(app_config):
    """PagerDuty mid-rotation: both the old and the new secret are configured."""
    app_config["PAGERDUTY_WEBHOOK_SECRET"] = "old-secret, new-secret"


@pytest.mark.parametrize("secrets", [("old-secret", "new-secret"), ("new-secret", "old-secret"),
                                     ("new-secret",), ("old-secret",),
                                     ("retired-secret", "new-secret")])
def test_during_rotation_any_one_matching_signature_is_enough(rotating, hooks, session, secrets):
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()

    response = _signed(hooks, raw, pd_signature(raw, *secrets))

    assert response.status_code == 200, response.get_json()
    assert counts(session)[0] == 1


def test_during_rotation_signatures_from_other_secrets_are_refused(rotating, hooks, session):
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()

    response = _signed(hooks, raw, pd_signature(raw, "retired-secret", "someone-elses"))

    assert response.status_code == 401
    assert counts(session) == (0, 0, 0)


def test_without_a_configured_secret_no_signature_is_accepted(app_config, hooks, session):
    app_config["PAGERDUTY_WEBHOOK_SECRET"] = ""
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()

    assert _signed(hooks, raw, pd_signature(raw, "")).status_code == 401
    assert counts(session) == (0, 0, 0)


def test_a_hooks_token_may_stand_in_for_the_signature(hooks, session):
    response = hooks.post("pagerduty", pd_event("incident.triggered", event_id="ev-1"))

    assert response.status_code == 200
    assert counts(session)[0] == 1


def test_a_wrong_token_is_refused_even_with_a_valid_signature(hooks, session):
    raw = json.dumps(pd_event("incident.triggered", event_id="ev-1")).encode()

    response = hooks.post("pagerduty", None, raw=raw, token="lc_wrong",
                          headers={"X-PagerDuty-Signature": pd_signature(raw, "pd-test-secret")})

    assert response.status_code == 401
    assert counts(session) == (0, 0, 0)
