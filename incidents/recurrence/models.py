from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from incidents.incident.models import Incident


class RecurrenceLink(Base):
    """A confirmed recurrence: `incident_id` is the same defect class as `earlier_incident_id`."""

    __tablename__ = "recurrence_links"
    __table_args__ = (
        UniqueConstraint("incident_id", "earlier_incident_id"),
        CheckConstraint("incident_id <> earlier_incident_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    earlier_incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    reasons: Mapped[str] = mapped_column(Text, default="")
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(foreign_keys=[incident_id])
    earlier_incident: Mapped[Incident] = relationship(foreign_keys=[earlier_incident_id])


class DismissedCandidate(Base):
    """A suggested recurrence the reviewer said is not one; it is not suggested again."""

    __tablename__ = "dismissed_candidates"
    __table_args__ = (UniqueConstraint("incident_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
