from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from incidents.db import Base, UTCDateTime, utcnow


class Station(Base):
    """A station of the delivery line and the defect class its check is meant to catch.

    Removing a station only stamps `removed_at`: findings and prevention items that name it
    keep their history, and restoring it clears the stamp.
    """

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The name folded for comparison. Unique over every station, removed ones included, so
    # "Canary" and "canary" cannot both exist and a removed station is restored, never
    # re-added beside its own history. (A column, not an index on lower(name): SQLite's
    # reflection cannot read expression indexes, and casefold is more than lower.)
    name_key: Mapped[str] = mapped_column(String(240), unique=True)  # casefold can grow ß→ss
    position: Mapped[int] = mapped_column(index=True)
    catches: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.removed_at is None

    @validates("name")
    def _fold(self, _key: str, name: str) -> str:
        self.name_key = fold(name)
        return name


def fold(name: str) -> str:
    """The form two station names are compared in: "Code Review" and "code review" are one."""
    return " ".join(name.split()).casefold()
