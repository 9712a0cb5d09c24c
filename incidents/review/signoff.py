"""Sign-off: the reviewer a review is sent to, and approval by someone who did not write it.

When the review policy requires approval, the publish gate (review/service.py) asks for an
approval of the review's current revision by a signed-in reviewer who authored none of its
revisions. Approving is a browser action only: no API route approves, so an API token can
never stand in for a person. Saving the review again takes an approval back (it approved a
text that is no longer the text).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth.models import Role, User
from incidents.db import utcnow
from incidents.errors import InvalidInput, NotFound, Refused
from incidents.outbox import service as outbox
from incidents.review import policy
from incidents.review.models import Review, ReviewRevision, ReviewState

# Outbox kind: tell the named reviewer in a Slack DM (slackbot/review_requests.py).
REVIEW_REQUEST = "slack.review_request"
REVIEWER_ROLES = [r for r in Role if r.at_least(Role.REVIEWER)]


def reviewers(*, session: Session) -> list[User]:
    """Active users who may review (reviewer role or above), by name."""
    return list(session.scalars(
        select(User).where(User.active.is_(True), User.role.in_([str(r) for r in REVIEWER_ROLES]))
        .order_by(User.name, User.email)))


def authors(*, session: Session, review: Review) -> set[int]:
    """Who saved any revision of the review."""
    if review.id is None:
        return set()
    return set(session.scalars(
        select(ReviewRevision.author_id).distinct()
        .where(ReviewRevision.review_id == review.id, ReviewRevision.author_id.is_not(None))))


def assign(*, session: Session, review: Review, reviewer_id: int, actor: User | None,
           actor_label: str = "") -> User:
    """Name the review's reviewer and tell them (a Slack DM through the outbox, when they
    have a Slack user id). The review must be in review: send it first."""
    if review.state != ReviewState.IN_REVIEW:
        raise Refused("Only a review that is in review can be given a reviewer.",
                      field="state")
    reviewer = session.get(User, reviewer_id)
    if reviewer is None:
        raise NotFound(f"no user {reviewer_id}", field="reviewer_id")
    if not reviewer.can(Role.REVIEWER):
        raise InvalidInput(f"{reviewer.display_name} is not a reviewer", field="reviewer_id")
    review.reviewer_id = reviewer.id
    session.flush()
    audit.record(session=session, action="review.reviewer_named", entity_type="review",
                 entity_id=review.id, actor=actor, actor_label=actor_label,
                 incident_id=review.incident_id, reviewer_id=reviewer.id)
    if reviewer.slack_user_id:
        who = actor_label or (actor.display_name if actor else "")
        # One DM per reviewer and revision: asking again after a save tells them again.
        outbox.enqueue(session=session, kind=REVIEW_REQUEST,
                       key=f"review:{review.id}:{reviewer.id}:{review.revision}",
                       payload={"review_id": review.id, "reviewer_id": reviewer.id,
                                "asked_by": who},
                       incident_id=review.incident_id)
    return reviewer


def approve(*, session: Session, review: Review, approver: User) -> Review:
    """Approve the review as it stands now, as a signed-in reviewer who did not write it."""
    if not approver.can(Role.REVIEWER):
        raise Refused("Only a reviewer can approve a review.")
    if review.state not in (ReviewState.DRAFT, ReviewState.IN_REVIEW):
        raise Refused(f"A {str(review.state).replace('_', ' ')} review needs no approval.",
                      field="state")
    if review.revision == 0:
        raise Refused("There is nothing to approve yet.", field="state")
    if approver.id in authors(session=session, review=review):
        raise Refused("You wrote part of this review; someone who did not must approve it.")
    review.approved_by_id, review.approved_revision = approver.id, review.revision
    review.approved_at = utcnow()
    session.flush()
    audit.record(session=session, action="review.approved", entity_type="review",
                 entity_id=review.id, actor=approver, incident_id=review.incident_id,
                 revision=review.revision)
    return review


def approved(review: Review) -> bool:
    """Approved, and not saved since."""
    return (review.approved_by_id is not None
            and review.approved_revision == review.revision)


def approval_missing(*, session: Session, review: Review) -> bool:
    """Whether the publish gate still waits for an approval."""
    return current_requires(session) and not approved(review)


def current_requires(session: Session) -> bool:
    return policy.current(session=session).require_approval
