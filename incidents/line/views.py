"""Admin page for the line: rename, add, remove (history kept) and reorder stations."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from incidents.appdb import get_session
from incidents.auth.forms import EmptyForm
from incidents.auth.models import Role
from incidents.auth.permissions import role_required
from incidents.errors import DomainError
from incidents.line import service
from incidents.line.forms import MoveForm, StationForm
from incidents.review import service as reviews

bp = Blueprint("line", __name__)


@bp.route("/admin/line")
@role_required(Role.ADMIN)
def admin():
    db = get_session()
    everything = service.stations(session=db, include_removed=True)
    return render_template(
        "line/admin.html",
        stations=[s for s in everything if s.active],
        removed=sorted((s for s in everything if not s.active), key=lambda s: s.removed_at),
        findings=reviews.findings_per_station(session=db),
        form=StationForm(formdata=None), empty_form=EmptyForm(),
    )


def _apply(action, done: str):
    db = get_session()
    try:
        action(db)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(done, "ok")
    return redirect(url_for("line.admin"))


def _form_errors(form) -> str:
    return "; ".join(f"{form[name].label.text}: {', '.join(errors)}"
                     for name, errors in form.errors.items())


@bp.route("/admin/line/stations", methods=["POST"])
@role_required(Role.ADMIN)
def add():
    form = StationForm()
    if not form.validate_on_submit():
        flash("The station was not added: " + _form_errors(form), "error")
        return redirect(url_for("line.admin"))
    return _apply(lambda db: service.add_station(session=db, name=form.name.data,
                                                 catches=form.catches.data or "", actor=g.user),
                  f"Added {form.name.data.strip()} at the end of the line.")


@bp.route("/admin/line/stations/<int:station_id>", methods=["POST"])
@role_required(Role.ADMIN)
def edit(station_id: int):
    form = StationForm()
    if not form.validate_on_submit():
        flash("The station was not saved: " + _form_errors(form), "error")
        return redirect(url_for("line.admin"))
    return _apply(lambda db: service.edit_station(session=db, station_id=station_id,
                                                  name=form.name.data,
                                                  catches=form.catches.data or "", actor=g.user),
                  "Station saved.")


@bp.route("/admin/line/stations/<int:station_id>/move", methods=["POST"])
@role_required(Role.ADMIN)
def move(station_id: int):
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    offset = -1 if form.direction.data == "up" else 1
    return _apply(lambda db: service.move_station(session=db, station_id=station_id,
                                                  offset=offset, actor=g.user), "Line reordered.")


@bp.route("/admin/line/stations/<int:station_id>/remove", methods=["POST"])
@role_required(Role.ADMIN)
def remove(station_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _apply(lambda db: service.remove_station(session=db, station_id=station_id,
                                                    actor=g.user),
                  "Station removed from the line; its findings and items keep it.")


@bp.route("/admin/line/stations/<int:station_id>/restore", methods=["POST"])
@role_required(Role.ADMIN)
def restore(station_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _apply(lambda db: service.restore_station(session=db, station_id=station_id,
                                                     actor=g.user),
                  "Station restored at the end of the line, with its findings and items.")
