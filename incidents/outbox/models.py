from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from incidents.db import Base, UTCDateTime, utcnow


class JobState(StrEnum):
    QUEUED = "queued"  # waiting, running (leased) or retrying (attempts > 0)
    DONE = "done"
    DEAD = "dead"  # given up: the reason is in last_error; an admin may retry it
    DISCARDED = "discarded"  # an admin dropped a dead job; kept so its key stays taken


class OutboxJob(Base):
    """One thing to tell the outside world, written in the transaction of the change it follows.

    The unique (kind, key) makes queueing an intent twice harmless. A worker claims a due row
    by setting a lease (`leased_until`, `leased_by`) and renews it while the job runs; a
    worker that dies stops renewing, and once the lease runs out another worker takes it.
    """

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        Index("ix_outbox_jobs_state_available_at", "state", "available_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[JobState] = mapped_column(String(10), default=JobState.QUEUED)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def retrying(self) -> bool:
        return self.state == JobState.QUEUED and self.attempts > 0 and bool(self.last_error)
