"""Changes: what was merged and deployed, where its facts came from, and how its origin was
decided; the approvals counted for it; the admin's attribution rules; changes confirmed as an
incident's trigger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.db import Base, UTCDateTime, utcnow
from incidents.incident.models import ChangeOrigin

if TYPE_CHECKING:
    from incidents.incident.models import Incident


class Change(Base):
    """One change of a repository, identified by the commit it landed as.

    A merged pull request and a later deployment of its merge commit are one row: the
    (repository, revision) constraint joins them whatever order their deliveries arrive in.
    A fact nobody reported stays NULL (unknown), never a guess: no approvals recorded is not
    zero approvals.
    """

    __tablename__ = "changes"
    __table_args__ = (
        UniqueConstraint("repository", "revision"),
        # Suspects: a service's changes deployed in a window before an incident started.
        Index("ix_changes_service_deployed_at", "service", "deployed_at"),
        # The report's denominator: changes deployed in a period.
        Index("ix_changes_deployed_at", "deployed_at"),
        # Reviews and approvals name the pull request, not the commit.
        Index("ix_changes_repository_number", "repository", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    repository: Mapped[str] = mapped_column(String(200))  # owner/name, or the service
    # The merge commit's SHA, lower-case; "version:<v>" when a sender names only a version.
    revision: Mapped[str] = mapped_column(String(255))
    service: Mapped[str | None] = mapped_column(String(200))  # known once deployed
    environment: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str | None] = mapped_column(String(2000))
    number: Mapped[int | None]  # pull / merge request number
    author: Mapped[str | None] = mapped_column(String(200))
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deployed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first production deploy
    approvals: Mapped[int | None]
    checks_passed: Mapped[bool | None]
    failing_checks: Mapped[list] = mapped_column(JSON, default=list)  # required checks failing
    canary: Mapped[bool | None]
    squashed: Mapped[bool | None]
    labels: Mapped[list] = mapped_column(JSON, default=list)
    trailers: Mapped[list] = mapped_column(JSON, default=list)  # "Key: value" lines
    components: Mapped[list] = mapped_column(JSON, default=list)
    declared_origin: Mapped[ChangeOrigin | None] = mapped_column(String(20))  # the sender's word
    sources: Mapped[list] = mapped_column(JSON, default=list)  # github, gitlab, changes
    origin: Mapped[ChangeOrigin] = mapped_column(String(20), default=ChangeOrigin.UNKNOWN,
                                                 index=True)
    origin_reason: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list] = mapped_column(JSON, default=list)  # every signal seen, in words
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def short(self) -> str:
        """How people name the change: the short SHA, or the version."""
        if self.revision.startswith("version:"):
            return self.revision[len("version:"):]
        return self.revision[:8]

    @property
    def display_service(self) -> str:
        return self.service or self.repository.rsplit("/", 1)[-1]


class ChangeApproval(Base):
    """A reviewer's standing on a pull / merge request: approved, or not (any more).

    One row per reviewer, moved only forward in time, so redelivered or out-of-order review
    events settle on the reviewer's latest word.
    """

    __tablename__ = "change_approvals"
    __table_args__ = (UniqueConstraint("repository", "number", "reviewer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repository: Mapped[str] = mapped_column(String(200))
    number: Mapped[int]
    reviewer: Mapped[str] = mapped_column(String(200))
    approved: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class RuleField(StrEnum):
    """What an attribution rule looks at."""

    LABEL = "label"
    AUTHOR = "author"
    TRAILER = "trailer"
    TITLE = "title"
    REPOSITORY = "repository"
    SERVICE = "service"


class ChangeRule(Base):
    """An admin's attribution rule: when `field` matches `pattern`, the change is `origin`.

    Rules are tried in `position` order; the first match decides.
    """

    __tablename__ = "change_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    field: Mapped[RuleField] = mapped_column(String(20))
    pattern: Mapped[str] = mapped_column(String(200))
    origin: Mapped[ChangeOrigin] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncidentChange(Base):
    """A change confirmed as (one of) the trigger(s) of an incident."""

    __tablename__ = "incident_changes"
    __table_args__ = (UniqueConstraint("incident_id", "change_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"),
                                           index=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_by_label: Mapped[str] = mapped_column(String(200), default="")
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship()
    change: Mapped[Change] = relationship()
