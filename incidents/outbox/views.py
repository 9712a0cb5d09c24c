"""`/admin/outbox`: what the worker has queued, what is retrying and what died, and why."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from incidents.appdb import get_session
from incidents.auth.forms import EmptyForm
from incidents.auth.models import Role
from incidents.auth.permissions import role_required
from incidents.errors import DomainError
from incidents.outbox import service

bp = Blueprint("outbox", __name__)


@bp.route("/admin/outbox")
@role_required(Role.ADMIN)
def admin():
    db = get_session()
    return render_template("outbox/admin.html", counts=service.counts(session=db),
                           pending=service.pending(session=db), dead=service.dead(session=db),
                           failure_text=service.failure_text, form=EmptyForm())


def _act(action, job_id: int, done: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        action(session=db, job_id=job_id, actor=g.user)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(done.format(job_id=job_id), "ok")
    return redirect(url_for("outbox.admin"))


@bp.route("/admin/outbox/<int:job_id>/retry", methods=["POST"])
@role_required(Role.ADMIN)
def retry(job_id: int):
    return _act(service.retry_dead, job_id, "Job {job_id} is queued again.")


@bp.route("/admin/outbox/<int:job_id>/discard", methods=["POST"])
@role_required(Role.ADMIN)
def discard(job_id: int):
    return _act(service.discard, job_id, "Job {job_id} is discarded.")
