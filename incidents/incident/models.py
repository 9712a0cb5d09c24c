from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from incidents.auth.models import Team, User
    from incidents.timeline.models import TimelineEvent


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class Status(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Source(StrEnum):
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    ALERTMANAGER = "alertmanager"
    OPSGENIE = "opsgenie"
    GRAFANA = "grafana"
    API = "api"
    WEB = "web"
    GENERIC = "generic"


class DetectionMethod(StrEnum):
    ALERT = "alert"
    CUSTOMER_REPORT = "customer_report"
    INTERNAL_REPORT = "internal_report"
    AUTOMATED_TEST = "automated_test"
    OTHER = "other"
    UNKNOWN = "unknown"


class ChangeOrigin(StrEnum):
    HUMAN = "human"
    AI_ASSISTED = "ai_assisted"
    CONFIG = "config"
    THIRD_PARTY = "third_party"
    UNKNOWN = "unknown"


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        # One open incident per sender dedup key. open_dedup_key is cleared on resolve, and
        # NULLs never collide, so a later trigger with the same key opens a fresh incident.
        UniqueConstraint("source", "open_dedup_key"),
        Index("ix_incidents_status_id", "status", "id"),
        Index("ix_incidents_service_id", "service", "id"),
        Index("ix_incidents_started_at", "started_at"),
        # Recurrence candidates: a service's (a dedup key's) incidents newest first, walked
        # back from a start time.
        Index("ix_incidents_service_started_at", "service", "started_at"),
        Index("ix_incidents_dedup_key_started_at", "dedup_key", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[Severity] = mapped_column(String(4), default=Severity.SEV3)
    status: Mapped[Status] = mapped_column(String(20), default=Status.INVESTIGATING)
    service: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    source: Mapped[Source] = mapped_column(String(20), default=Source.WEB)
    dedup_key: Mapped[str | None] = mapped_column(String(255), index=True)
    open_dedup_key: Mapped[str | None] = mapped_column(String(255))
    slack_channel_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    slack_channel_name: Mapped[str | None] = mapped_column(String(80))
    detection_method: Mapped[DetectionMethod] = mapped_column(
        String(20), default=DetectionMethod.UNKNOWN
    )
    change_origin: Mapped[ChangeOrigin] = mapped_column(String(20), default=ChangeOrigin.UNKNOWN)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    team: Mapped[Team | None] = relationship()
    declared_by: Mapped[User | None] = relationship()
    events: Mapped[list[TimelineEvent]] = relationship(
        back_populates="incident", order_by="TimelineEvent.occurred_at"
    )

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED
