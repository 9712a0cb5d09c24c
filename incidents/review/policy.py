"""The review policy: which incidents need a review, skipping an optional one, and where each
incident's review stands.

Per severity a review is required, optional or not required (an admin's setting; until one is
saved SEV1–2 are required, SEV3 optional, SEV4 not required). A reviewer may skip an optional
review with a reason. An incident's *standing* is what the queue, the incident list and the
report count: published, skipped, awaiting (required), optional or not required.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth.models import Role, User
from incidents.db import utcnow
from incidents.errors import InvalidInput, Refused, parse_choice
from incidents.incident.models import Incident, Severity
from incidents.review.models import Review, ReviewState
from incidents.review.policy_models import Requirement, ReviewSettings

SETTINGS_ID = 1
MAX_SKIP_REASON = 2_000
DEFAULTS = {Severity.SEV1: Requirement.REQUIRED, Severity.SEV2: Requirement.REQUIRED,
            Severity.SEV3: Requirement.OPTIONAL, Severity.SEV4: Requirement.NOT_REQUIRED}
LABELS = {Requirement.REQUIRED: "required", Requirement.OPTIONAL: "optional",
          Requirement.NOT_REQUIRED: "not required"}


class Standing(StrEnum):
    """Where an incident's review stands, in the report's buckets."""

    PUBLISHED = "published"
    SKIPPED = "skipped"
    AWAITING = "awaiting"  # required and not yet published
    OPTIONAL = "optional"  # optional, neither published nor skipped
    NOT_REQUIRED = "not_required"


STANDING_LABELS = {Standing.PUBLISHED: "published", Standing.SKIPPED: "skipped",
                   Standing.AWAITING: "required, awaiting", Standing.OPTIONAL: "optional",
                   Standing.NOT_REQUIRED: "not required"}


@dataclass
class Policy:
    requirements: dict[Severity, Requirement] = field(default_factory=lambda: dict(DEFAULTS))
    require_approval: bool = False

    def requirement(self, severity: Severity | str) -> Requirement:
        return self.requirements[Severity(severity)]

    def severities(self, *wanted: Requirement) -> list[Severity]:
        return [sev for sev, req in self.requirements.items() if req in wanted]


def current(*, session: Session) -> Policy:
    """The policy in force (one query)."""
    row = session.get(ReviewSettings, SETTINGS_ID)
    if row is None:
        return Policy()
    return Policy(requirements={sev: Requirement(getattr(row, sev.lower())) for sev in Severity},
                  require_approval=bool(row.require_approval))


def save(*, session: Session, requirements: dict, require_approval: bool,
         actor: User | None = None) -> Policy:
    """Set the requirement of every severity and the approval rule; audited."""
    parsed = {}
    for sev in Severity:
        value = requirements.get(sev, requirements.get(str(sev)))
        if value is None:
            raise InvalidInput(f"say whether a {sev} review is required", field=sev.lower())
        parsed[sev] = parse_choice(Requirement, value, sev.lower())
    row = session.get(ReviewSettings, SETTINGS_ID) or ReviewSettings(id=SETTINGS_ID)
    for sev, req in parsed.items():
        setattr(row, sev.lower(), str(req))
    row.require_approval = bool(require_approval)
    row.updated_at = utcnow()
    row.updated_by_id = actor.id if actor else None
    session.add(row)
    session.flush()
    audit.record(session=session, action="review.policy_set", entity_type="review_settings",
                 entity_id=SETTINGS_ID, actor=actor,
                 **{sev.lower(): str(req) for sev, req in parsed.items()},
                 require_approval=bool(require_approval))
    return current(session=session)


def standing(policy: Policy, severity: Severity | str, state: ReviewState | str | None
             ) -> Standing:
    """An incident's standing from its severity and its review's state (None: no review)."""
    if state == ReviewState.PUBLISHED:
        return Standing.PUBLISHED
    if state == ReviewState.SKIPPED:
        return Standing.SKIPPED
    return {Requirement.REQUIRED: Standing.AWAITING, Requirement.OPTIONAL: Standing.OPTIONAL,
            Requirement.NOT_REQUIRED: Standing.NOT_REQUIRED}[policy.requirement(severity)]


def skip(*, session: Session, review: Review, reason: str, actor: User) -> Review:
    """Skip an optional review, saying why; audited. Required reviews cannot be skipped."""
    if not actor.can(Role.REVIEWER):
        raise Refused("Only a reviewer can skip a review.")
    incident = session.get(Incident, review.incident_id)
    requirement = current(session=session).requirement(incident.severity)
    if requirement == Requirement.REQUIRED:
        raise Refused(f"A {incident.severity} review is required by the review policy; it "
                      f"cannot be skipped.", field="state")
    if review.state not in (ReviewState.DRAFT, ReviewState.IN_REVIEW):
        raise Refused(f"A {str(review.state).replace('_', ' ')} review cannot be skipped.",
                      field="state")
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise InvalidInput("say why this review is skipped", field="reason")
    if len(reason) > MAX_SKIP_REASON:
        raise InvalidInput(f"reason is longer than {MAX_SKIP_REASON} characters",
                           field="reason")
    review.state = ReviewState.SKIPPED
    review.skip_reason, review.skipped_by_id, review.skipped_at = reason, actor.id, utcnow()
    session.flush()
    audit.record(session=session, action="review.skipped", entity_type="review",
                 entity_id=review.id, actor=actor, incident_id=review.incident_id,
                 reason=reason)
    return review


def unskip(*, session: Session, review: Review, actor: User) -> Review:
    """Take a skip back: the review is a draft again; audited."""
    if review.state != ReviewState.SKIPPED:
        raise Refused("This review is not skipped.", field="state")
    review.state = ReviewState.DRAFT
    review.skip_reason = review.skipped_by_id = review.skipped_at = None
    session.flush()
    audit.record(session=session, action="review.unskipped", entity_type="review",
                 entity_id=review.id, actor=actor, incident_id=review.incident_id)
    return review
