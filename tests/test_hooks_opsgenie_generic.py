"""POST /hooks/opsgenie (alert actions) and /hooks/generic (Linecheck's own JSON shape)."""

from datetime import UTC, datetime

import pytest

from tests.hooks_payloads import HookClient, counts, incidents, opsgenie_action, timeline


@pytest.fixture
def hooks(client, make_token):
    return HookClient(client, make_token("hooks"))


# --- Opsgenie -----------------------------------------------------------------------------------

def test_opsgenie_create_opens_an_incident_deduplicated_by_alias(hooks, session):
    response = hooks.post("opsgenie", opsgenie_action("Create", updated_at=1420452193166002000))

    assert response.status_code == 200, response.get_json()
    [incident] = incidents(session)
    assert incident.source == "opsgenie"
    assert incident.title == "test alert"
    assert incident.dedup_key == "aliastest"
    assert incident.started_at == datetime(2015, 1, 5, 10, 3, 11, 104000, tzinfo=UTC)
    assert timeline(session, incident.id)[1].text == "Opsgenie alert #23 created: test alert"


def test_opsgenie_acknowledge_note_and_close_feed_the_timeline_and_resolve(hooks, session):
    hooks.post("opsgenie", opsgenie_action("Create", updated_at=1420452193166002000))
    hooks.post("opsgenie", opsgenie_action("Acknowledge", updated_at=1420452224764002246))
    hooks.post("opsgenie", opsgenie_action("AddNote", updated_at=1420452300000000000,
                                           note="Rolled back the deploy"))
    hooks.post("opsgenie", opsgenie_action("TakeOwnership", updated_at=1420452310000000000))
    response = hooks.post("opsgenie", opsgenie_action("Close", updated_at=1420452400000000000,
                                                      note="Recovered"))

    assert response.status_code == 200
    [incident] = incidents(session)
    assert incident.status == "resolved"
    assert incident.resolved_at == datetime(2015, 1, 5, 10, 6, 40, tzinfo=UTC)
    events = [(e.kind, e.text) for e in timeline(session, incident.id)][2:]
    assert events == [
        ("action", "Acknowledged in Opsgenie by fili@ifountain.com"),
        ("note", "Rolled back the deploy"),
        ("action", "Ownership taken in Opsgenie by fili@ifountain.com"),
        ("resolution", "Resolved: closed in Opsgenie by fili@ifountain.com: Recovered"),
    ]


def test_opsgenie_alert_without_alias_is_deduplicated_by_alert_id(hooks, session):
    hooks.post("opsgenie", opsgenie_action("Create", alias=None, updated_at=1))
    hooks.post("opsgenie", opsgenie_action("Acknowledge", alias=None, updated_at=2))

    [incident] = incidents(session)
    assert incident.dedup_key == "052652ac-5d1c-464a-812a-7dd18bbfba8c"
    assert len(timeline(session, incident.id)) == 3


def test_opsgenie_priority_sets_the_severity(hooks, session):
    hooks.post("opsgenie", opsgenie_action("Create", priority="P2"))

    assert incidents(session)[0].severity == "SEV2"


def test_opsgenie_repeated_delivery_is_a_duplicate(hooks, session):
    body = opsgenie_action("Create")
    hooks.post("opsgenie", body)

    assert hooks.post("opsgenie", body).get_json()["status"] == "duplicate"
    assert counts(session) == (1, 2, 1)


def test_opsgenie_unknown_action_answers_202_and_is_only_recorded(hooks, session):
    response = hooks.post("opsgenie", opsgenie_action("SomethingNewFromAtlassian"))

    assert response.status_code == 202
    assert counts(session) == (0, 0, 1)


# --- generic ------------------------------------------------------------------------------------

def _generic(status, **fields):
    return {"dedup_key": "db-disk-full", "status": status, **fields}


def test_generic_trigger_acknowledge_note_resolve(hooks, session):
    trigger = _generic("trigger", title="Primary database disk 95% full", severity="SEV2",
                       service="orders-db", occurred_at="2026-03-01T09:00:00+01:00",
                       text="disk usage 95% on db-1", link="https://grafana.internal/d/disk")
    assert hooks.post("generic", trigger).status_code == 200
    hooks.post("generic", _generic("acknowledge", text="On it"))
    hooks.post("generic", _generic("note", text="Deleting old WAL segments"))
    hooks.post("generic", _generic("resolve", text="Disk at 40%",
                                   occurred_at="2026-03-01T08:45:00Z"))

    [incident] = incidents(session)
    assert (incident.title, incident.severity, incident.service, incident.source) == (
        "Primary database disk 95% full", "SEV2", "orders-db", "generic")
    assert incident.started_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert incident.status == "resolved"
    assert incident.resolved_at == datetime(2026, 3, 1, 8, 45, tzinfo=UTC)
    events = [(e.kind, e.text, e.link) for e in timeline(session, incident.id)][1:]
    assert events == [
        ("alert", "disk usage 95% on db-1", "https://grafana.internal/d/disk"),
        ("action", "On it", None),
        ("note", "Deleting old WAL segments", None),
        ("resolution", "Resolved: Disk at 40%", None),
    ]


def test_generic_event_id_makes_retries_with_a_changed_body_harmless(hooks, session):
    hooks.post("generic", _generic("trigger", title="Disk full", event_id="evt-1"))

    again = hooks.post("generic", _generic("trigger", title="Disk full (retry)",
                                           event_id="evt-1"))

    assert again.get_json()["status"] == "duplicate"
    assert [i.title for i in incidents(session)] == ["Disk full"]


def test_generic_resolve_before_the_trigger_time_resolves_at_the_start(hooks, session):
    hooks.post("generic", _generic("trigger", title="Disk full",
                                   occurred_at="2026-03-01T09:00:00Z"))
    hooks.post("generic", _generic("resolve", occurred_at="2026-03-01T08:00:00Z"))

    [incident] = incidents(session)
    assert incident.status == "resolved"
    assert incident.resolved_at == incident.started_at


@pytest.mark.parametrize("body, field", [
    ({"status": "trigger", "title": "x"}, "dedup_key"),
    (_generic("trigger"), "title"),
    (_generic("trigger", title="   "), "title"),
    (_generic("explode", title="x"), "status"),
    (_generic("trigger", title="x", severity="SEV9"), "severity"),
    (_generic("trigger", title="x", occurred_at="2026-03-01T09:00:00"), "occurred_at"),
    (_generic("trigger", title="x", occurred_at="yesterday"), "occurred_at"),
    (_generic("trigger", title="x", link="javascript:alert(1)"), "link"),
    (_generic("trigger", title="x" * 301), "title"),
    (_generic("trigger", title="x", colour="red"), "colour"),
    (_generic("trigger", title=["x"]), "title"),
])
def test_generic_wrong_shapes_are_400_naming_the_field(hooks, session, body, field):
    response = hooks.post("generic", body)

    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert field in response.get_json()["error"]
    assert counts(session) == (0, 0, 0)
