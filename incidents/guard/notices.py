"""Telling a done item's owner team, once per transition, that its guard broke.

Health changes with new runs and with the clock alone (a check that stops running goes stale
without any event), so transitions are looked for after every CI delivery (for the items it
concerns) and by `flask --app app guards check` (every item; run it from cron like `remind`).
Each transition into failing, stale or test missing is claimed by a conditional UPDATE on the
guard (`announced_health`), so any number of checkers on any number of hosts tell it once;
back to alive clears the claim, so the next break is a new transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from incidents.guard import health as guard_health
from incidents.guard.models import BROKEN, Guard, Health
from incidents.outbox import service as outbox
from incidents.prevention.models import PreventionItem, PreventionStatus

KIND = "slack.guard_health"


@dataclass(frozen=True)
class Transition:
    item_id: int
    guard_id: int
    health: Health
    sequence: int  # the guard's n-th announcement: the notice's key
    days: int  # N, for the message ("nothing ran it in 14 days")
    team_id: int | None  # who is told; nobody when the item has no owner team

    @property
    def key(self) -> str:
        return f"guard-health:{self.guard_id}:{self.sequence}"


def _claim(session: Session, guard_id: int, health: Health) -> int | None:
    """Mark this health announced; its sequence number, or None when another got there."""
    return session.scalar(
        update(Guard)
        .where(Guard.id == guard_id,
               or_(Guard.announced_health.is_(None), Guard.announced_health != health.value))
        .values(announced_health=health.value, announcements=Guard.announcements + 1)
        .returning(Guard.announcements)
        .execution_options(synchronize_session=False))


def _clear(session: Session, guard_ids: list[int]) -> None:
    if guard_ids:
        session.execute(update(Guard).where(Guard.id.in_(guard_ids),
                                            Guard.announced_health.is_not(None))
                        .values(announced_health=None)
                        .execution_options(synchronize_session=False))


def check(*, session: Session, now: datetime, watch_window_days: int,
          item_ids: list[int] | None = None) -> list[Transition]:
    """Find done items whose guard broke since their team was last told, and tell them."""
    if item_ids is not None and not item_ids:
        return []
    query = (guard_health.guarded_items(session, now=now, watch_window_days=watch_window_days,
                                        item_ids=item_ids, with_verified=False)
             .add_columns(Guard.announced_health, PreventionItem.owner_team_id)
             .where(PreventionItem.status == PreventionStatus.DONE, Guard.id.is_not(None)))
    if item_ids is not None:
        query = query.where(PreventionItem.id.in_(item_ids))
    told, recovered = [], []
    for row in session.execute(query).mappings():
        health = Health(row["health"])
        if health in BROKEN and row["announced_health"] != health.value:
            sequence = _claim(session, row["guard_id"], health)
            if sequence is not None:
                transition = Transition(row["item_id"], row["guard_id"], health, sequence,
                                        int(row["days"]), row["owner_team_id"])
                announce(session=session, transition=transition)
                told.append(transition)
        elif health == Health.ALIVE and row["announced_health"] is not None:
            recovered.append(row["guard_id"])
    _clear(session, recovered)
    return told


def announce(*, session: Session, transition: Transition) -> None:
    """Queue the owner team's Slack notice in the caller's transaction (the durable outbox);
    keyed by the transition, so it is queued once however many checkers found it."""
    if transition.team_id is None:
        return  # no owner team to tell; the board, item page and review still flag it
    outbox.enqueue(session=session, kind=KIND, key=transition.key, payload={
        "item_id": transition.item_id, "guard_id": transition.guard_id,
        "health": transition.health.value, "days": transition.days})
