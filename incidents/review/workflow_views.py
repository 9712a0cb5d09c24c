"""The review workflow around the review page: the policy (admin), the queue, skipping an
optional review, sending a review to a named reviewer, and approving it (browser only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from incidents.appdb import get_session
from incidents.auth.forms import EmptyForm
from incidents.auth.models import Role, Team, User
from incidents.auth.permissions import login_required, role_required
from incidents.db import utcnow
from incidents.errors import DomainError, InvalidInput
from incidents.incident.models import Severity
from incidents.review import policy, queue, service, signoff
from incidents.review.models import Review, ReviewState
from incidents.review.policy_models import Requirement
from incidents.review.views import apply_change

bp = Blueprint("review_flow", __name__)


# --- the policy -----------------------------------------------------------------------------

@bp.route("/admin/review-policy")
@role_required(Role.ADMIN)
def policy_page():
    return render_template("review/policy.html", policy=policy.current(session=get_session()),
                           severities=list(Severity), requirements=policy.LABELS,
                           form=EmptyForm())


@bp.route("/admin/review-policy", methods=["POST"])
@role_required(Role.ADMIN)
def save_policy():
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        policy.save(session=db,
                    requirements={sev: request.form.get(sev.lower(), "") for sev in Severity},
                    require_approval=request.form.get("require_approval") == "on", actor=g.user)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash("Review policy saved.", "ok")
    return redirect(url_for("review_flow.policy_page"))


# --- the queue ------------------------------------------------------------------------------

@bp.route("/reviews/queue")
@login_required
def queue_page():
    db = get_session()
    rules = policy.current(session=db)
    team = request.args.get("team") or None
    return render_template(
        "review/queue.html", owed=queue.owed(session=db, rules=rules, team=team),
        per_team=queue.owed_per_team(session=db, rules=rules), team=team, rules=rules,
        now=utcnow(), limit=queue.QUEUE_LIMIT, requirements=policy.LABELS,
        teams=list(db.scalars(select(Team.name).order_by(Team.name))), no_team=queue.NO_TEAM)


# --- on the review page ---------------------------------------------------------------------

def _act(incident_id: int, action, done: str):
    """Run `action(db, review)` on the incident's review from its Publish step."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return apply_change(incident_id, "publish", action, done)


@bp.route("/incidents/<int:incident_id>/review/skip", methods=["POST"])
@role_required(Role.REVIEWER)
def skip(incident_id: int):
    return _act(incident_id, lambda db, review: policy.skip(
        session=db, review=review, reason=request.form.get("reason", ""), actor=g.user),
        "Review skipped; the reason is kept.")


@bp.route("/incidents/<int:incident_id>/review/unskip", methods=["POST"])
@role_required(Role.REVIEWER)
def unskip(incident_id: int):
    return _act(incident_id, lambda db, review: policy.unskip(
        session=db, review=review, actor=g.user), "The review is a draft again.")


def _reviewer_id() -> int:
    value = request.form.get("reviewer_id", "")
    if not value.isdigit():
        raise InvalidInput("choose a reviewer", field="reviewer_id")
    return int(value)


@bp.route("/incidents/<int:incident_id>/review/send", methods=["POST"])
@role_required(Role.REVIEWER)
def send(incident_id: int):
    """Send for review to a named reviewer (or name another while it is in review)."""
    def act(db, review):
        reviewer_id = _reviewer_id()
        if review.state == ReviewState.DRAFT:
            service.submit(session=db, review=review, author=g.user)
        signoff.assign(session=db, review=review, reviewer_id=reviewer_id, actor=g.user)

    return _act(incident_id, act, "Sent for review.")


@bp.route("/incidents/<int:incident_id>/review/approve", methods=["POST"])
@role_required(Role.REVIEWER)
def approve(incident_id: int):
    return _act(incident_id, lambda db, review: signoff.approve(
        session=db, review=review, approver=g.user), "Approved.")


@bp.app_template_global()
def review_workflow(review: Review) -> dict:
    """What the review page's sign-off panel shows (read when the panel is drawn)."""
    db = get_session()
    rules = policy.current(session=db)
    incident = review.incident if review.id else None
    severity = incident.severity if incident else None
    author_ids = signoff.authors(session=db, review=review)
    return dict(
        rules=rules,
        requirement=rules.requirement(severity) if severity else None,
        requirement_label=policy.LABELS[rules.requirement(severity)] if severity else "",
        reviewers=signoff.reviewers(session=db),
        reviewer=db.get(User, review.reviewer_id) if review.reviewer_id else None,
        approved=signoff.approved(review),
        approver=db.get(User, review.approved_by_id) if review.approved_by_id else None,
        skipped_by=db.get(User, review.skipped_by_id) if review.skipped_by_id else None,
        may_approve=g.user is not None and g.user.id not in author_ids,
        can_skip=bool(severity) and rules.requirement(severity) != Requirement.REQUIRED,
        form=EmptyForm(),
    )
