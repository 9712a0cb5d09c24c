from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from incidents.db import Base, UTCDateTime, utcnow


class Delivery(Base):
    """A delivery from a sender (paging tool or Slack), recorded once.

    The unique (sender, delivery_key) constraint is what makes retries and concurrent
    duplicates harmless: the second insert fails and its transaction rolls back whole.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("sender", "delivery_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(40))
    delivery_key: Mapped[str] = mapped_column(String(255))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SenderSettings(Base):
    """Per paging tool: default severity, default team, and which service maps to which team."""

    __tablename__ = "sender_settings"

    sender: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    default_severity: Mapped[str] = mapped_column(String(4), default="SEV3")
    default_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    service_teams: Mapped[dict] = mapped_column(JSON, default=dict)  # service name -> team name
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
