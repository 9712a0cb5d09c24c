"""The review policy an admin sets: per severity, whether a review is required."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from incidents.db import Base, UTCDateTime, utcnow


class Requirement(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    NOT_REQUIRED = "not_required"


class ReviewSettings(Base):
    """One row (id 1) once an admin saves the policy; until then the defaults apply."""

    __tablename__ = "review_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    sev1: Mapped[Requirement] = mapped_column(String(20), default=Requirement.REQUIRED)
    sev2: Mapped[Requirement] = mapped_column(String(20), default=Requirement.REQUIRED)
    sev3: Mapped[Requirement] = mapped_column(String(20), default=Requirement.OPTIONAL)
    sev4: Mapped[Requirement] = mapped_column(String(20), default=Requirement.NOT_REQUIRED)
    # Publishing needs an approval by a reviewer who wrote none of the review's revisions.
    require_approval: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
