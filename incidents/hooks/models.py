from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from incidents.db import Base, UTCDateTime, utcnow


class SenderSettings(Base):
    """Per paging tool: default severity, default team, and which service maps to which team."""

    __tablename__ = "sender_settings"

    sender: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    default_severity: Mapped[str] = mapped_column(String(4), default="SEV3")
    default_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    service_teams: Mapped[dict] = mapped_column(JSON, default=dict)  # service name -> team name
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
