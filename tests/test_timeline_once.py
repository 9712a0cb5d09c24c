"""Timeline inserts without savepoints: external keys land once, batches count what landed."""

import pytest

from incidents.errors import InvalidInput
from incidents.incident import service as incidents
from incidents.timeline import service as timeline
from incidents.timeline.models import TimelineEvent
from tests.hooks_payloads import HookClient, am_alert, am_group, counts


@pytest.fixture
def incident(session):
    found = incidents.declare(session=session, title="Checkout errors", severity="SEV2")
    session.commit()
    return found


def _keys(session, incident_id):
    session.expire_all()
    return sorted(e.external_key for e in timeline.events_for(
        session=session, incident_id=incident_id) if e.external_key)


def test_add_event_returns_a_loaded_event_of_the_incident(session, incident):
    event = timeline.add_event(session=session, incident=incident, text="  db failover  ")
    session.commit()

    assert event.id is not None and event.text == "db failover"
    assert event.incident is incident and event.kind == "note"
    assert session.get(TimelineEvent, event.id) is event


def test_add_event_with_a_key_already_there_adds_nothing_and_keeps_the_transaction(
        session, incident):
    first = timeline.add_event(session=session, incident=incident, text="a", external_key="k1")
    again = timeline.add_event(session=session, incident=incident, text="b", external_key="k1")
    later = timeline.add_event(session=session, incident=incident, text="c", external_key="k2")
    session.commit()

    assert first is not None and again is None and later is not None
    assert _keys(session, incident.id) == ["k1", "k2"]


def test_add_events_skips_keys_seen_before_and_repeated_within_the_batch(session, incident):
    timeline.add_event(session=session, incident=incident, text="seen", external_key="k1")
    landed = timeline.add_events(session=session, incident=incident, events=[
        {"text": "again", "external_key": "k1"},
        {"text": "new", "external_key": "k2", "kind": "alert"},
        {"text": "new twice", "external_key": "k2", "kind": "alert"},
        {"text": "other", "external_key": "k3", "fingerprint": "fp"},
    ])
    session.commit()

    assert landed == 2
    assert _keys(session, incident.id) == ["k1", "k2", "k3"]


def test_add_events_of_nothing_writes_nothing(session, incident):
    assert timeline.add_events(session=session, incident=incident, events=[]) == 0


@pytest.mark.parametrize("event, field", [
    ({"text": "   "}, "text"),
    ({"text": "x" * (timeline.MAX_TEXT + 1)}, "text"),
    ({"text": "ok", "kind": "gossip"}, "kind"),
])
def test_add_events_refuses_a_bad_event_before_writing_any(session, incident, event, field):
    with pytest.raises(InvalidInput) as refused:
        timeline.add_events(session=session, incident=incident,
                            events=[{"text": "fine", "external_key": "k9"}, event])
    assert refused.value.field == field
    session.rollback()
    assert _keys(session, incident.id) == []


def test_a_notification_repeating_an_alert_lands_it_once(client, make_token, session):
    hooks = HookClient(client, make_token("hooks"))
    response = hooks.post("alertmanager", am_group(am_alert("aaa1"), am_alert("aaa1"),
                                                   am_alert("bbb2")))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["events_added"] == 3  # declaration and two alerts
    assert counts(session) == (1, 3, 1)  # incident; declaration and two alerts; delivery
