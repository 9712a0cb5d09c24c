from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from incidents.db import Base, UTCDateTime, utcnow


class SenderSettings(Base):
    """Per paging tool: default severity, default team, which service maps to which team, and
    when its incidents count as gone quiet."""

    __tablename__ = "sender_settings"

    sender: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    default_severity: Mapped[str] = mapped_column(String(4), default="SEV3")
    default_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    service_teams: Mapped[dict] = mapped_column(JSON, default=dict)  # service name -> team name
    # Hours without a firing alert after which an open incident of this sender is stale;
    # None: never.
    stale_after_hours: Mapped[int | None] = mapped_column()
    resolve_stale: Mapped[bool] = mapped_column(default=False)  # the admin rule: resolve them
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PagingSignal(Base):
    """When a paging tool last said an incident's alerts still fire.

    Written at every delivery that carries a firing alert (repeats included), so an incident
    whose sender went quiet — a resolve lost to a silence or an outage — can be told apart from
    a long outage that is still being reported.
    """

    __tablename__ = "paging_signals"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    sender: Mapped[str] = mapped_column(String(40))
    last_firing_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
