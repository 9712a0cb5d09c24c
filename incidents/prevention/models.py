from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text, and_
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from incidents.auth.models import Team, User
    from incidents.guard.models import Guard
    from incidents.line.models import Station
    from incidents.tracker.models import TrackerLink


class PreventionKind(StrEnum):
    """Ranked by strength: how structurally the item keeps the defect from coming back."""

    ELIMINATE = "eliminate"
    DETECT = "detect"
    FAIL_LOUDLY = "fail_loudly"
    CONTAIN = "contain"
    LOCAL_FIX = "local_fix"
    ADVICE = "advice"

    @property
    def strength(self) -> int:
        return len(PreventionKind) - 1 - list(PreventionKind).index(self)

    @property
    def structural(self) -> bool:
        return self in STRUCTURAL_KINDS

    @property
    def needs_guard(self) -> bool:
        return self in GUARDED_KINDS


STRUCTURAL_KINDS = frozenset(
    {
        PreventionKind.ELIMINATE,
        PreventionKind.DETECT,
        PreventionKind.FAIL_LOUDLY,
        PreventionKind.CONTAIN,
    }
)
# Items that claim a check exists must name it before they count as done.
GUARDED_KINDS = frozenset(
    {PreventionKind.ELIMINATE, PreventionKind.DETECT, PreventionKind.FAIL_LOUDLY}
)


class PreventionStatus(StrEnum):
    PROPOSED = "proposed"
    COMMITTED = "committed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


CLOSED_STATUSES = (PreventionStatus.DONE, PreventionStatus.DROPPED)


class Outcome(StrEnum):
    WATCHING = "watching"
    HELD = "held"  # no recurrence through the watch window, and its guard stayed alive
    ESCAPED = "escaped"
    UNVERIFIED = "unverified"  # no recurrence, but nothing proved its guard ran throughout


class PreventionItem(Base):
    __tablename__ = "prevention_items"
    __table_args__ = (Index("ix_prevention_items_status_due", "status", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[PreventionKind] = mapped_column(String(20), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    tracker_url: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[PreventionStatus] = mapped_column(String(20), default=PreventionStatus.PROPOSED)
    dropped_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escaped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escaped_by_incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    # Reminder claim: a conditional UPDATE on this column lets one host of many send it.
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The one person doing it, within the owner team (the team stays the owner).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Optimistic concurrency, as reviews do: every change moves it on, and an edit names the
    # revision it started from (prevention.service.claim), so a stale edit is refused.
    revision: Mapped[int] = mapped_column(default=0)

    station: Mapped[Station | None] = relationship()
    owner_team: Mapped[Team | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    links: Mapped[list[PreventionLink]] = relationship(viewonly=True,
                                                       order_by="PreventionLink.incident_id")
    tracker_link: Mapped[TrackerLink | None] = relationship(viewonly=True)
    # Loaded with every item in one more statement, whatever the number of items.
    guard: Mapped[Guard | None] = relationship(back_populates="item", lazy="selectin",
                                               cascade="all, delete-orphan")

    @property
    def guard_url(self) -> str | None:
        """The guard's link (the API's `guard_url`, kept for the clients that send it)."""
        return self.guard.url if self.guard else None

    @property
    def strength(self) -> int:
        return PreventionKind(self.kind).strength

    @property
    def structural(self) -> bool:
        return PreventionKind(self.kind).structural

    @property
    def incident_ids(self) -> list[int]:
        return [link.incident_id for link in self.links]

    @hybrid_method
    def is_overdue(self, today: date) -> bool:
        """Past its due date and still open (done and dropped items are never overdue).

        The one home of the rule: on an item, and as SQL (`PreventionItem.is_overdue(today)`)
        for the board's filter, the report's count and the reminders.
        """
        return (self.status not in CLOSED_STATUSES and self.due_date is not None
                and self.due_date < today)

    @is_overdue.inplace.expression
    @classmethod
    def _is_overdue_sql(cls, today: date):
        # The explicit NOT NULL keeps the negation ("not overdue") true for items with no date.
        return and_(cls.due_date.is_not(None), cls.due_date < today,
                    cls.status.not_in([str(s) for s in CLOSED_STATUSES]))

    def outcome_at(self, now: datetime, watch_window_days: int, *,
                   guard_verified: bool) -> Outcome | None:
        """Whether the poka-yoke held, computed from timestamps; None while not done.

        `guard_verified`: the guard stayed alive through the watch window (guard.health).
        Mirrors `prevention.service.outcome_clause`, which filters and counts the same in SQL.
        """
        if self.escaped_at is not None:
            return Outcome.ESCAPED
        if self.status != PreventionStatus.DONE or self.completed_at is None:
            return None
        if self.completed_at > now - timedelta(days=watch_window_days):
            return Outcome.WATCHING
        return Outcome.HELD if guard_verified else Outcome.UNVERIFIED


class PreventionLink(Base):
    """An item serves one or more incidents (through their reviews)."""

    __tablename__ = "prevention_links"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    prevention_item_id: Mapped[int] = mapped_column(
        ForeignKey("prevention_items.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
