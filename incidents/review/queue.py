"""The review queue: resolved incidents whose review is still owed, oldest first; and each
listed incident's review standing for the incident list.

Every read is a fixed number of queries whatever the number of incidents: the queue is one
joined SELECT (plus teams loaded in one more), the per-team counts one GROUP BY.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from incidents.auth.models import Team, User
from incidents.incident.models import Incident, Status
from incidents.review import policy
from incidents.review.models import Review, ReviewState
from incidents.review.policy_models import Requirement

QUEUE_LIMIT = 200
NO_TEAM = "(no team)"
PROGRESS = {None: "not started", ReviewState.DRAFT: "draft",
            ReviewState.IN_REVIEW: "in review"}


@dataclass
class Owed:
    """A resolved incident whose review is owed."""

    incident: Incident
    requirement: Requirement
    state: ReviewState | None  # None: no review started
    reviewer: str | None

    @property
    def progress(self) -> str:
        return PROGRESS.get(self.state, str(self.state))

    def age(self, now: datetime):
        return now - self.incident.resolved_at


@dataclass
class Standing:
    """An incident's review standing, as the incident list shows it."""

    standing: policy.Standing
    requirement: Requirement
    state: ReviewState | None
    reviewer: str | None

    @property
    def label(self) -> str:
        return policy.STANDING_LABELS[self.standing]

    @property
    def progress(self) -> str:
        return PROGRESS.get(self.state, str(self.state))


def _owed_where(rules: policy.Policy) -> list:
    owed = rules.severities(Requirement.REQUIRED, Requirement.OPTIONAL)
    return [Incident.status == Status.RESOLVED, Incident.severity.in_([str(s) for s in owed]),
            or_(Review.id.is_(None),
                Review.state.not_in([ReviewState.PUBLISHED, ReviewState.SKIPPED]))]


def _reviewer_name():
    return func.coalesce(func.nullif(User.name, ""), User.email)


def owed(*, session: Session, rules: policy.Policy, team: str | None = None,
         limit: int = QUEUE_LIMIT) -> list[Owed]:
    """Resolved incidents without a published (or skipped) review that the policy asks or
    allows for, oldest resolved first; `team` narrows to one team (NO_TEAM: none)."""
    query = (select(Incident, Review.state, _reviewer_name())
             .outerjoin(Review, Review.incident_id == Incident.id)
             .outerjoin(User, User.id == Review.reviewer_id)
             .where(*_owed_where(rules))
             .options(selectinload(Incident.team))
             .order_by(Incident.resolved_at, Incident.id).limit(limit))
    if team == NO_TEAM:
        query = query.where(Incident.team_id.is_(None))
    elif team:
        query = query.where(Incident.team_id.in_(select(Team.id).where(Team.name == team)))
    return [Owed(incident=incident, requirement=rules.requirement(incident.severity),
                 state=ReviewState(state) if state else None, reviewer=reviewer)
            for incident, state, reviewer in session.execute(query)]


def owed_per_team(*, session: Session, rules: policy.Policy) -> list[tuple[str, int]]:
    """How many reviews each team owes, most first."""
    rows = session.execute(
        select(Team.name, func.count(Incident.id))
        .select_from(Incident).outerjoin(Review, Review.incident_id == Incident.id)
        .outerjoin(Team, Team.id == Incident.team_id)
        .where(*_owed_where(rules)).group_by(Team.name))
    return sorted(((name or NO_TEAM, count) for name, count in rows),
                  key=lambda row: (-row[1], row[0]))


def standings(*, session: Session, rules: policy.Policy,
              incidents: list[Incident]) -> dict[int, Standing]:
    """Each listed incident's review standing, in one query."""
    ids = [incident.id for incident in incidents]
    found = {}
    if ids:
        found = {incident_id: (state, reviewer) for incident_id, state, reviewer in
                 session.execute(select(Review.incident_id, Review.state, _reviewer_name())
                                 .outerjoin(User, User.id == Review.reviewer_id)
                                 .where(Review.incident_id.in_(ids)))}
    result = {}
    for incident in incidents:
        state, reviewer = found.get(incident.id, (None, None))
        state = ReviewState(state) if state else None
        result[incident.id] = Standing(
            standing=policy.standing(rules, incident.severity, state),
            requirement=rules.requirement(incident.severity), state=state, reviewer=reviewer)
    return result
