"""The prevention board and item pages: thin adapters over incidents.prevention.service."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from wtforms import SelectChoice

from incidents.appdb import get_session
from incidents.auth.models import Role, Team, User
from incidents.auth.permissions import login_required, role_required
from incidents.errors import DomainError
from incidents.forms import team_choices
from incidents.guard import service as guards
from incidents.guard import views as guard_views
from incidents.guard.models import Health, Provider
from incidents.line import service as line
from incidents.prevention import service
from incidents.prevention.api import clock
from incidents.prevention.forms import EditItemForm, ItemForm, StatusForm
from incidents.prevention.models import Outcome, PreventionItem, PreventionKind, PreventionStatus
from incidents.team import service as teams
from incidents.tracker import service as trackers
from incidents.tracker.forms import LinkForm
from incidents.tracker.schemas import tracker_view

bp = Blueprint("prevention", __name__)

PAGE_SIZE = 50
FILTERS = ("team", "status", "kind", "strength", "station_id", "overdue", "outcome",
           "guard_health")


def _filters() -> service.ItemFilter:
    args = request.args
    overdue = {"yes": True, "no": False}.get(args.get("overdue", ""))
    return service.ItemFilter(
        team=args.get("team") or None, status=args.get("status") or None,
        kind=args.get("kind") or None, strength=args.get("strength", type=int),
        station_id=args.get("station_id", type=int), overdue=overdue,
        outcome=args.get("outcome") or None, guard_health=args.get("guard_health") or None)


def _station_choices() -> list[SelectChoice]:
    return [SelectChoice("0", "—")] + [SelectChoice(str(s.id), s.name)
                                       for s in line.stations(session=get_session())]


@bp.route("/prevention")
@login_required
def board():
    db = get_session()
    page = max(request.args.get("page", 1, type=int), 1)
    try:
        items, more = service.board(session=db, filters=_filters(), team_id=g.user.team_id,
                                    page=page, per_page=PAGE_SIZE, **clock())
    except DomainError as exc:
        flash(exc.message, "error")
        items, more = [], False
    form = ItemForm()
    form.station_id.choices = _station_choices()
    form.owner_team.choices = team_choices(t.name for t in teams.teams(session=db))
    current = {name: request.args.get(name, "") for name in FILTERS}
    return render_template(
        "prevention/board.html", items=items, more=more, page=page, current=current,
        form=form, clock=clock(), statuses=list(PreventionStatus), kinds=list(PreventionKind),
        guards=guard_views.views_for(items), healths=[h.value for h in Health],
        outcomes=list(Outcome), stations=line.stations(session=db, include_removed=True),
        teams=list(db.scalars(select(Team.name).order_by(Team.name))),
        tracker_view=tracker_view,
    )


@bp.route("/prevention", methods=["POST"])
@role_required(Role.RESPONDER)
def create():
    form = ItemForm()
    form.station_id.choices = _station_choices()
    form.owner_team.choices = []  # any name goes to the service, which knows the teams
    if not form.validate_on_submit():
        flash("An item needs a title; check the due date.", "error")
        return redirect(url_for("prevention.board"))
    db = get_session()
    try:
        item = service.create_item(
            session=db, title=form.title.data, kind=form.kind.data,
            station_id=form.station_id.data or None, owner_team=form.owner_team.data or None,
            due_date=form.due_date.data, tracker_url=form.tracker_url.data,
            description=form.description.data or "", actor=g.user)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
        return redirect(url_for("prevention.board"))
    db.commit()
    return redirect(url_for("prevention.item", item_id=item.id))


def _item_or_404(item_id: int) -> PreventionItem:
    item = get_session().get(PreventionItem, item_id)
    if item is None:
        abort(404, f"No prevention item {item_id}.")
    return item


@bp.route("/prevention/<int:item_id>")
@login_required
def item(item_id: int):
    return _item_page(_item_or_404(item_id))


def _edit_form(found: PreventionItem, formdata=None) -> EditItemForm:
    """The edit form, filled from the item (or, after a refused save, from what was typed)."""
    form = EditItemForm(formdata=formdata, data=None if formdata else {
        "title": found.title, "kind": str(found.kind), "description": found.description,
        "station_id": found.station_id or 0, "due_date": found.due_date,
        "owner_team": found.owner_team.name if found.owner_team else "",
        "assignee": found.assignee.email if found.assignee else "",
        "revision": str(found.revision)})
    stations = line.stations(session=get_session())
    if found.station is not None and not found.station.active:
        stations.append(found.station)  # its own station stays choosable after removal
    form.station_id.choices = [SelectChoice("0", "—")] + [
        SelectChoice(str(s.id), s.name) for s in stations]
    users = list(get_session().scalars(select(User).where(User.active).order_by(User.email)))
    if found.assignee is not None and not found.assignee.active:
        users.append(found.assignee)  # kept until someone chooses another
    form.owner_team.choices = team_choices(t.name for t in teams.teams(session=get_session()))
    form.assignee.choices = [SelectChoice("", "nobody")] + [
        SelectChoice(u.email, f"{u.display_name} ({u.email})" if u.display_name != u.email
                     else u.email) for u in users]
    return form


def _item_page(found: PreventionItem, edit_form: EditItemForm | None = None,
               status: int = 200, conflict: bool = False):
    db = get_session()
    guard = found.guard
    return render_template(
        "prevention/item.html", item=found, clock=clock(), form=StatusForm(),
        edit_form=edit_form or _edit_form(found), editing=edit_form is not None,
        conflict=conflict,
        moves=service.next_statuses(found), guards=guard_views.views_for([found]),
        providers=list(Provider),
        runs=guards.recent_runs(session=db, guard=guard) if guard else [],
        confirmations=guards.confirmations(session=db, guard=guard) if guard else [],
        incidents=service.incidents_of(session=db, item_id=found.id),
        history=service.history(session=db, item_id=found.id),
        tracker=tracker_view(found), link_form=LinkForm(formdata=None),
        team_tracker=trackers.tracker_of_team(session=db, team_id=found.owner_team_id),
    ), status


@bp.route("/prevention/<int:item_id>/edit", methods=["POST"])
@role_required(Role.RESPONDER)
def edit(item_id: int):
    db = get_session()
    found = _item_or_404(item_id)
    form = _edit_form(found, formdata=request.form)
    if not form.validate_on_submit() or not (form.revision.data or "").isdigit():
        flash("The item was not saved: " + ("; ".join(
            f"{form[name].label.text}: {', '.join(errors)}"
            for name, errors in form.errors.items()) or "the form is out of date"), "error")
        return _item_page(found, form, 400)
    try:
        service.edit(session=db, item=found, base_revision=int(form.revision.data),
                     title=form.title.data, description=form.description.data or "",
                     kind=form.kind.data, station_id=form.station_id.data or None,
                     owner_team=form.owner_team.data or None, due_date=form.due_date.data,
                     assignee=form.assignee.data or None, reason=form.reason.data,
                     actor=g.user)
    except service.StaleItem as stale:
        db.rollback()
        # Keep what they typed; the page shows the item as it now stands, and the next save
        # builds on that revision.
        current = _item_or_404(item_id)
        form.revision.data = str(current.revision)
        form.revision.raw_data = [str(current.revision)]
        flash(stale.message, "error")
        return _item_page(current, form, 409, conflict=True)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
        return _item_page(_item_or_404(item_id), form, exc.status)
    db.commit()
    flash("Saved.", "ok")
    return redirect(url_for("prevention.item", item_id=item_id))


@bp.route("/prevention/<int:item_id>/status", methods=["POST"])
@role_required(Role.RESPONDER)
def change_status(item_id: int):
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    found = _item_or_404(item_id)
    changes = {"status": form.status.data or None}
    try:
        if "guard_url" in request.form:  # the guard form, or done with a guard's fields
            changes["guard"] = guard_views.spec_from_form(request.form)
        service.update(session=db, item=found, dropped_reason=form.dropped_reason.data,
                       actor=g.user, **changes)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash("Saved.", "ok")
    return redirect(url_for("prevention.item", item_id=item_id))
