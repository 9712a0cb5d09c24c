"""Recurrence candidates (ranking, reasons, exclusions), confirm/dismiss, held and escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incidents.audit.models import AuditEntry
from incidents.db import utcnow
from incidents.errors import InvalidInput, NotFound
from incidents.incident import service as incidents
from incidents.prevention import service as prevention
from incidents.recurrence import service
from incidents.review.models import Review, StationFinding
from incidents.timeline import service as timeline
from tests.helpers import count_queries

GUARD = "https://ci.example.com/checks/contract-test"


def make_incident(session, title, days_ago, *, service_name=None, fingerprint=None,
                  defect=None, missed=(), dedup_key=None, writeup="", resolve=True):
    """An incident that started `days_ago`, with the signals a candidate can match on."""
    started = utcnow() - timedelta(days=days_ago)
    incident = incidents.declare(session=session, title=title, service=service_name,
                                 started_at=started, dedup_key=dedup_key)
    if fingerprint:
        timeline.add_event(session=session, incident=incident, kind="alert",
                           text=f"alert {fingerprint}", fingerprint=fingerprint,
                           occurred_at=started)
    if defect or missed or writeup:
        review = Review(incident_id=incident.id, defect_class=defect, markdown=writeup)
        session.add(review)
        session.flush()
        for station_id in missed:
            session.add(StationFinding(review_id=review.id, station_id=station_id,
                                       reason="not_covered"))
    if resolve:
        incidents.resolve(session=session, incident=incident,
                          resolved_at=started + timedelta(hours=1))
    session.flush()
    return incident


def ranked(session, incident, limit=10):
    return [(c.incident.id, c.reasons)
            for c in service.candidates(session=session, incident_id=incident.id, limit=limit)]


@pytest.fixture
def scene(session):
    """Earlier incidents that each share one kind of evidence with the current one."""
    s = {
        "fingerprint": make_incident(session, "Payments API returns 502", 30,
                                     service_name="payments", fingerprint="fp-checkout-5xx"),
        "service_defect": make_incident(session, "Cart totals wrong", 20,
                                        service_name="checkout", defect="contract"),
        "title": make_incident(session, "Checkout 500s after payment client upgrade rollback",
                               10, service_name="search"),
        "station": make_incident(session, "Orders stuck in pending", 5, service_name="orders",
                                 missed=[4]),
        "unrelated": make_incident(session, "Disk full on log host", 3, service_name="logging"),
    }
    s["current"] = make_incident(session, "Checkout 500s after payment client upgrade", 1,
                                 service_name="checkout", fingerprint="fp-checkout-5xx",
                                 defect="contract", missed=[4], resolve=False)
    s["later"] = make_incident(session, "Checkout 500s again", 0, service_name="checkout",
                               fingerprint="fp-checkout-5xx", defect="contract")
    session.commit()
    return s


def test_candidates_rank_the_strongest_evidence_first_with_reasons(session, scene):
    found = ranked(session, scene["current"])
    ids = [incident_id for incident_id, _ in found]
    assert ids == [scene[k].id for k in ("fingerprint", "service_defect", "title", "station")]
    reasons = dict(found)
    assert reasons[scene["fingerprint"].id] == ["same alert fingerprint fp-checkout-5xx"]
    assert reasons[scene["service_defect"].id] == [
        "same service (checkout) and defect class (contract)"]
    assert reasons[scene["title"].id][0].startswith("similar title: 500s, checkout, client")
    assert reasons[scene["station"].id] == ["CI integration tests missed it too"]


def test_candidates_never_include_itself_later_or_unrelated_incidents(session, scene):
    ids = {incident_id for incident_id, _ in ranked(session, scene["current"])}
    assert scene["current"].id not in ids and scene["later"].id not in ids
    assert scene["unrelated"].id not in ids


def test_evidence_adds_up(session):
    twin = make_incident(session, "Checkout 500s after deploy", 9, service_name="checkout",
                         fingerprint="fp-a", defect="logic", missed=[3])
    partial = make_incident(session, "Checkout 500s after deploy", 8, service_name="checkout",
                            fingerprint="fp-a")
    current = make_incident(session, "Checkout 500s after deploy", 1, service_name="checkout",
                            fingerprint="fp-a", defect="logic", missed=[3])
    found = service.candidates(session=session, incident_id=current.id)
    assert [c.incident.id for c in found] == [twin.id, partial.id]
    assert found[0].score > found[1].score
    assert len(found[0].reasons) == 4  # fingerprint, service+class, station, title


def test_dedup_key_and_writeup_are_evidence(session):
    keyed = make_incident(session, "Queue backlog", 40, dedup_key="am-queue-depth")
    written = make_incident(session, "Consumers slow", 30, service_name="notifications",
                            writeup="Broker upgrade reset consumer prefetch to one; the "
                                    "queue depth grew until consumers caught up.")
    make_incident(session, "Unrelated noise", 20, service_name="notifications")
    current = make_incident(session, "Notifications delayed", 1, service_name="notifications",
                            dedup_key="am-queue-depth",
                            writeup="After the broker upgrade consumer prefetch reset to one "
                                    "and queue depth grew.", resolve=False)
    found = dict(ranked(session, current))
    assert found[keyed.id] == ["same dedup key am-queue-depth"]
    assert found[written.id] == ["similar write-up"]
    assert len(found) == 2


def test_the_write_up_templates_headings_are_not_evidence(session):
    from incidents.review.service import SKELETON
    skeleton = SKELETON.replace("\n\n\n", "\n\n{}\n\n")
    earlier = make_incident(session, "Search index stale", 30, service_name="search",
                            writeup=skeleton.format("Index job stalled.", "Old results.",
                                                    "Noticed by a user.", "No freshness alert."))
    current = make_incident(session, "Checkout 500s", 1, service_name="search",
                            writeup=skeleton.format("Payment client upgrade.", "Failed orders.",
                                                    "Paged at once.", "No contract test."),
                            resolve=False)
    assert ranked(session, current) == []
    assert {"summary", "impact", "timeline", "narrative", "contributing",
            "factors"} <= service.TEMPLATE_WORDS
    assert service.words("Contributing factors: the broker") - service.TEMPLATE_WORDS == {
        "broker"}
    assert earlier.id  # suggested only on what the write-ups say


def _recurrence_with_escape(session):
    earlier = make_incident(session, "Checkout 500s", 60, service_name="checkout")
    item = _done_item(session, earlier, "detect", 30, title="Contract test")
    current = make_incident(session, "Checkout 500s again", 10, service_name="checkout")
    service.confirm(session=session, incident_id=current.id, earlier_id=earlier.id)
    assert item.escaped_by_incident_id == current.id
    return earlier, current, item


def test_undo_a_recurrence_is_audited_and_the_item_is_no_longer_escaped(session):
    earlier, current, item = _recurrence_with_escape(session)
    undone = service.undo(session=session, incident_id=current.id, earlier_id=earlier.id,
                          actor_label="alice")
    assert [i.id for i in undone.released] == [item.id] and undone.moved == []
    assert item.escaped_at is None and item.escaped_by_incident_id is None
    assert item.outcome_at(utcnow(), 90, guard_verified=True) == "watching"
    assert service.links_for(session=session, incident_id=current.id) == []
    actions = {e.action: e for e in session.scalars(select(AuditEntry))}
    assert actions["recurrence.undone"].entity_id == current.id
    assert actions["recurrence.undone"].detail["of"] == earlier.id
    assert actions["prevention.escape_undone"].entity_id == item.id
    # Suggested again, and confirming again marks it escaped again.
    assert earlier.id in dict(ranked(session, current))
    again = service.confirm(session=session, incident_id=current.id, earlier_id=earlier.id)
    assert [i.id for i in again.escaped] == [item.id]
    with pytest.raises(NotFound):
        service.undo(session=session, incident_id=earlier.id, earlier_id=current.id)


def test_undo_leaves_the_item_escaped_by_another_recurrence_that_shows_it(session):
    earlier, current, item = _recurrence_with_escape(session)
    later = make_incident(session, "Checkout 500s a third time", 3, service_name="checkout")
    assert service.confirm(session=session, incident_id=later.id,
                           earlier_id=earlier.id).escaped == []  # already escaped
    undone = service.undo(session=session, incident_id=current.id, earlier_id=earlier.id)
    assert undone.released == [] and [i.id for i in undone.moved] == [item.id]
    assert item.escaped_by_incident_id == later.id and item.escaped_at is not None


def test_linked_and_dismissed_incidents_are_not_suggested_again(session, scene):
    current = scene["current"]
    service.confirm(session=session, incident_id=current.id, earlier_id=scene["fingerprint"].id)
    assert service.dismiss(session=session, incident_id=current.id,
                           candidate_id=scene["title"].id) is True
    assert service.dismiss(session=session, incident_id=current.id,
                           candidate_id=scene["title"].id) is False  # idempotent
    ids = [incident_id for incident_id, _ in ranked(session, current)]
    assert ids == [scene["service_defect"].id, scene["station"].id]


def test_confirm_is_idempotent_and_keeps_the_reasons(session, scene):
    current, earlier = scene["current"], scene["fingerprint"]
    first = service.confirm(session=session, incident_id=current.id, earlier_id=earlier.id)
    again = service.confirm(session=session, incident_id=current.id, earlier_id=earlier.id)
    assert first.created is True and again.created is False
    assert again.link.id == first.link.id
    assert first.link.reasons == "same alert fingerprint fp-checkout-5xx"
    links = service.links_for(session=session, incident_id=earlier.id)
    assert [(link.incident_id, link.earlier_incident_id) for link in links] == [
        (current.id, earlier.id)]


def test_confirm_refuses_itself_a_later_incident_and_unknown_ones(session, scene):
    current = scene["current"]
    cases = [(current.id, InvalidInput), (scene["later"].id, InvalidInput), (999, NotFound)]
    for earlier_id, error in cases:
        with pytest.raises(error) as refused:
            service.confirm(session=session, incident_id=current.id, earlier_id=earlier_id)
        assert refused.value.field == "of"
    with pytest.raises(NotFound):
        service.dismiss(session=session, incident_id=current.id, candidate_id=999)


def _done_item(session, incident, kind, days_ago, title=None):
    item = prevention.create_item(session=session, title=title or f"{kind} item", kind=kind)
    prevention.link(session=session, incident=incident, item=item)
    prevention.update(session=session, item=item, status="done", guard_url=GUARD,
                      now=utcnow() - timedelta(days=days_ago))
    return item


def test_recurrence_marks_escaped_only_structural_items_done_before_it_started(session):
    earlier = make_incident(session, "Checkout 500s", 60, service_name="checkout")
    other = make_incident(session, "Search down", 50, service_name="search")
    held_then_failed = _done_item(session, earlier, "detect", 30)
    done_after = _done_item(session, earlier, "eliminate", 5)
    advice = _done_item(session, earlier, "advice", 40)
    open_item = prevention.create_item(session=session, title="contain", kind="contain")
    prevention.link(session=session, incident=earlier, item=open_item)
    elsewhere = _done_item(session, other, "detect", 30)
    current = make_incident(session, "Checkout 500s again", 10, service_name="checkout")

    confirmed = service.confirm(session=session, incident_id=current.id, earlier_id=earlier.id)
    assert [item.id for item in confirmed.escaped] == [held_then_failed.id]
    assert held_then_failed.escaped_at is not None
    assert held_then_failed.escaped_by_incident_id == current.id
    assert held_then_failed.outcome_at(utcnow(), 90, guard_verified=True) == "escaped"
    for untouched in (done_after, advice, open_item, elsewhere):
        assert untouched.escaped_at is None
    assert done_after.outcome_at(utcnow(), 90, guard_verified=True) == "watching"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "prevention.escaped")
                            ).one()
    assert entry.entity_id == held_then_failed.id and entry.detail["incident_id"] == current.id


def test_item_done_past_its_watch_window_without_recurrence_has_held(session):
    incident = make_incident(session, "Checkout 500s", 200, service_name="checkout")
    item = _done_item(session, incident, "detect", 100)
    assert item.outcome_at(utcnow(), 90, guard_verified=True) == "held"
    assert item.outcome_at(utcnow(), 90, guard_verified=False) == "unverified"
    assert item.outcome_at(utcnow(), 120, guard_verified=False) == "watching"


def test_candidate_lookup_query_count_does_not_grow_with_history(app, session, scene):
    from incidents.appdb import engine, new_session

    def count():
        with app.app_context(), new_session() as db, count_queries(engine()) as statements:
            service.candidates(session=db, incident_id=scene["current"].id)
        return len(statements)

    before = count()
    for n in range(30):
        make_incident(session, f"Checkout 500s variant {n}", 2 + n / 100,
                      service_name="checkout", fingerprint="fp-checkout-5xx", defect="contract",
                      missed=[4])
    session.commit()
    assert count() == before
