"""The report's review standings: of the resolved incidents, how many reviews were published,
are required and awaited, are optional, are not required, or were skipped with a reason."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.incident.models import Incident, Status
from incidents.review import policy
from incidents.review.models import Review


def standings(*, session: Session, where: list) -> dict:
    """One GROUP BY (severity × review state) and the policy: two queries at any size.

    Counts resolved incidents only: an open incident's review is not awaited yet. Read under
    the policy as it is now, so a changed policy moves past incidents too.
    """
    rules = policy.current(session=session)
    counts = dict.fromkeys(policy.Standing, 0)
    rows = session.execute(
        select(Incident.severity, Review.state, func.count())
        .select_from(Incident).outerjoin(Review, Review.incident_id == Incident.id)
        .where(Incident.status == Status.RESOLVED, *where)
        .group_by(Incident.severity, Review.state))
    for severity, state, count in rows:
        counts[policy.standing(rules, severity, state)] += count
    return {str(standing): count for standing, count in counts.items()}
