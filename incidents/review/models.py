from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from incidents.auth.models import User
    from incidents.incident.models import Incident
    from incidents.line.models import Station


class ReviewState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    # An optional review nobody will write, with the reason (incidents/review/policy.py).
    SKIPPED = "skipped"


class DefectClass(StrEnum):
    LOGIC = "logic"
    CONTRACT = "contract"
    CONFIGURATION = "configuration"
    DEPENDENCY = "dependency"
    CAPACITY = "capacity"
    DATA = "data"
    DEPLOYMENT = "deployment"
    THIRD_PARTY = "third_party"
    OBSERVABILITY = "observability"
    OTHER = "other"


class MissReason(StrEnum):
    """Why a station that could have caught the defect did not."""

    NO_CHECK = "no_check"
    NOT_COVERED = "not_covered"
    BYPASSED = "bypassed"
    SIGNAL_MISSED = "signal_missed"
    FLAKY = "flaky"


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[ReviewState] = mapped_column(String(20), default=ReviewState.DRAFT, index=True)
    markdown: Mapped[str] = mapped_column(Text, default="")
    defect_class: Mapped[DefectClass | None] = mapped_column(String(20), index=True)
    # Optimistic concurrency: a save names the revision it started from.
    revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Derived when the write-up or a finding's note is saved, so no page view renders
    # Markdown or runs the blame guard: the sanitised HTML, and the guard's flags (dicts with
    # `where`). NULL on rows from before migration 0005 until the next save or
    # `flask --app app reviews refresh`; reads compute them meanwhile.
    html: Mapped[str | None] = mapped_column(Text)
    blame_flags: Mapped[list | None] = mapped_column(JSON)
    # Sign-off (incidents/review/signoff.py): who was asked to review it, and who approved
    # which revision; an approval holds until the review is saved again.
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_revision: Mapped[int | None]
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A skipped review (state SKIPPED): why, by whom, when.
    skip_reason: Mapped[str | None] = mapped_column(Text)
    skipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    skipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship()
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    findings: Mapped[list[StationFinding]] = relationship(
        back_populates="review", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[ReviewRevision]] = relationship(
        back_populates="review", order_by="ReviewRevision.revision"
    )
    kept_flags: Mapped[list[KeptBlameFlag]] = relationship(
        back_populates="review", cascade="all, delete-orphan"
    )


class ReviewRevision(Base):
    """Every save of a review: who, when, what. (review_id, revision) is unique, so two saves
    from the same starting revision cannot both land."""

    __tablename__ = "review_revisions"
    __table_args__ = (UniqueConstraint("review_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    revision: Mapped[int]
    markdown: Mapped[str] = mapped_column(Text)
    defect_class: Mapped[DefectClass | None] = mapped_column(String(20))
    state: Mapped[ReviewState] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who saved when it was not a signed-in user: "token:<name>", a Slack handle.
    author_label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    html: Mapped[str | None] = mapped_column(Text)  # rendered at save time, like the review's

    review: Mapped[Review] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()


class StationFinding(Base):
    """A station that should have caught the defect, and why it did not."""

    __tablename__ = "station_findings"
    __table_args__ = (
        UniqueConstraint("review_id", "station_id"),
        # At most one cheapest station per review, whatever writes at once.
        Index("uq_station_findings_one_cheapest", "review_id", unique=True,
              sqlite_where=text("cheapest"), postgresql_where=text("cheapest")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    reason: Mapped[MissReason] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    cheapest: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The station's name when the review was published: renaming the station later does not
    # rewrite what a published review says. NULL while the review is a draft or in review.
    published_station_name: Mapped[str | None] = mapped_column(String(120))

    review: Mapped[Review] = relationship(back_populates="findings")
    station: Mapped[Station] = relationship()

    @property
    def station_name(self) -> str:
        """The name the review shows: as published, or the station's current one."""
        return self.published_station_name or self.station.name


class KeptBlameFlag(Base):
    """A blame flag the reviewer chose to keep, with the reason; keyed by rule and phrase."""

    __tablename__ = "kept_blame_flags"
    __table_args__ = (UniqueConstraint("review_id", "rule", "phrase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(60))
    phrase: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    kept_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    review: Mapped[Review] = relationship(back_populates="kept_flags")
