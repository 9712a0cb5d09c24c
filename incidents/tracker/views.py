"""The Trackers admin page and the item page's "create in tracker" / "link existing":
thin adapters over incidents.tracker.service."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm

from incidents.appdb import get_session
from incidents.auth.models import Role
from incidents.auth.permissions import role_required
from incidents.errors import DomainError
from incidents.tracker import service
from incidents.tracker.forms import LinkForm, TrackerForm

bp = Blueprint("tracker", __name__)


def _admin_page(form: TrackerForm, status: int = 200):
    db = get_session()
    return render_template("tracker/admin.html", form=form, remove_form=FlaskForm(),
                           trackers=service.trackers(session=db),
                           teams=service.team_names(session=db)), status


@bp.route("/admin/trackers", methods=["GET"])
@role_required(Role.ADMIN)
def admin():
    return _admin_page(TrackerForm(formdata=None))


@bp.route("/admin/trackers", methods=["POST"])
@role_required(Role.ADMIN)
def save():
    form = TrackerForm()
    if not form.validate_on_submit():
        return _admin_page(form, 400)
    db = get_session()
    try:
        service.save_tracker(session=db, team=form.team.data, vendor=form.vendor.data,
                             project=form.project.data, site_url=form.site_url.data,
                             issue_type=form.issue_type.data,
                             credential=form.credential.data or None, actor=g.user)
        service.schedule_sync(session=db,
                              every_minutes=current_app.config["TRACKER_SYNC_MINUTES"])
    except DomainError as exc:
        db.rollback()
        getattr(form, exc.field, form.project).errors = [exc.message]
        return _admin_page(form, 400)
    db.commit()
    flash(f"Saved the tracker of {form.team.data.strip()}.", "ok")
    return redirect(url_for("tracker.admin"))


@bp.route("/admin/trackers/<int:team_id>/remove", methods=["POST"])
@role_required(Role.ADMIN)
def remove(team_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    db = get_session()
    service.remove_tracker(session=db, team_id=team_id, actor=g.user)
    db.commit()
    flash("Removed the tracker; items keep the issues they were linked to.", "ok")
    return redirect(url_for("tracker.admin"))


def _item_action(item_id: int, act) -> object:
    db = get_session()
    try:
        item = service.get_item(session=db, item_id=item_id)
        message = act(db, item)
    except DomainError as exc:
        db.rollback()
        if exc.status == 404:
            abort(404, exc.message)
        flash(exc.message, "error")
    else:
        db.commit()
        flash(message, "ok")
    return redirect(url_for("prevention.item", item_id=item_id))


@bp.route("/prevention/<int:item_id>/tracker-issue", methods=["POST"])
@role_required(Role.RESPONDER)
def create_issue(item_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)

    def act(db, item):
        service.request_issue(session=db, item=item, actor=g.user)
        return "The issue is being created in the team's tracker."

    return _item_action(item_id, act)


@bp.route("/prevention/<int:item_id>/tracker-link", methods=["POST"])
@role_required(Role.RESPONDER)
def link_issue(item_id: int):
    form = LinkForm()
    if not form.validate_on_submit():
        flash("Paste the issue's URL.", "error")
        return redirect(url_for("prevention.item", item_id=item_id))

    def act(db, item):
        link = service.link_issue(session=db, item=item, url=form.url.data, actor=g.user)
        return f"Linked {link.vendor_label} {link.key}; its state is on its way."

    return _item_action(item_id, act)
