from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from incidents.auth.models import User
    from incidents.incident.models import Incident


class EventKind(StrEnum):
    ALERT = "alert"
    STATUS_CHANGE = "status_change"
    NOTE = "note"
    MESSAGE = "message"
    ACTION = "action"
    DEPLOY = "deploy"
    RESOLUTION = "resolution"


class TimelineEvent(Base):
    """One entry on an incident's timeline. Append-only: edits keep the earlier text."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        # A sender's event (an alert fingerprint, a Slack message ts) lands once per incident,
        # enforced here rather than by checking first, so concurrent retries cannot double it.
        UniqueConstraint("incident_id", "external_key"),
        Index("ix_timeline_events_incident_occurred", "incident_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[EventKind] = mapped_column(String(20), default=EventKind.NOTE)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(20), default="web")
    link: Mapped[str | None] = mapped_column(String(2000))
    external_key: Mapped[str | None] = mapped_column(String(255))
    fingerprint: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship(back_populates="events")
    author: Mapped[User | None] = relationship()
    revisions: Mapped[list[TimelineEventRevision]] = relationship(
        back_populates="event", order_by="TimelineEventRevision.id"
    )

    @property
    def edited_by(self) -> str | None:
        """Who last changed the text (each revision records who replaced it), if anyone."""
        if not self.revisions:
            return None
        editor = self.revisions[-1].replaced_by
        return editor.display_name if editor else "someone"


class TimelineEventRevision(Base):
    """An earlier text of an edited timeline event."""

    __tablename__ = "timeline_event_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("timeline_events.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    event: Mapped[TimelineEvent] = relationship(back_populates="revisions")
    replaced_by: Mapped[User | None] = relationship()
