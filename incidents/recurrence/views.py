"""Confirm or dismiss recurrence candidates (from the review page or the incident's own list)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from incidents.appdb import get_session
from incidents.auth.models import Role
from incidents.auth.permissions import login_required, role_required
from incidents.errors import DomainError
from incidents.incident import service as incidents
from incidents.recurrence import service

bp = Blueprint("recurrence", __name__)


def _back(incident_id: int):
    """Back to the review when the review pages exist, else to the recurrence page."""
    if request.form.get("back") == "review" and "review.edit" in current_app.view_functions:
        return redirect(url_for("review.edit", incident_id=incident_id) + "#prevention")
    return redirect(url_for("recurrence.candidates", incident_id=incident_id))


@bp.route("/incidents/<int:incident_id>/recurrences")
@login_required
def candidates(incident_id: int):
    db = get_session()
    try:
        incident = incidents.get(session=db, incident_id=incident_id)
    except DomainError:
        abort(404, f"No incident #{incident_id}.")
    return render_template(
        "recurrence/page.html", incident=incident,
        candidates=service.candidates(session=db, incident_id=incident_id, limit=10),
        links=service.links_for(session=db, incident_id=incident_id))


@bp.route("/incidents/<int:incident_id>/recurrences/confirm")
@role_required(Role.REVIEWER)
def confirm_step(incident_id: int):
    """The step before confirming: what the recurrence will change, and the button."""
    earlier_id = request.args.get("of", type=int)
    if earlier_id is None:
        abort(400, "Name the earlier incident.")
    db = get_session()
    try:
        incident = incidents.get(session=db, incident_id=incident_id)
        earlier = incidents.get(session=db, incident_id=earlier_id)
    except DomainError:
        abort(404, "No such incident.")
    reasons = next((c.reasons for c in service.candidates(session=db, incident_id=incident_id,
                                                          limit=50)
                    if c.incident.id == earlier_id), [])
    return render_template(
        "recurrence/confirm.html", incident=incident, earlier=earlier, reasons=reasons,
        escaping=service.would_escape(session=db, incident_id=incident_id,
                                      earlier_id=earlier_id),
        back=request.args.get("back", "review"))


def _titles(items) -> str:
    return ", ".join(f"“{item.title}”" for item in items)


def _change(incident_id: int, action, said) -> object:
    """Run `action(db)`, commit and flash what `said(result)` says; a refusal is flashed."""
    db = get_session()
    try:
        result = action(db)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(said(result), "ok")
    return _back(incident_id)


@bp.route("/incidents/<int:incident_id>/recurrences", methods=["POST"])
@role_required(Role.REVIEWER)
def confirm(incident_id: int):
    earlier_id = request.form.get("of", type=int)
    if earlier_id is None:
        abort(400, "Name the earlier incident.")

    def said(confirmed) -> str:
        message = f"Confirmed: #{incident_id} is a recurrence of #{earlier_id}."
        if confirmed.escaped:
            message += (" Marked escaped (done before this incident started): "
                        f"{_titles(confirmed.escaped)}.")
        return message

    return _change(incident_id, lambda db: service.confirm(
        session=db, incident_id=incident_id, earlier_id=earlier_id, actor=g.user), said)


@bp.route("/incidents/<int:incident_id>/recurrences/dismissals", methods=["POST"])
@role_required(Role.REVIEWER)
def dismiss(incident_id: int):
    candidate_id = request.form.get("candidate_id", type=int)
    if candidate_id is None:
        abort(400, "Name the candidate to dismiss.")
    return _change(incident_id, lambda db: service.dismiss(
        session=db, incident_id=incident_id, candidate_id=candidate_id, actor=g.user),
        lambda _: f"#{candidate_id} will not be suggested again for #{incident_id}.")


@bp.route("/incidents/<int:incident_id>/recurrences/<int:earlier_id>/undo", methods=["POST"])
@role_required(Role.REVIEWER)
def undo(incident_id: int, earlier_id: int):
    def said(undone) -> str:
        message = f"Undone: #{incident_id} is no longer a recurrence of #{earlier_id}."
        if undone.released:
            message += f" No longer escaped: {_titles(undone.released)}."
        if undone.moved:
            message += f" Still escaped, shown by another recurrence: {_titles(undone.moved)}."
        return message

    return _change(incident_id, lambda db: service.undo(
        session=db, incident_id=incident_id, earlier_id=earlier_id, actor=g.user), said)
