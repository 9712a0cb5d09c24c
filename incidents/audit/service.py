from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.audit.models import AuditEntry
from incidents.auth.models import User


def record(
    *,
    session: Session,
    action: str,
    entity_type: str,
    entity_id: int | None,
    actor: User | None = None,
    actor_label: str = "",
    **detail,
) -> AuditEntry:
    """Add an audit entry to the caller's transaction."""
    entry = AuditEntry(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.display_name if actor else "system"),
        detail=detail,
    )
    session.add(entry)
    return entry


def history(*, session: Session, entity_type: str, entity_id: int) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )
