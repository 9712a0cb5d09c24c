from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from incidents.db import Base, UTCDateTime, utcnow


class Delivery(Base):
    """A delivery from any sender (a paging tool, Slack, a tracker, CI), recorded once.

    The unique (sender, delivery_key) constraint is what makes retries and concurrent
    duplicates harmless: the second insert is refused and changes nothing.
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


class RejectedDelivery(Base):
    """A delivery a hook refused (bad token or signature, bad shape, too large), kept so an
    admin can see why a sender's events never arrived. Only the newest few per sender are kept.
    """

    __tablename__ = "rejected_deliveries"
    __table_args__ = (Index("ix_rejected_deliveries_sender_id", "sender", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(40))
    status: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
