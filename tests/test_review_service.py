"""The review service: revisions, findings, kept flags, states and the publish gate."""

import threading

import pytest
from sqlalchemy import func, select

from incidents.appdb import new_session
from incidents.errors import InvalidInput, NotFound, Refused
from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.review import service
from incidents.review.models import Review, ReviewRevision, ReviewState, StationFinding
from tests.test_review_support import (
    first_station,
    make_incident,
    make_publishable,
    structural_item,
)


@pytest.fixture
def review(app, session):
    incident = make_incident(session)
    review = service.start(session=session, incident_id=incident.id)
    session.commit()
    return review


def test_start_is_one_review_per_incident(session, review):
    again = service.start(session=session, incident_id=review.incident_id)
    assert again.id == review.id
    assert session.scalar(select(func.count()).select_from(Review)) == 1


def test_start_for_unknown_incident_is_not_found(session, app):
    with pytest.raises(NotFound):
        service.start(session=session, incident_id=999)


def test_get_or_new_does_not_create_a_review(session, app):
    incident = make_incident(session)
    draft = service.get_or_new(session=session, incident_id=incident.id)
    assert draft.id is None and draft.revision == 0 and draft.state == ReviewState.DRAFT
    assert session.scalar(select(func.count()).select_from(Review)) == 0


def test_each_save_is_a_revision_with_author_and_text(session, review, make_user):
    user = make_user("reviewer")
    service.save(session=session, review=review, base_revision=0, markdown="first",
                 author=user)
    service.save(session=session, review=review, base_revision=1, markdown="second",
                 defect_class="logic", author_label="token:ci")
    session.commit()
    assert review.revision == 2 and review.markdown == "second"
    history = service.revisions(session=session, review=review)
    assert [(r.revision, r.markdown, r.defect_class) for r in history] == [
        (2, "second", "logic"), (1, "first", None)]
    assert history[1].author_id == user.id and history[0].author_label == "token:ci"
    assert service.revision(session=session, review=review, number=1).markdown == "first"


def test_stale_save_is_refused_with_the_current_review(session, review):
    service.save(session=session, review=review, base_revision=0, markdown="theirs")
    session.commit()
    with pytest.raises(service.StaleReview) as refused:
        service.save(session=session, review=review, base_revision=0, markdown="mine")
    session.rollback()
    assert refused.value.status == 409
    assert refused.value.current.markdown == "theirs"
    assert refused.value.current.revision == 1
    assert session.get(Review, review.id).markdown == "theirs"


def test_two_concurrent_saves_from_one_revision_one_wins_nothing_lost(app, session, review):
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def edit(text):
        with app.app_context(), new_session() as db:
            barrier.wait()
            current = service.find(session=db, incident_id=review.incident_id)
            try:
                service.save(session=db, review=current, base_revision=0, markdown=text)
                db.commit()
                outcomes[text] = "saved"
            except service.StaleReview as exc:
                db.rollback()
                outcomes[text] = f"refused; current is {exc.current.markdown}"

    threads = [threading.Thread(target=edit, args=(text,)) for text in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values())[1] == "saved"
    winner = next(t for t, outcome in outcomes.items() if outcome == "saved")
    loser = next(t for t in outcomes if t != winner)
    assert outcomes[loser] == f"refused; current is {winner}"
    session.expire_all()
    assert session.get(Review, review.id).markdown == winner
    assert session.scalar(select(func.count()).select_from(ReviewRevision)) == 1


def test_save_rejects_unknown_defect_class_and_huge_text(session, review):
    with pytest.raises(InvalidInput) as bad:
        service.save(session=session, review=review, base_revision=0, defect_class="gremlins")
    assert bad.value.field == "defect_class"
    with pytest.raises(InvalidInput):
        service.save(session=session, review=review, base_revision=0,
                     markdown="x" * (service.MAX_MARKDOWN + 1))


def test_first_finding_is_the_cheapest_and_choosing_another_moves_it(session, review):
    stations = line.stations(session=session)
    service.set_finding(session=session, review=review, station_id=stations[3].id,
                        reason="not_covered", note="no contract test")
    service.set_finding(session=session, review=review, station_id=stations[7].id,
                        reason="signal_missed")
    assert [(f.station_id, f.cheapest) for f in service.findings(review)] == [
        (stations[3].id, True), (stations[7].id, False)]
    service.set_finding(session=session, review=review, station_id=stations[7].id,
                        reason="signal_missed", cheapest=True)
    session.commit()
    cheapest = session.scalars(select(StationFinding.station_id)
                               .where(StationFinding.cheapest)).all()
    assert cheapest == [stations[7].id]


def test_updating_a_finding_keeps_one_per_station(session, review):
    station = first_station(session)
    _, created = service.set_finding(session=session, review=review, station_id=station.id,
                                     reason="no_check")
    finding, again = service.set_finding(session=session, review=review,
                                         station_id=station.id, reason="flaky", note="retried")
    assert created and not again
    assert finding.reason == "flaky" and len(review.findings) == 1


def test_removing_the_cheapest_finding_hands_cheapest_on(session, review):
    stations = line.stations(session=session)
    for station in stations[:2]:
        service.set_finding(session=session, review=review, station_id=station.id,
                            reason="no_check")
    service.remove_finding(session=session, review=review, station_id=stations[0].id)
    assert [(f.station_id, f.cheapest) for f in review.findings] == [(stations[1].id, True)]


def test_finding_rejects_bad_reason_unknown_and_removed_station(session, review):
    station = first_station(session)
    with pytest.raises(InvalidInput) as bad:
        service.set_finding(session=session, review=review, station_id=station.id,
                            reason="bad_luck")
    assert bad.value.field == "reason"
    with pytest.raises(NotFound):
        service.set_finding(session=session, review=review, station_id=9999, reason="no_check")
    line.remove_station(session=session, station_id=station.id)
    with pytest.raises(InvalidInput, match="no longer on the line"):
        service.set_finding(session=session, review=review, station_id=station.id,
                            reason="no_check")
    with pytest.raises(InvalidInput):
        service.set_finding(session=session, review=review,
                            station_id=line.stations(session=session)[0].id,
                            reason="no_check", note="n" * (service.MAX_NOTE + 1))


def test_publish_refused_while_the_incident_is_open(session, app):
    incident = incidents.declare(session=session, title="Checkout 500s, still firing")
    review = make_publishable(session, service.start(session=session, incident_id=incident.id))
    with pytest.raises(Refused) as refused:
        service.publish(session=session, review=review)
    assert refused.value.extra["missing"] == ["incident_resolved"]
    assert review.state == ReviewState.DRAFT
    incidents.resolve(session=session, incident=incident)
    assert service.publish(session=session, review=review).state == ReviewState.PUBLISHED


def test_gate_names_every_missing_piece_of_an_empty_review(session, review):
    with pytest.raises(Refused) as refused:
        service.publish(session=session, review=review)
    assert refused.value.status == 422
    assert refused.value.extra["missing"] == [
        "station_finding", "defect_class", "structural_prevention_item"]
    assert "station finding" in refused.value.message


def test_gate_refuses_without_a_station_finding(session, review):
    make_publishable(session, review)
    service.remove_finding(session=session, review=review,
                           station_id=first_station(session).id)
    assert service.missing_for_publish(session=session, review=review) == ["station_finding"]


def test_gate_refuses_without_a_defect_class(session, review):
    make_publishable(session, review)
    service.save(session=session, review=review, base_revision=review.revision,
                 defect_class=None)
    with pytest.raises(Refused) as refused:
        service.publish(session=session, review=review)
    assert refused.value.extra["missing"] == ["defect_class"]


@pytest.mark.parametrize(("title", "kind"), [
    ("Fix the amount formatting", "local_fix"),
    ("Be more careful with payment client upgrades", "advice"),
    ("Update the docs on zero-decimal currencies", "detect"),
])
def test_gate_refuses_with_only_weak_prevention_items(session, app, title, kind):
    incident = make_incident(session)
    review = service.start(session=session, incident_id=incident.id)
    service.save(session=session, review=review, base_revision=0, defect_class="contract")
    service.set_finding(session=session, review=review, station_id=first_station(session).id,
                        reason="no_check")
    item = structural_item(session, title=title, kind=kind)
    service.link_item(session=session, review=review, item_id=item.id)
    assert service.weakness(item)
    assert service.missing_for_publish(session=session, review=review) == [
        "structural_prevention_item"]


def test_gate_ignores_a_dropped_structural_item(session, review):
    make_publishable(session, review)
    item = service.prevention_items(session=session, review=review)[0]
    item.status = "dropped"
    assert service.missing_for_publish(session=session, review=review) == [
        "structural_prevention_item"]


@pytest.mark.parametrize("kind", ["eliminate", "detect", "fail_loudly", "contain"])
def test_each_structural_kind_opens_the_gate(session, app, kind):
    incident = make_incident(session)
    review = service.start(session=session, incident_id=incident.id)
    service.save(session=session, review=review, base_revision=0, defect_class="data")
    service.set_finding(session=session, review=review, station_id=first_station(session).id,
                        reason="bypassed")
    item = structural_item(session, title=f"Strengthen the line ({kind})", kind=kind)
    service.link_item(session=session, review=review, item_id=item.id)
    service.publish(session=session, review=review)
    assert review.state == ReviewState.PUBLISHED


def test_gate_refuses_an_open_blame_flag_until_reworded(session, review):
    make_publishable(session, review)
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown="Root cause: human error. Dana forgot to run the contract test.")
    with pytest.raises(Refused) as refused:
        service.publish(session=session, review=review)
    assert refused.value.extra["missing"] == ["blame_flags"]
    assert "“human error”" in refused.value.message
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown="No contract test existed between checkout and the provider.")
    service.publish(session=session, review=review)
    assert review.state == ReviewState.PUBLISHED


def test_gate_accepts_flags_kept_with_a_reason(session, review, make_user):
    make_publishable(session, review)
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown="Root cause, as the vendor put it: HUMAN  error.")
    [flag] = service.flags(review)
    assert flag.kept is None and flag.where == "write-up"
    kept = service.keep_flag(session=session, review=review, rule=flag.flag.rule,
                             phrase=flag.flag.phrase, reason="Quoting the vendor's report",
                             actor=make_user("reviewer"))
    assert kept.phrase == "human error"
    assert service.flags(review)[0].kept is kept
    service.publish(session=session, review=review)
    assert review.state == ReviewState.PUBLISHED


def test_blame_in_a_finding_note_also_blocks_publishing(session, review):
    make_publishable(session, review)
    service.set_finding(session=session, review=review, station_id=first_station(session).id,
                        reason="bypassed", note="The reviewer should have caught it.")
    [flag] = service.flags(review)
    assert flag.where.startswith("note on ")
    assert service.missing_for_publish(session=session, review=review) == ["blame_flags"]


def test_keep_flag_needs_a_reason_a_phrase_and_a_known_rule(session, review):
    with pytest.raises(InvalidInput) as bad:
        service.keep_flag(session=session, review=review, rule="forgot", phrase="forgot",
                          reason="  ")
    assert bad.value.field == "reason"
    with pytest.raises(InvalidInput):
        service.keep_flag(session=session, review=review, rule="forgot", phrase="",
                          reason="r")
    with pytest.raises(InvalidInput):
        service.keep_flag(session=session, review=review, rule="vibes", phrase="x",
                          reason="r")


def test_unkeeping_a_flag_reopens_it(session, review):
    make_publishable(session, review)
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown="It was careless.")
    kept = service.keep_flag(session=session, review=review, rule="character",
                             phrase="careless", reason="quoting")
    service.unkeep_flag(session=session, review=review, kept_id=kept.id)
    assert service.missing_for_publish(session=session, review=review) == ["blame_flags"]


def test_published_review_cannot_be_edited_until_reopened(session, review):
    make_publishable(session, review)
    service.publish(session=session, review=review)
    published_revision = review.revision
    assert review.published_at is not None
    with pytest.raises(Refused):
        service.save(session=session, review=review, base_revision=review.revision,
                     markdown="changed")
    with pytest.raises(Refused):
        service.set_finding(session=session, review=review,
                            station_id=first_station(session).id, reason="flaky")
    with pytest.raises(Refused):
        service.unlink_item(session=session, review=review,
                            item_id=service.prevention_items(session=session, review=review)[0].id)
    service.reopen(session=session, review=review)
    assert review.state == ReviewState.IN_REVIEW and review.published_at is None
    assert review.revision == published_revision + 1


def test_reopened_review_passes_the_gate_again(session, review):
    make_publishable(session, review)
    service.publish(session=session, review=review)
    service.reopen(session=session, review=review)
    item = service.prevention_items(session=session, review=review)[0]
    service.unlink_item(session=session, review=review, item_id=item.id)
    with pytest.raises(Refused) as refused:
        service.publish(session=session, review=review)
    assert refused.value.extra["missing"] == ["structural_prevention_item"]
    service.link_item(session=session, review=review, item_id=item.id)
    service.publish(session=session, review=review)
    assert review.state == ReviewState.PUBLISHED


def test_states_move_draft_in_review_published(session, review):
    service.submit(session=session, review=review)
    assert review.state == ReviewState.IN_REVIEW
    with pytest.raises(Refused):
        service.submit(session=session, review=review)
    with pytest.raises(Refused):
        service.reopen(session=session, review=review)
    make_publishable(session, review)
    service.publish(session=session, review=review)
    states = [r.state for r in service.revisions(session=session, review=review)]
    assert states[0] == ReviewState.PUBLISHED and ReviewState.IN_REVIEW in states


def test_linking_twice_is_harmless_and_linkable_excludes_linked(session, review):
    item = structural_item(session)
    assert item in service.linkable_items(session=session, review=review)
    _, first = service.link_item(session=session, review=review, item_id=item.id)
    _, second = service.link_item(session=session, review=review, item_id=item.id)
    assert first and not second
    assert item not in service.linkable_items(session=session, review=review)
    with pytest.raises(NotFound):
        service.link_item(session=session, review=review, item_id=9999)
