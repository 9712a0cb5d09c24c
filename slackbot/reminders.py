"""Remind owner teams of overdue prevention items, once a day each, from any number of hosts.

`flask remind` only queues: each item is claimed with a conditional UPDATE (`last_reminded_at`
empty or before today) and the row count says who won, and in the same transaction the
claimed items of a team become one `slack.reminder` job, which the worker posts. Two runs at
the same moment claim each item once, so each reminder is queued, and posted, once; a post
Slack refuses stays in the outbox (retried, or dead with its reason on the admin page).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from incidents.auth.models import Team
from incidents.db import utcnow
from incidents.outbox import service as outbox
from incidents.prevention.models import PreventionItem, PreventionLink

REMINDER = "slack.reminder"


@dataclass
class Summary:
    queued: dict[str, int] = field(default_factory=dict)  # team → items to remind of
    no_channel: list[str] = field(default_factory=list)


def _not_reminded_since(start: datetime):
    return or_(PreventionItem.last_reminded_at.is_(None),
               PreventionItem.last_reminded_at < start)


def _day_start(today: date) -> datetime:
    return datetime.combine(today, time.min, tzinfo=UTC)


def overdue_items(*, session: Session, today: date) -> list[PreventionItem]:
    """Overdue items not reminded today, whatever their incident's state, by team."""
    return list(session.scalars(
        select(PreventionItem).join(Team, PreventionItem.owner_team_id == Team.id)
        .where(PreventionItem.is_overdue(today), _not_reminded_since(_day_start(today)))
        .order_by(Team.name, PreventionItem.due_date, PreventionItem.id)))


def claim(*, session: Session, item_ids: list[int], today: date, now: datetime) -> list[int]:
    """Mark the items reminded today; return those this run claimed (not another run)."""
    claimed = session.scalars(
        update(PreventionItem)
        .where(PreventionItem.id.in_(item_ids), _not_reminded_since(_day_start(today)))
        # A reminder is not an edit of the item: leave updated_at as it was.
        .values(last_reminded_at=now, updated_at=PreventionItem.updated_at)
        .returning(PreventionItem.id)
        .execution_options(synchronize_session=False))
    return sorted(claimed)


def queue_reminders(*, session: Session, today: date | None = None) -> Summary:
    """Queue one reminder per owner team with a channel, listing its overdue items.

    One transaction per team: its claims and its job commit together.
    """
    today = today or utcnow().date()
    summary = Summary()
    teams: dict[int, tuple[str, str | None, list[int]]] = {}
    for item in overdue_items(session=session, today=today):
        team = item.owner_team
        teams.setdefault(team.id, (team.name, team.slack_channel_id, []))[2].append(item.id)
    session.commit()
    for team_id, (name, channel, item_ids) in teams.items():
        if not channel:
            summary.no_channel.append(name)
            continue
        claimed = claim(session=session, item_ids=item_ids, today=today, now=utcnow())
        if claimed:
            outbox.enqueue(session=session, kind=REMINDER,
                           key=f"team:{team_id}:{today.isoformat()}:" + ",".join(map(str, claimed)),
                           payload={"team": name, "channel": channel, "items": claimed})
            summary.queued[name] = len(claimed)
        session.commit()
    return summary


def still_overdue(*, session: Session, item_ids: list[int]
                  ) -> list[tuple[PreventionItem, list[int]]]:
    """The items still overdue today, each with the incidents it serves."""
    items = list(session.scalars(
        select(PreventionItem).where(PreventionItem.id.in_(item_ids),
                                     PreventionItem.is_overdue(utcnow().date()))
        .order_by(PreventionItem.due_date, PreventionItem.id)))
    served: dict[int, list[int]] = defaultdict(list)
    for item_id, incident_id in session.execute(
            select(PreventionLink.prevention_item_id, PreventionLink.incident_id)
            .where(PreventionLink.prevention_item_id.in_(item_ids))
            .order_by(PreventionLink.incident_id)):
        served[item_id].append(incident_id)
    return [(item, served.get(item.id, [])) for item in items]
