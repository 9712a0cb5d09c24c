from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from incidents.auth.models import Team


class Vendor(StrEnum):
    GITHUB = "github"
    JIRA = "jira"
    LINEAR = "linear"

    @property
    def label(self) -> str:
        return {"github": "GitHub", "jira": "Jira", "linear": "Linear"}[self.value]


class IssueState(StrEnum):
    """A tracker issue's state in the product's words, whatever the vendor calls it."""

    PENDING = "pending"  # asked for, not created yet (or linked, not fetched yet)
    OPEN = "open"  # not started
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"  # closed as done
    NOT_PLANNED = "not_planned"  # closed as won't do / not planned / canceled

    @property
    def closed(self) -> bool:
        return self in (IssueState.COMPLETED, IssueState.NOT_PLANNED)


class Tracker(Base):
    """A team's tracker: where its prevention items are created as issues.

    `project` is the GitHub `owner/repo`, the Jira project key, or the Linear team id.
    The credential is stored encrypted (see `tracker.vault`); empty means the environment's.
    """

    __tablename__ = "trackers"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"),
                                         unique=True)
    vendor: Mapped[Vendor] = mapped_column(String(20))
    project: Mapped[str] = mapped_column(String(200))
    site_url: Mapped[str | None] = mapped_column(String(500))  # Jira: https://acme.atlassian.net
    issue_type: Mapped[str | None] = mapped_column(String(100))  # Jira: Task, Bug, …
    credential: Mapped[str | None] = mapped_column(Text)
    credential_hint: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    team: Mapped[Team] = relationship()

    @property
    def vendor_label(self) -> str:
        return Vendor(self.vendor).label


class TrackerLink(Base):
    """A prevention item's issue in a tracker, and the issue's last known state.

    One per item. `reference` is the vendor's stable id (GitHub `owner/repo#12`, the Jira
    issue id, the Linear issue UUID) and is unique per vendor, so one issue feeds one item.
    `creation_id` is fixed when creation is requested and travels with the issue (a marker,
    a label, Linear's client-chosen id), so a retried creation finds the issue it made.
    """

    __tablename__ = "tracker_links"
    __table_args__ = (UniqueConstraint("vendor", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prevention_item_id: Mapped[int] = mapped_column(
        ForeignKey("prevention_items.id", ondelete="CASCADE"), unique=True)
    tracker_id: Mapped[int | None] = mapped_column(
        ForeignKey("trackers.id", ondelete="SET NULL"), index=True)
    vendor: Mapped[Vendor] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    site_url: Mapped[str | None] = mapped_column(String(500))  # Jira: the site it lives on
    creation_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[IssueState] = mapped_column(String(20), default=IssueState.PENDING)
    state_name: Mapped[str | None] = mapped_column(String(100))  # the vendor's own words
    assignee: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The issue's own last-change time: an older event arriving late changes nothing.
    vendor_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drift: Mapped[str | None] = mapped_column(Text)  # what sync could not resolve
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tracker: Mapped[Tracker | None] = relationship()

    @property
    def vendor_label(self) -> str:
        return Vendor(self.vendor).label
