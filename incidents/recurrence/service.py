"""Recurrence candidates and links. Placeholder contract, implemented with issue 6:

`candidates(*, session, incident_id, limit=5) -> list[Candidate]`, best first, where a
Candidate has `.incident` (the earlier Incident), `.score` (float) and `.reasons` (list[str]).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from incidents.incident.models import Incident


@dataclass
class Candidate:
    incident: Incident
    score: float
    reasons: list[str] = field(default_factory=list)


def candidates(*, session: Session, incident_id: int, limit: int = 5) -> list[Candidate]:
    return []
