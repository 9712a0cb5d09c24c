"""Remind owner teams of overdue prevention items, once a day each, from any number of hosts.

Each item is claimed with a conditional UPDATE (`last_reminded_at` empty or before today)
and the row count says who won: two `flask remind` runs at the same moment send each
reminder once. The claim is committed before Slack is called; a failed post gives it back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from incidents.appdb import new_session
from incidents.auth.models import Team
from incidents.db import utcnow
from incidents.prevention.models import PreventionItem, PreventionLink, PreventionStatus
from slackbot.blocks import build_reminder
from slackbot.client import SLACK_FAILURES, describe_failure, web_client

CLOSED = (PreventionStatus.DONE, PreventionStatus.DROPPED)


@dataclass
class Summary:
    sent: dict[str, int] = field(default_factory=dict)  # team → items reminded
    no_channel: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # team → why


def _not_reminded_since(start: datetime):
    return or_(PreventionItem.last_reminded_at.is_(None),
               PreventionItem.last_reminded_at < start)


def overdue_items(*, session: Session, today: date) -> list[PreventionItem]:
    """Open items past their due date and not reminded today, whatever their incident's state."""
    start = datetime.combine(today, time.min, tzinfo=UTC)
    return list(session.scalars(
        select(PreventionItem).join(Team, PreventionItem.owner_team_id == Team.id)
        .where(PreventionItem.due_date < today, PreventionItem.status.not_in(CLOSED),
               _not_reminded_since(start))
        .order_by(Team.name, PreventionItem.due_date, PreventionItem.id)))


def claim(*, session: Session, item_id: int, today: date, now: datetime) -> bool:
    """Mark the item reminded today; False when another run got there first."""
    start = datetime.combine(today, time.min, tzinfo=UTC)
    result = session.execute(
        update(PreventionItem)
        .where(PreventionItem.id == item_id, _not_reminded_since(start))
        # A reminder is not an edit of the item: leave updated_at as it was.
        .values(last_reminded_at=now, updated_at=PreventionItem.updated_at)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _release(item_ids: list[int], now: datetime) -> None:
    with new_session() as session:
        session.execute(
            update(PreventionItem)
            .where(PreventionItem.id.in_(item_ids), PreventionItem.last_reminded_at == now)
            .values(last_reminded_at=None, updated_at=PreventionItem.updated_at)
            .execution_options(synchronize_session=False))
        session.commit()


def _incidents_served(session: Session, item_ids: list[int]) -> dict[int, list[int]]:
    served: dict[int, list[int]] = defaultdict(list)
    rows = session.execute(
        select(PreventionLink.prevention_item_id, PreventionLink.incident_id)
        .where(PreventionLink.prevention_item_id.in_(item_ids))
        .order_by(PreventionLink.incident_id))
    for item_id, incident_id in rows:
        served[item_id].append(incident_id)
    return served


def send_reminders(*, today: date | None = None) -> Summary:
    """Post one message per owner team listing its overdue items this run claimed."""
    today = today or utcnow().date()
    summary = Summary()
    teams: dict[int, tuple[str, str | None, list[int]]] = {}
    with new_session() as session:
        for item in overdue_items(session=session, today=today):
            team = item.owner_team
            teams.setdefault(team.id, (team.name, team.slack_channel_id, []))[2].append(item.id)
    for name, channel, item_ids in teams.values():
        if not channel:
            summary.no_channel.append(name)
            continue
        now = utcnow()
        with new_session() as session:
            claimed = [i for i in item_ids
                       if claim(session=session, item_id=i, today=today, now=now)]
            session.commit()
            if not claimed:
                continue
            served = _incidents_served(session, claimed)
            items = [(session.get(PreventionItem, i), served.get(i, [])) for i in claimed]
            text, blocks = build_reminder(name, items, current_app.config["PUBLIC_BASE_URL"])
        try:
            web_client().chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SLACK_FAILURES as exc:
            _release(claimed, now)
            summary.failed[name] = describe_failure(exc)
            continue
        summary.sent[name] = len(claimed)
    return summary
