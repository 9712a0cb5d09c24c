"""Record each delivery from the outside world once: the one exactly-once door for every sender.

Paging tools, Slack's Events API, trackers and CI all come through here. A unique (sender,
delivery_key) constraint decides, never a look-up first, so a retry or a hundred concurrent
copies of one delivery find exactly one of them recorded. The caller commits the record
together with the work it stands for: a rolled-back delivery is not recorded, and its sender's
retry is applied, not answered "duplicate".
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from incidents.db import utcnow
from incidents.inbox.models import Delivery
from incidents.once import insert_once

MAX_KEY = 255


def body_key(raw: bytes) -> str:
    """The delivery key of a sender without delivery ids: the SHA-256 of the raw body."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def fit_key(key: str) -> str:
    """A key the column holds: NULs dropped, a longer one replaced by its SHA-256."""
    key = key.replace("\x00", "")
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def record_once(*, session: Session, sender: str, key: str,
                incident_id: int | None = None) -> bool:
    """Record the delivery in the caller's transaction; False when it was recorded before.

    A concurrent insert of the same key waits for the other transaction, then is refused.
    """
    return session.scalar(
        insert_once(session, Delivery, "sender", "delivery_key", returning=Delivery.id),
        {"sender": sender, "delivery_key": fit_key(key), "received_at": utcnow(),
         "incident_id": incident_id}) is not None


def recorded(*, session: Session, sender: str, key: str) -> Delivery | None:
    """The delivery recorded under this key, if any (to say what a duplicate belonged to)."""
    return session.scalar(select(Delivery).where(Delivery.sender == sender,
                                                 Delivery.delivery_key == fit_key(key)))


def attach(*, session: Session, sender: str, key: str, incident_id: int) -> None:
    """Name the incident a recorded delivery turned out to concern."""
    session.execute(update(Delivery).where(Delivery.sender == sender,
                                           Delivery.delivery_key == fit_key(key))
                    .values(incident_id=incident_id))


def latest(*, session: Session, sender: str, limit: int = 20) -> list[Delivery]:
    """The sender's most recent deliveries, newest first."""
    return list(session.scalars(
        select(Delivery).where(Delivery.sender == sender)
        .order_by(Delivery.id.desc()).limit(limit)))
