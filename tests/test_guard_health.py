"""Guard health walked through time: alive → stale → alive → failing, the item's outcome and
the report following it; test ids, branches, a team's N, manual confirmations, and the
query count of the pages that show it.

Time moves explicitly: runs carry their own completion times, and `now` is passed to the
health service and the report; nothing sleeps.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from incidents.db import utcnow
from incidents.guard import health, notices
from incidents.guard import service as guards
from incidents.guard.models import Health
from incidents.prevention import service as prevention
from incidents.prevention.models import Outcome
from incidents.report import service as report
from tests import guard_payloads as payloads
from tests.conftest import GITHUB_SECRET
from tests.helpers import count_queries, github_delivery

WINDOW = 90
DAY = timedelta(days=1)


@pytest.fixture
def t0():
    """The moment the items are done: now, so hook-time checks see only the past."""
    return utcnow().replace(microsecond=0)


def post_github(client, event: str, body: dict) -> dict:
    response = client.post("/hooks/github", **github_delivery(event, body, secret=GITHUB_SECRET,
                                                              delivery=str(uuid.uuid4())))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def passed(client, at, *, name="contract-tests", branch="main", conclusion="success"):
    return post_github(client, "check_run", payloads.check_run(
        run_id=int(at.timestamp()) + len(branch), name=name, conclusion=conclusion, at=at,
        branch=branch))


def done_item(session, t0, *, guard: guards.GuardSpec, team="payments", title="Contract test",
              station_id=4):
    item = prevention.create_item(session=session, title=title, kind="detect",
                                  owner_team=team, station_id=station_id)
    item.created_at = t0 - DAY
    prevention.update(session=session, item=item, status="done", guard=guard, now=t0)
    session.commit()
    return item


def github_guard(name="contract-tests", **fields) -> guards.GuardSpec:
    return guards.spec(provider="github", repository="acme/checkout", name=name, **fields)


def view(session, item, now) -> health.GuardView:
    session.expire_all()
    return health.view(session=session, item=item, now=now, watch_window_days=WINDOW)


def figures(session, now) -> dict:
    return report.recurrence_report(session=session, filters=report.ReportFilter(), now=now,
                                    watch_window_days=WINDOW)


def test_guard_walks_alive_stale_alive_failing_with_outcome_and_report(client, session, t0):
    walked = done_item(session, t0, guard=github_guard())
    steady = done_item(session, t0, guard=github_guard("lint"), title="Lint rule",
                       team="search", station_id=1)
    assert view(session, walked, t0).health == Health.UNVERIFIED  # never seen yet

    for day in range(1, 92, 7):  # `lint` passes every week, the whole window through
        passed(client, t0 + day * DAY + timedelta(hours=1), name="lint")
    passed(client, t0 + DAY)
    alive = view(session, walked, t0 + 2 * DAY)
    assert (alive.health, alive.outcome, alive.flagged) == (Health.ALIVE, Outcome.WATCHING,
                                                            False)
    assert alive.last_passed_at == t0 + DAY

    # Nothing ran for 19 days, more than the default N of 14: deleted, renamed, disabled?
    stale = view(session, walked, t0 + 20 * DAY)
    assert (stale.health, stale.flagged) == (Health.STALE, True)

    passed(client, t0 + 21 * DAY)
    assert view(session, walked, t0 + 22 * DAY).health == Health.ALIVE

    # A pull request's branch failing says nothing about the guard on main.
    passed(client, t0 + 23 * DAY, branch="feature/rounding", conclusion="failure")
    assert view(session, walked, t0 + 24 * DAY).health == Health.ALIVE

    passed(client, t0 + 25 * DAY, conclusion="failure")
    failing = view(session, walked, t0 + 26 * DAY)
    assert (failing.health, failing.flagged, failing.outcome) == (Health.FAILING, True,
                                                                  Outcome.WATCHING)
    at_26 = {"today": (t0 + 26 * DAY).date(), "now": t0 + 26 * DAY, "watch_window_days": WINDOW}
    for wanted, expected in (("broken", [walked.id]), ("failing", [walked.id]),
                             ("alive", [steady.id]), ("stale", [])):
        found, _ = prevention.search(
            session=session, filters=prevention.ItemFilter(guard_health=wanted), **at_26)
        assert [i.id for i in found] == expected, wanted

    # Past the watch window: quiet, but the guard went stale and failed on the way.
    after = t0 + (WINDOW + 5) * DAY
    assert view(session, walked, after).outcome == Outcome.UNVERIFIED
    assert view(session, steady, after).outcome == Outcome.HELD
    got = figures(session, after)
    assert (got["prevention"]["held"], got["prevention"]["unverified"],
            got["prevention"]["held_rate"], got["prevention"]["unverified_rate"]) == (
        1, 1, 0.5, 0.5)
    teams = {row["team"]: row for row in got["guard_health_by_team"]}
    # `contract-tests` last ran (and failed) 70 days before `after`: stale by now; `lint`
    # last passed 4 days before.
    assert (teams["payments"]["stale"], teams["payments"]["done"]) == (1, 1)
    assert (teams["search"]["alive"], teams["search"]["done"]) == (1, 1)
    stations = {row["station_id"]: row for row in got["guard_health_by_station"]}
    assert stations[4]["stale"] == 1 and stations[1]["alive"] == 1
    at_failure = {row["team"]: row for row in figures(session, t0 + 26 * DAY)[
        "guard_health_by_team"]}
    assert at_failure["payments"]["failing"] == 1
    assert got["guard_health_by_station"][0]["station_id"] == 4  # broken guards first

    # The board's outcome filter agrees with the item's outcome.
    clock = {"today": after.date(), "now": after, "watch_window_days": WINDOW}
    held, _ = prevention.search(session=session, filters=prevention.ItemFilter(outcome="held"),
                                **clock)
    unverified, _ = prevention.search(
        session=session, filters=prevention.ItemFilter(outcome="unverified"), **clock)
    assert [i.id for i in held] == [steady.id] and [i.id for i in unverified] == [walked.id]


def test_each_broken_transition_is_announced_once(client, session, t0):
    item = done_item(session, t0, guard=github_guard())
    passed(client, t0 + DAY)

    def check(at):
        told = notices.check(session=session, now=at, watch_window_days=WINDOW)
        session.commit()
        return [(t.item_id, t.health, t.sequence) for t in told]

    assert check(t0 + 2 * DAY) == []
    assert check(t0 + 20 * DAY) == [(item.id, Health.STALE, 1)]
    assert check(t0 + 20 * DAY + timedelta(hours=6)) == []  # a day later: still once
    assert check(t0 + 21 * DAY) == []
    passed(client, t0 + 22 * DAY)
    assert check(t0 + 22 * DAY + timedelta(hours=1)) == []  # alive again: the claim clears
    passed(client, t0 + 23 * DAY, conclusion="failure")
    assert check(t0 + 23 * DAY + timedelta(hours=1)) == [(item.id, Health.FAILING, 2)]
    assert check(t0 + 24 * DAY) == []
    # Stopping altogether after failing is news too.
    assert check(t0 + 40 * DAY) == [(item.id, Health.STALE, 3)]


def test_a_junit_summary_without_the_named_test_is_test_missing(api, client, make_token,
                                                                 session, t0):
    item = done_item(session, t0, guard=github_guard(test_id="checkout.AmountTest.cents"))
    hooks = make_token("hooks")

    def post(run_id, at, tests):
        body = payloads.ci_run(run_id=run_id, name="contract-tests", status="passed", at=at,
                               tests=tests)
        response = client.post("/hooks/ci", json=body,
                               headers={"Authorization": f"Bearer {hooks}"})
        assert response.status_code == 200, response.json
        return response.json

    # GitHub's own check run reports no tests: it cannot speak for a named test.
    passed(client, t0 + DAY)
    assert view(session, item, t0 + 2 * DAY).health == Health.UNVERIFIED
    post("r1", t0 + 2 * DAY, {"passed": ["checkout.AmountTest.cents",
                                         "checkout.AmountTest.rounding"]})
    assert view(session, item, t0 + 3 * DAY).health == Health.ALIVE
    post("r2", t0 + 3 * DAY, {"passed": ["checkout.AmountTest.rounding"]})  # gone from the suite
    assert view(session, item, t0 + 4 * DAY).health == Health.TEST_MISSING
    post("r3", t0 + 4 * DAY, {"skipped": ["checkout.AmountTest.cents"]})  # @Disabled
    assert view(session, item, t0 + 5 * DAY).health == Health.TEST_MISSING
    post("r4", t0 + 5 * DAY, {"passed": ["checkout.AmountTest.cents"],
                              "failed": ["checkout.AmountTest.cents"]})  # failed wins
    assert view(session, item, t0 + 6 * DAY).health == Health.FAILING
    post("r5", t0 + 6 * DAY, {"ran": ["checkout.AmountTest.cents"]})  # takes the run's status
    alive = view(session, item, t0 + 7 * DAY)
    assert (alive.health, alive.flagged) == (Health.ALIVE, False)


def test_a_named_branch_counts_only_its_own_runs(client, session, t0):
    item = done_item(session, t0, guard=github_guard(branch="release"))
    passed(client, t0 + DAY)  # main
    assert view(session, item, t0 + 2 * DAY).health == Health.UNVERIFIED
    passed(client, t0 + 2 * DAY, branch="release")
    assert view(session, item, t0 + 3 * DAY).health == Health.ALIVE


def test_a_workflow_is_known_by_its_name_or_its_file(client, session, t0):
    by_name = done_item(session, t0, guard=github_guard("CI"))
    by_file = done_item(session, t0, guard=github_guard(".github/workflows/ci.yml"))
    post_github(client, "workflow_run", payloads.workflow_run(
        run_id=30433642, name="CI", conclusion="success", at=t0 + DAY))
    for item in (by_name, by_file):
        assert view(session, item, t0 + 2 * DAY).health == Health.ALIVE


def test_cancelled_and_skipped_runs_neither_prove_nor_break_a_guard(client, session, t0):
    item = done_item(session, t0, guard=github_guard())
    passed(client, t0 + DAY)
    for day, conclusion in ((2, "cancelled"), (3, "skipped"), (4, "neutral")):
        passed(client, t0 + day * DAY, conclusion=conclusion)
    assert view(session, item, t0 + 5 * DAY).health == Health.ALIVE
    # …and a check that is always skipped goes stale.
    assert view(session, item, t0 + 16 * DAY).health == Health.STALE


def test_a_team_sets_its_own_n(client, session, t0):
    item = done_item(session, t0, guard=github_guard())
    passed(client, t0 + DAY)
    assert view(session, item, t0 + 8 * DAY + timedelta(hours=2)).health == Health.ALIVE
    guards.set_team_days(session=session, team="payments", stale_after_days=7,
                         confirm_every_days=30)
    session.commit()
    stale = view(session, item, t0 + 8 * DAY + timedelta(hours=2))
    assert (stale.health, stale.days) == (Health.STALE, 7)
    days = {t.team: (t.stale_after_days, t.own) for t in guards.team_days(session=session)}
    assert days.pop("payments") == (7, True)
    assert days and not any(own for _, own in days.values())  # the other teams: the default


@pytest.mark.parametrize("days", [0, -1, 366, "7", True])
def test_a_team_n_must_be_a_sensible_number_of_days(session, days):
    from incidents.auth import service as auth
    from incidents.errors import InvalidInput

    auth.team_named(session=session, name="payments")
    with pytest.raises(InvalidInput) as invalid:
        guards.set_team_days(session=session, team="payments", stale_after_days=days,
                             confirm_every_days=30)
    assert invalid.value.field == "stale_after_days"


def test_a_manual_guard_lives_on_confirmations(session, t0):
    item = done_item(session, t0, guard=guards.spec(provider="manual",
                                                    name="NOT NULL on orders.amount"))
    assert view(session, item, t0).health == Health.UNVERIFIED
    guards.confirm(session=session, item=item, in_place=True, now=t0 + DAY)
    session.commit()
    assert view(session, item, t0 + 30 * DAY).health == Health.ALIVE  # confirmations: 30 days
    assert view(session, item, t0 + 32 * DAY).health == Health.STALE
    guards.confirm(session=session, item=item, in_place=False, note="dropped in a migration",
                   now=t0 + 33 * DAY)
    session.commit()
    assert view(session, item, t0 + 34 * DAY).health == Health.FAILING


def test_only_manual_guards_are_confirmed_by_hand(session, t0):
    from incidents.errors import Refused

    item = done_item(session, t0, guard=github_guard())
    with pytest.raises(Refused):
        guards.confirm(session=session, item=item, in_place=True)


def test_board_api_and_item_pages_query_count_does_not_grow_with_items(app, client, auth, api,
                                                                        session, t0):
    auth.login_as("viewer")
    engine = app.extensions["linecheck.engine"]

    def statements(path, via=client):
        assert via.get(path).status_code == 200
        with count_queries(engine) as sent:
            assert via.get(path).status_code == 200
        return len(sent)

    def add(n):
        for i in range(n):
            done_item(session, t0, guard=github_guard(f"check-{i}"), title=f"item {i}")

    add(2)
    passed(client, t0 - DAY, name="check-0")
    small = (statements("/prevention"), statements("/api/v1/prevention-items", api))
    add(30)
    assert (statements("/prevention"), statements("/api/v1/prevention-items", api)) == small
