"""Browser pages for changes: the list, one change and how it was classified, confirming a
suspect from the incident page or the review, and the admin's attribution rules."""

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
from sqlalchemy import func, select

from incidents.appdb import get_session
from incidents.auth.forms import EmptyForm
from incidents.auth.models import Role
from incidents.auth.permissions import login_required, role_required
from incidents.change import attribution, rules, service, suspects
from incidents.change.forms import ConfirmForm, RuleForm
from incidents.change.models import Change
from incidents.errors import DomainError
from incidents.incident.models import ChangeOrigin
from incidents.line.forms import MoveForm

bp = Blueprint("changes", __name__)

PAGE_SIZE = 50


@bp.route("/changes")
@login_required
def list_changes():
    args = request.args
    filters = service.ChangeFilter(service=args.get("service") or None,
                                   origin=args.get("origin") or None)
    db = get_session()
    try:
        items, cursor = service.search(session=db, filters=filters,
                                       before=args.get("before", type=int), limit=PAGE_SIZE)
    except DomainError as exc:
        flash(exc.message, "error")
        items, cursor = [], None
    return render_template("changes/list.html", changes=items, cursor=cursor, filters=filters,
                           services=service.services(session=db), origins=list(ChangeOrigin),
                           labels=attribution.LABELS)


@bp.route("/changes/<int:change_id>")
@login_required
def detail(change_id: int):
    db = get_session()
    try:
        change = service.get(session=db, change_id=change_id)
    except DomainError:
        abort(404, f"No change #{change_id}.")
    return render_template("changes/detail.html", change=change, labels=attribution.LABELS,
                           incidents=service.incidents_of(session=db, change_id=change_id),
                           suggestions=suspects.suggestions(change))


@bp.route("/incidents/<int:incident_id>/changes", methods=["POST"])
@role_required(Role.REVIEWER)
def confirm(incident_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "Name the change to confirm.")
    db = get_session()
    try:
        done = suspects.confirm(session=db, incident_id=incident_id,
                                change_id=form.change_id.data, actor=g.user)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(_confirmed_message(incident_id, done), "ok")
    if form.back.data == "review" and "review.edit" in current_app.view_functions:
        # The station walk is where the confirmation left its findings.
        return redirect(url_for("review.edit", incident_id=incident_id, _anchor="station-walk"))
    return redirect(url_for("incidents.detail", incident_id=incident_id, _anchor="changes"))


def _confirmed_message(incident_id: int, done: suspects.Confirmed) -> str:
    if not done.created:
        return f"Change {done.change.short} was already confirmed for #{incident_id}."
    parts = [f"Confirmed change {done.change.short} as a trigger of #{incident_id}; "
             f"{done.origin_note}."]
    if done.findings:
        parts.append("Recorded in the station walk: " + "; ".join(done.findings) + ".")
    if done.skipped:
        parts.append("Not recorded: " + "; ".join(done.skipped) + ".")
    return " ".join(parts)


# --- the admin's rules ----------------------------------------------------------------------

def _rules_page(form: RuleForm, status: int = 200):
    db = get_session()
    counts = dict(db.execute(select(Change.origin, func.count()).group_by(Change.origin)).all())
    return render_template("changes/rules.html", rules=service.rule_list(session=db), form=form,
                           assistants=rules.builtin_assistants(), labels=attribution.LABELS,
                           counts=counts, origins=list(ChangeOrigin), empty_form=EmptyForm(),
                           ai_keys=attribution.AI_TRAILER_KEYS,
                           dependency_bots=attribution.DEPENDENCY_BOTS), status


@bp.route("/admin/change-rules")
@role_required(Role.ADMIN)
def rules_admin():
    return _rules_page(RuleForm(formdata=None))


def _edited(action, done: str):
    db = get_session()
    try:
        edited = action(db)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(f"{done} {edited.reclassified} change(s) changed origin.", "ok")
    return redirect(url_for("changes.rules_admin"))


@bp.route("/admin/change-rules", methods=["POST"])
@role_required(Role.ADMIN)
def add_rule():
    form = RuleForm()
    if not form.validate_on_submit():
        flash("The rule was not added: " + "; ".join(
            f"{form[name].label.text}: {', '.join(errors)}"
            for name, errors in form.errors.items()), "error")
        return _rules_page(form, 400)
    return _edited(lambda db: rules.add(session=db, field=form.field.data,
                                        pattern=form.pattern.data, origin=form.origin.data,
                                        note=form.note.data or "", actor=g.user),
                   "Rule added; every change was classified again.")


@bp.route("/admin/change-rules/<int:rule_id>/move", methods=["POST"])
@role_required(Role.ADMIN)
def move_rule(rule_id: int):
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    offset = -1 if form.direction.data == "up" else 1
    return _edited(lambda db: rules.move(session=db, rule_id=rule_id, offset=offset,
                                         actor=g.user), "Rules reordered.")


@bp.route("/admin/change-rules/<int:rule_id>/remove", methods=["POST"])
@role_required(Role.ADMIN)
def remove_rule(rule_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _edited(lambda db: rules.remove(session=db, rule_id=rule_id, actor=g.user),
                   "Rule removed; every change was classified again.")
