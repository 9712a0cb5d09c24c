"""Guard health: the one home of *alive / failing / stale / test missing / unverified*, and of
whether a guard stayed alive through its item's watch window.

Everything is computed in SQL from the runs' and confirmations' own timestamps (never a row's
update time), for any number of items in one statement: the board, the item page, the review,
the API, the notices and the report all read it from here.

- The *evidence* of a guard is every completed run that matches it (repository, check/job/
  workflow name or workflow file, and its branch — the default branch unless it names one)
  and that reached a verdict, or, for a manual guard, every confirmation. A guard naming a
  test counts only runs that reported tests: the test passed, failed, or is *missing*
  (skipped or absent).
- *Health* at `now`: no evidence → unverified; the last evidence older than N days → stale;
  else the last verdict: failed → failing, missing → test missing, passed → alive. N is the
  owner team's setting (GuardSettings), confirmation days for manual guards.
- *Verified through the watch window* (what makes a quiet item *held* rather than
  *unverified*): in [completed, completed + window] at least one pass, no failing or missing
  verdict, no gap longer than N days between completion, consecutive evidence and the
  window's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from incidents.db import UTCDateTime
from incidents.guard.models import (
    BROKEN,
    DEFAULT_CONFIRM_EVERY_DAYS,
    DEFAULT_STALE_AFTER_DAYS,
    VERDICTS,
    Guard,
    GuardConfirmation,
    GuardRun,
    GuardRunTest,
    GuardSettings,
    Health,
    Provider,
    RunResult,
)
from incidents.prevention.models import Outcome, PreventionItem, PreventionStatus
from incidents.report.sql import dialect, seconds_between

DAY = 86400
MISSING = "missing"


def _now(now: datetime):
    return bindparam("guard_now", now, type_=UTCDateTime)


def days_expr():
    """N for each guard: its owner team's setting, else the default (manual: confirmations)."""
    return case(
        (Guard.provider == Provider.MANUAL,
         func.coalesce(GuardSettings.confirm_every_days, DEFAULT_CONFIRM_EVERY_DAYS)),
        else_=func.coalesce(GuardSettings.stale_after_days, DEFAULT_STALE_AFTER_DAYS))


def _matches_run(name_column):
    """A run of the guard's check on the branch that counts, with a verdict (or tests)."""
    return and_(
        GuardRun.repository == Guard.repository, name_column == Guard.name,
        or_(GuardRun.branch == Guard.branch,
            and_(Guard.branch.is_(None), GuardRun.on_default_branch.is_(True))),
        GuardRun.result.in_([v.value for v in VERDICTS]),
        or_(Guard.test_id.is_(None), GuardRun.has_tests.is_(True)))


def evidence(now: datetime, item_ids=None):
    """(guard_id, at, verdict) for every run or confirmation that speaks for a guard.

    A CTE, computed once however often a statement reads it. Runs are matched by name and,
    separately, by workflow file, so each join walks an index instead of an OR.
    """
    verdict = case(
        (Guard.test_id.is_(None), GuardRun.result),
        (GuardRunTest.result.in_([v.value for v in VERDICTS]), GuardRunTest.result),
        else_=literal(MISSING))

    def runs(name_column, *extra):
        query = (select(Guard.id.label("guard_id"), GuardRun.completed_at.label("at"),
                        type_coerce(verdict, String).label("verdict"))
                 .select_from(Guard).join(GuardRun, _matches_run(name_column))
                 .outerjoin(GuardRunTest, and_(GuardRunTest.run_id == GuardRun.id,
                                               GuardRunTest.test_id == Guard.test_id))
                 .where(Guard.provider != Provider.MANUAL, GuardRun.completed_at <= _now(now),
                        *extra))
        if item_ids is not None:
            query = query.where(Guard.prevention_item_id.in_(item_ids))
        return query

    by_name = runs(GuardRun.name)
    # A workflow named by its file; a run whose name is that file too was matched above.
    by_file = runs(GuardRun.path, GuardRun.name != Guard.name)
    confirmed = case((GuardConfirmation.in_place.is_(True), literal(RunResult.PASSED.value)),
                     else_=literal(RunResult.FAILED.value))
    confirmations = (select(Guard.id, GuardConfirmation.confirmed_at,
                            type_coerce(confirmed, String))
                     .select_from(Guard)
                     .join(GuardConfirmation, GuardConfirmation.guard_id == Guard.id)
                     .where(Guard.provider == Provider.MANUAL,
                            GuardConfirmation.confirmed_at <= _now(now)))
    if item_ids is not None:
        confirmations = confirmations.where(Guard.prevention_item_id.in_(item_ids))
    return union_all(by_name, by_file, confirmations).cte()


def _latest(found):
    """Each guard's last evidence, its verdict, and its last pass: one GROUP BY, no window.

    The last verdict is the one whose latest time is the last time (a failure wins a tie).
    """
    def last(verdict=None):
        at = found.c.at if verdict is None else case((found.c.verdict == verdict, found.c.at))
        return type_coerce(func.max(at), UTCDateTime)

    per_guard = select(found.c.guard_id, last().label("at"),
                       last(RunResult.FAILED.value).label("failed_at"),
                       last(MISSING).label("missing_at"),
                       last(RunResult.PASSED.value).label("last_passed_at")
                       ).group_by(found.c.guard_id).subquery()
    verdict = case((per_guard.c.failed_at == per_guard.c.at, RunResult.FAILED.value),
                   (per_guard.c.missing_at == per_guard.c.at, MISSING),
                   else_=RunResult.PASSED.value)
    return select(per_guard.c.guard_id, per_guard.c.at, verdict.label("verdict"),
                  per_guard.c.last_passed_at).subquery("latest")


def _through_window(found, watch_window_days: int, sql: str):
    """Per guard: passes, breaks, the longest gap and the last evidence within its item's
    watch window (seconds since completion)."""
    since_done = seconds_between(PreventionItem.completed_at, found.c.at, sql)
    previous = func.lag(found.c.at).over(partition_by=found.c.guard_id, order_by=found.c.at)
    inside = (select(found.c.guard_id, found.c.at, found.c.verdict,
                     PreventionItem.completed_at, previous.label("previous"))
              .join(Guard, Guard.id == found.c.guard_id)
              .join(PreventionItem, PreventionItem.id == Guard.prevention_item_id)
              .where(PreventionItem.completed_at.is_not(None), since_done >= 0,
                     since_done <= watch_window_days * DAY)
              .subquery())
    gap = seconds_between(func.coalesce(inside.c.previous, inside.c.completed_at), inside.c.at,
                          sql)
    passed = inside.c.verdict == RunResult.PASSED.value
    return (select(inside.c.guard_id,
                   func.sum(case((passed, 1), else_=0)).label("passes"),
                   func.sum(case((passed, 0), else_=1)).label("breaks"),
                   func.max(gap).label("longest_gap"),
                   func.max(seconds_between(inside.c.completed_at, inside.c.at, sql))
                   .label("last_offset"))
            .group_by(inside.c.guard_id).subquery("through_window"))


def _verified(window, watch_window_days: int):
    days = days_expr() * DAY
    return and_(window.c.passes > 0, window.c.breaks == 0, window.c.longest_gap <= days,
                watch_window_days * DAY - window.c.last_offset <= days)


def _health(latest, now: datetime, sql: str):
    return case(
        (Guard.id.is_(None), None),
        (latest.c.at.is_(None), Health.UNVERIFIED.value),
        (seconds_between(latest.c.at, _now(now), sql) > days_expr() * DAY, Health.STALE.value),
        (latest.c.verdict == RunResult.FAILED.value, Health.FAILING.value),
        (latest.c.verdict == MISSING, Health.TEST_MISSING.value),
        else_=Health.ALIVE.value)


def guarded_items(session: Session, *, now: datetime, watch_window_days: int,
                  item_ids=None, with_verified: bool = True) -> Select:
    """A select over items (outer-joined to their guard) with the labelled columns `guard_id`,
    `health`, `last_run_at`, `last_passed_at`, `days` and (unless left out, as counts of
    health do) `verified`; filter and group it. `item_ids` (ids or a select of them) limits
    the runs looked at to those items' guards."""
    sql = dialect(session)
    found = evidence(now, item_ids)
    latest = _latest(found)
    query = (select(PreventionItem.id.label("item_id"), Guard.id.label("guard_id"),
                    _health(latest, now, sql).label("health"),
                    latest.c.at.label("last_run_at"), latest.c.last_passed_at,
                    days_expr().label("days"))
             .select_from(PreventionItem)
             .outerjoin(Guard, Guard.prevention_item_id == PreventionItem.id)
             .outerjoin(GuardSettings, GuardSettings.team_id == PreventionItem.owner_team_id)
             .outerjoin(latest, latest.c.guard_id == Guard.id))
    if not with_verified:
        return query
    window = _through_window(found, watch_window_days, sql)
    verified = case((_verified(window, watch_window_days), True), else_=False)
    return (query.add_columns(verified.label("verified"))
            .outerjoin(window, window.c.guard_id == Guard.id))


def verified_item_ids(*, now: datetime, watch_window_days: int, sql: str) -> Select:
    """Ids of the items whose guard stayed alive through their watch window (for outcome
    filters and counts): only items done for longer than the window are looked at."""
    decided = select(PreventionItem.id).where(
        PreventionItem.status == PreventionStatus.DONE,
        PreventionItem.completed_at <= now - timedelta(days=watch_window_days))
    window = _through_window(evidence(now, decided), watch_window_days, sql)
    return (select(Guard.prevention_item_id)
            .join(window, window.c.guard_id == Guard.id)
            .join(PreventionItem, PreventionItem.id == Guard.prevention_item_id)
            .outerjoin(GuardSettings, GuardSettings.team_id == PreventionItem.owner_team_id)
            .where(_verified(window, watch_window_days)))


def items_in_health(session: Session, *, health: str, now: datetime,
                    watch_window_days: int) -> Select:
    """Ids of the items whose guard is in `health` now; `broken`: done items flagged for a
    failing, stale or test-missing guard (the board's filter)."""
    found = guarded_items(session, now=now, watch_window_days=watch_window_days,
                          with_verified=False).subquery()
    if health == "broken":
        return select(found.c.item_id).where(
            found.c.health.in_([h.value for h in BROKEN]),
            found.c.item_id.in_(select(PreventionItem.id).where(
                PreventionItem.status == PreventionStatus.DONE)))
    return select(found.c.item_id).where(found.c.health == Health(health).value)


@dataclass(frozen=True)
class GuardView:
    """What a page or the API shows of an item's guard and outcome."""

    health: Health | None  # None: the item has no guard
    last_run_at: datetime | None
    last_passed_at: datetime | None
    days: int  # N for this guard
    verified: bool  # stayed alive through the watch window (what makes an item held)
    outcome: Outcome | None
    flagged: bool  # a done item whose guard is failing, stale or missing its test


def views(*, session: Session, items: list[PreventionItem], now: datetime,
          watch_window_days: int) -> dict[int, GuardView]:
    """Health and outcome of each item's guard, in one statement whatever the number."""
    if not items:
        return {}
    ids = [item.id for item in items]
    rows = session.execute(
        guarded_items(session, now=now, watch_window_days=watch_window_days, item_ids=ids)
        .where(PreventionItem.id.in_(ids))).mappings()
    found = {row["item_id"]: row for row in rows}
    result = {}
    for item in items:
        row = found[item.id]
        health = Health(row["health"]) if row["health"] else None
        verified = bool(row["verified"])
        done = item.status == PreventionStatus.DONE
        result[item.id] = GuardView(
            health=health, last_run_at=row["last_run_at"], last_passed_at=row["last_passed_at"],
            days=int(row["days"] or DEFAULT_STALE_AFTER_DAYS), verified=verified,
            outcome=item.outcome_at(now, watch_window_days, guard_verified=verified),
            flagged=done and health in BROKEN)
    return result


def view(*, session: Session, item: PreventionItem, now: datetime,
         watch_window_days: int) -> GuardView:
    return views(session=session, items=[item], now=now,
                 watch_window_days=watch_window_days)[item.id]
