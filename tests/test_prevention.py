"""Prevention items: status transitions, the guard requirement, overdue, outcome (service)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from incidents.errors import InvalidInput, Refused
from incidents.prevention import service
from incidents.prevention.models import (
    GUARDED_KINDS,
    Outcome,
    PreventionItem,
    PreventionKind,
    PreventionStatus,
)

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
GUARD = "https://ci.example.com/checks/contract-test"
S = PreventionStatus


def item_in(session, status: PreventionStatus, kind="detect", **fields) -> PreventionItem:
    """An item already in `status` (set directly: the setup, not the move under test)."""
    item = service.create_item(session=session, title=f"{kind} item", kind=kind, **fields)
    item.status = status
    if status == S.DONE:
        service.update(session=session, item=item, guard_url=GUARD)
        item.completed_at = NOW - timedelta(days=1)
    if status == S.DROPPED:
        item.dropped_reason = "superseded"
    session.flush()
    return item


def move_args(target: PreventionStatus) -> dict:
    return {"guard_url": GUARD} if target == S.DONE else (
        {"dropped_reason": "not worth it"} if target == S.DROPPED else {})


ALLOWED = [(old, new) for old, moves in service.TRANSITIONS.items() for new in moves]
REFUSED = [(old, new) for old in S for new in S
           if new != old and new not in service.TRANSITIONS[old]]


def test_transition_table_covers_every_status_and_refuses_done_to_dropped():
    assert set(service.TRANSITIONS) == set(S)
    assert (S.DONE, S.DROPPED) in REFUSED and (S.DONE, S.PROPOSED) in REFUSED
    assert (S.DONE, S.IN_PROGRESS) in ALLOWED  # reopen
    assert (S.DROPPED, S.PROPOSED) in ALLOWED  # revive


def test_every_allowed_transition_moves_and_is_recorded(session):
    for old, new in ALLOWED:
        item = item_in(session, old)
        service.update(session=session, item=item, status=new, now=NOW, **move_args(new))
        assert item.status == new, (old, new)
        entry = service.history(session=session, item_id=item.id)[-1]
        assert entry.action == "prevention.status_changed", (old, new)
        assert (entry.detail["old"], entry.detail["new"]) == (old, new)


def test_every_other_transition_is_refused_naming_status(session):
    for old, new in REFUSED:
        item = item_in(session, old)
        session.commit()
        with pytest.raises(Refused) as refused:
            service.update(session=session, item=item, status=new, now=NOW, **move_args(new))
        assert refused.value.field == "status", (old, new)
        assert f"cannot move to {new.value}" in refused.value.message
        session.rollback()
        assert session.get(PreventionItem, item.id).status == old, (old, new)


def test_done_sets_completed_at_and_reopen_clears_it(session):
    item = item_in(session, S.IN_PROGRESS)
    service.update(session=session, item=item, status="done", guard_url=GUARD, now=NOW)
    assert item.completed_at == NOW
    service.update(session=session, item=item, status="in_progress", now=NOW)
    assert item.completed_at is None and item.status == S.IN_PROGRESS


@pytest.mark.parametrize("kind", sorted(GUARDED_KINDS))
def test_done_needs_the_guard_for_eliminate_detect_fail_loudly(session, kind):
    item = item_in(session, S.IN_PROGRESS, kind=kind)
    with pytest.raises(Refused) as refused:
        service.update(session=session, item=item, status="done", now=NOW)
    assert refused.value.field == "guard_url"
    # In the product's words: the field is named for the API, the message for people.
    assert refused.value.message.startswith("name its guard before marking a")
    assert "guard_url" not in refused.value.message and " a eliminate" not in refused.value.message
    service.update(session=session, item=item, status="done", guard_url=GUARD, now=NOW)
    assert item.status == S.DONE and item.guard_url == GUARD


@pytest.mark.parametrize("kind", ["contain", "local_fix", "advice"])
def test_done_without_guard_is_fine_for_other_kinds(session, kind):
    item = item_in(session, S.COMMITTED, kind=kind)
    service.update(session=session, item=item, status="done", now=NOW)
    assert item.status == S.DONE and item.guard_url is None


def test_guard_cannot_be_cleared_from_a_done_detect_item(session):
    item = item_in(session, S.DONE)
    with pytest.raises(Refused) as refused:
        service.update(session=session, item=item, guard_url="")
    assert refused.value.field == "guard_url"


def test_guard_must_be_an_http_url(session):
    item = item_in(session, S.PROPOSED)
    with pytest.raises(InvalidInput) as invalid:
        service.update(session=session, item=item, guard_url="javascript:alert(1)")
    assert invalid.value.field == "guard_url"


def test_setting_the_guard_alone_is_recorded(session):
    item = item_in(session, S.PROPOSED)
    service.update(session=session, item=item, guard_url=GUARD)
    assert item.status == S.PROPOSED and item.guard_url == GUARD
    # A link Linecheck cannot read as a CI check becomes a manual guard, confirmed by hand.
    assert item.guard.provider == "manual"
    assert service.history(session=session, item_id=item.id)[-1].detail == {
        "guard_url": GUARD, "guard": GUARD}


def test_dropping_needs_a_reason_and_reviving_clears_it(session):
    item = item_in(session, S.COMMITTED)
    for reason in (None, "   "):
        with pytest.raises(Refused) as refused:
            service.update(session=session, item=item, status="dropped", dropped_reason=reason)
        assert refused.value.field == "dropped_reason"
    service.update(session=session, item=item, status="dropped", dropped_reason="duplicate of #4")
    assert item.dropped_reason == "duplicate of #4"
    assert service.history(session=session, item_id=item.id)[-1].detail["reason"] == (
        "duplicate of #4")
    service.update(session=session, item=item, status="proposed")
    assert item.dropped_reason is None


def test_unknown_status_is_invalid_input(session):
    item = item_in(session, S.PROPOSED)
    with pytest.raises(InvalidInput) as invalid:
        service.update(session=session, item=item, status="finished")
    assert invalid.value.field == "status"


def test_history_tells_the_whole_story(session, make_user):
    lead = make_user("lead")
    item = service.create_item(session=session, title="Contract test", kind="detect",
                               actor=lead)
    service.update(session=session, item=item, status="committed", actor=lead)
    service.update(session=session, item=item, status="done", guard_url=GUARD, actor=lead)
    actions = [e.action for e in service.history(session=session, item_id=item.id)]
    assert actions == ["prevention.created", "prevention.status_changed",
                       "prevention.guard_set", "prevention.status_changed"]


def test_strength_runs_from_eliminate_five_to_advice_zero(session):
    assert [k.strength for k in PreventionKind] == [5, 4, 3, 2, 1, 0]
    for kind in PreventionKind:
        item_in(session, S.PROPOSED, kind=kind.value)
    rows = session.execute(select(PreventionItem.kind, service.strength_expr())).all()
    assert {kind: strength for kind, strength in rows} == {
        k.value: k.strength for k in PreventionKind}


def test_overdue_means_past_due_and_still_open(session):
    today = NOW.date()
    cases = {
        "late": (S.IN_PROGRESS, today - timedelta(days=1), True),
        "due today": (S.COMMITTED, today, False),
        "no due date": (S.PROPOSED, None, False),
        "late but done": (S.DONE, today - timedelta(days=9), False),
        "late but dropped": (S.DROPPED, today - timedelta(days=9), False),
    }
    items = {name: item_in(session, status, due_date=due)
             for name, (status, due, _) in cases.items()}
    for name, (_, _, expected) in cases.items():
        assert items[name].is_overdue(today) is expected, name
    in_sql = set(session.scalars(select(PreventionItem.id).where(
        PreventionItem.is_overdue(today))))
    assert in_sql == {items["late"].id}
    not_overdue = set(session.scalars(select(PreventionItem.id).where(
        ~PreventionItem.is_overdue(today))))
    assert not_overdue == {item.id for item in items.values()} - {items["late"].id}


def test_outcome_follows_the_watch_window_and_escape(session):
    window = 90
    watching = item_in(session, S.DONE)
    watching.completed_at = NOW - timedelta(days=window - 1)
    held = item_in(session, S.DONE)
    held.completed_at = NOW - timedelta(days=window + 1)
    escaped = item_in(session, S.DONE)
    escaped.completed_at = NOW - timedelta(days=200)
    escaped.escaped_at = NOW - timedelta(days=5)
    open_item = item_in(session, S.IN_PROGRESS)
    session.flush()
    # Its guard is a link nothing ever reported on: quiet, but not proven to have held.
    expected = {watching.id: Outcome.WATCHING, held.id: Outcome.UNVERIFIED,
                escaped.id: Outcome.ESCAPED, open_item.id: None}
    for item in (watching, held, escaped, open_item):
        assert item.outcome_at(NOW, window, guard_verified=False) == expected[item.id]
    assert held.outcome_at(NOW, window, guard_verified=True) == Outcome.HELD
    sql = session.get_bind().dialect.name
    for outcome in Outcome:
        in_sql = set(session.scalars(select(PreventionItem.id).where(
            service.outcome_clause(outcome, NOW, window, sql))))
        assert in_sql == {i for i, o in expected.items() if o == outcome}, outcome
    # A longer window keeps the same item under watch.
    assert held.outcome_at(NOW, 365, guard_verified=False) == Outcome.WATCHING


def test_board_puts_the_viewers_team_first_then_open_items_by_due_date(session):
    other_late = item_in(session, S.COMMITTED, owner_team="search", due_date=date(2026, 1, 1))
    mine_done = item_in(session, S.DONE, owner_team="payments")
    mine_open = item_in(session, S.PROPOSED, owner_team="payments", due_date=date(2026, 9, 1))
    mine_soon = item_in(session, S.PROPOSED, owner_team="payments", due_date=date(2026, 8, 5))
    team_id = mine_open.owner_team_id
    items, more = service.board(session=session, filters=service.ItemFilter(), today=NOW.date(),
                                now=NOW, watch_window_days=90, team_id=team_id)
    assert [i.id for i in items] == [mine_soon.id, mine_open.id, mine_done.id, other_late.id]
    assert more is False


def test_filters_combine(session):
    a = item_in(session, S.PROPOSED, kind="eliminate", owner_team="payments",
                due_date=date(2026, 1, 1), station_id=4)
    item_in(session, S.PROPOSED, kind="advice", owner_team="payments")
    item_in(session, S.PROPOSED, kind="eliminate", owner_team="search")

    def ids(**filters):
        found, _ = service.search(session=session, filters=service.ItemFilter(**filters),
                                  today=NOW.date(), now=NOW, watch_window_days=90)
        return [i.id for i in found]

    assert ids(team="payments", strength=5) == [a.id]
    assert ids(team="payments", overdue=True, station_id=4, kind="eliminate") == [a.id]
    assert ids(team="nobody") == []
    with pytest.raises(InvalidInput):
        ids(strength=9)
    with pytest.raises(InvalidInput):
        ids(outcome="forgotten")
