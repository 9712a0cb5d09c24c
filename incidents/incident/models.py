from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import DDL, ForeignKey, Index, String, Text, UniqueConstraint, event
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


class IncidentSearch(Base):
    """The words search reads for one incident, written by incidents.incident.search.

    Three sections, each distinct lower-case words separated by spaces: the incident's own
    (title, description, service; replaced when they change), the review's write-up (replaced
    on save) and the timeline's (added to, never taken from, like the timeline itself). The
    database indexes them: a GIN index on PostgreSQL, an FTS5 table on SQLite (SEARCH_DDL).
    """

    __tablename__ = "incident_search"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    incident_terms: Mapped[str] = mapped_column(Text, default="")
    review_terms: Mapped[str] = mapped_column(Text, default="")
    timeline_terms: Mapped[str] = mapped_column(Text, default="")


# The words as a tsvector, taken as they are (already lower-cased and split). A query must
# spell this expression exactly as the index does for PostgreSQL to use the index.
SEARCH_VECTOR = ("array_to_tsvector(array_remove(string_to_array("
                 "incident_terms || ' ' || review_terms || ' ' || timeline_terms, ' '), ''))")
SEARCH_FTS_TABLE = "incident_search_fts"
_FTS_COLUMNS = "incident_terms, review_terms, timeline_terms"
_FTS_NEW = "new.incident_terms, new.review_terms, new.timeline_terms"
_FTS_OLD = "old.incident_terms, old.review_terms, old.timeline_terms"

# The index each database keeps itself, beside the table (migration 0011 writes the same).
SEARCH_DDL = {
    "postgresql": [
        f"CREATE INDEX ix_incident_search_terms ON incident_search USING gin ({SEARCH_VECTOR})",
    ],
    "sqlite": [
        # External content: FTS5 keeps only the index; the words stay in incident_search.
        f"CREATE VIRTUAL TABLE {SEARCH_FTS_TABLE} USING fts5({_FTS_COLUMNS}, "
        "content='incident_search', content_rowid='incident_id', "
        "tokenize='unicode61 remove_diacritics 0')",
        f"CREATE TRIGGER incident_search_ai AFTER INSERT ON incident_search BEGIN "
        f"INSERT INTO {SEARCH_FTS_TABLE}(rowid, {_FTS_COLUMNS}) "
        f"VALUES (new.incident_id, {_FTS_NEW}); END",
        f"CREATE TRIGGER incident_search_ad AFTER DELETE ON incident_search BEGIN "
        f"INSERT INTO {SEARCH_FTS_TABLE}({SEARCH_FTS_TABLE}, rowid, {_FTS_COLUMNS}) "
        f"VALUES ('delete', old.incident_id, {_FTS_OLD}); END",
        f"CREATE TRIGGER incident_search_au AFTER UPDATE ON incident_search BEGIN "
        f"INSERT INTO {SEARCH_FTS_TABLE}({SEARCH_FTS_TABLE}, rowid, {_FTS_COLUMNS}) "
        f"VALUES ('delete', old.incident_id, {_FTS_OLD}); "
        f"INSERT INTO {SEARCH_FTS_TABLE}(rowid, {_FTS_COLUMNS}) "
        f"VALUES (new.incident_id, {_FTS_NEW}); END",
    ],
}

for _dialect, _statements in SEARCH_DDL.items():
    for _statement in _statements:
        event.listen(IncidentSearch.__table__, "after_create",
                     DDL(_statement).execute_if(dialect=_dialect))
event.listen(IncidentSearch.__table__, "before_drop",
             DDL(f"DROP TABLE IF EXISTS {SEARCH_FTS_TABLE}").execute_if(dialect="sqlite"))


def described_by_models(name: str | None, type_: str) -> bool:
    """False for what the database keeps beside the models (the search index), so schema
    comparisons (Alembic's, the tests') leave it alone."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_FTS_TABLE)
    return name != "ix_incident_search_terms"
