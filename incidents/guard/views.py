"""Browser adapters for guards: confirming a manual guard, each team's N, and the pieces the
prevention and review pages use (the guard form, health for a list of items)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from incidents.appdb import get_session
from incidents.auth.forms import EmptyForm
from incidents.auth.models import Role
from incidents.auth.permissions import role_required
from incidents.errors import DomainError, InvalidInput
from incidents.guard import health, service
from incidents.guard.models import Provider
from incidents.prevention.api import clock
from incidents.prevention.models import PreventionItem

bp = Blueprint("guard", __name__)
FORM_FIELDS = ("repository", "name", "test_id", "branch")


def views_for(items: list[PreventionItem]) -> dict[int, health.GuardView]:
    """Each item's guard health and outcome, in one statement."""
    now = clock()
    return health.views(session=get_session(), items=items, now=now["now"],
                        watch_window_days=now["watch_window_days"])


def spec_from_form(form) -> service.GuardSpec | None:
    """The guard the item form gives: structured fields under a provider, or (provider left
    on "read the link") the link alone; nothing at all removes the guard."""
    provider = (form.get("guard_provider") or "").strip()
    url = form.get("guard_url", "")
    if not provider:
        return service.spec_from_url(session=get_session(), url=url) if url.strip() else None
    return service.spec(provider=provider, url=url,
                        **{field: form.get(f"guard_{field}") for field in FORM_FIELDS})


def _item_or_404(item_id: int) -> PreventionItem:
    item = get_session().get(PreventionItem, item_id)
    if item is None:
        abort(404, f"No prevention item {item_id}.")
    return item


@bp.route("/prevention/<int:item_id>/guard/confirmations", methods=["POST"])
@role_required(Role.RESPONDER)
def confirm(item_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    item = _item_or_404(item_id)
    in_place = request.form.get("in_place") == "yes"
    try:
        service.confirm(session=db, item=item, in_place=in_place,
                        note=request.form.get("note", ""), actor=g.user)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash("Confirmed: the guard is in place." if in_place
              else "Recorded: the guard is no longer in place.", "ok")
    return redirect(url_for("prevention.item", item_id=item_id) + "#guard")


@bp.route("/admin/guards")
@role_required(Role.ADMIN)
def settings():
    return render_template("guard/settings.html", teams=service.team_days(session=get_session()),
                           form=EmptyForm(), providers=list(Provider))


def _days(name: str) -> int:
    value = request.form.get(name, "").strip()
    if not value.isdigit():
        raise InvalidInput(f"{name.replace('_', ' ')} must be a whole number of days",
                           field=name)
    return int(value)


@bp.route("/admin/guards", methods=["POST"])
@role_required(Role.ADMIN)
def save_settings():
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    team = request.form.get("team", "")
    try:
        service.set_team_days(session=db, team=team,
                              stale_after_days=_days("stale_after_days"),
                              confirm_every_days=_days("confirm_every_days"))
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(f"Saved {team}'s guard days.", "ok")
    return redirect(url_for("guard.settings"))
