"""The admin page for paging tools: each hook's URL and auth, and each sender's settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from incidents.appdb import get_session
from incidents.auth.models import Role, Team
from incidents.auth.permissions import role_required
from incidents.errors import DomainError
from incidents.hooks import service
from incidents.hooks.forms import SenderSettingsForm, format_service_teams, parse_service_teams
from incidents.hooks.tools import registry
from incidents.inbox import service as inbox

bp = Blueprint("hooks", __name__)


def _form_for(name: str, *, submitted: bool = False) -> SenderSettingsForm:
    """The sender's form: as submitted, or filled from its saved settings."""
    if submitted:
        return SenderSettingsForm(prefix=name)
    db = get_session()
    settings = service.settings_for(session=db, sender=name)
    team = db.get(Team, settings.default_team_id) if settings.default_team_id else None
    data = {
        "enabled": settings.enabled,
        "default_severity": settings.default_severity,
        "default_team": team.name if team else "",
        "service_teams": format_service_teams(settings.service_teams),
    }
    return SenderSettingsForm(prefix=name, data=data, formdata=None)


def _page(forms: dict[str, SenderSettingsForm], status: int = 200):
    db = get_session()
    recent = {name: inbox.latest(session=db, sender=name, limit=5) for name in registry()}
    return render_template("hooks/settings.html", tools=registry(), forms=forms,
                           recent=recent), status


@bp.route("/admin/paging", methods=["GET"])
@role_required(Role.ADMIN)
def settings():
    return _page({name: _form_for(name) for name in registry()})


@bp.route("/admin/paging/<sender>", methods=["POST"])
@role_required(Role.ADMIN)
def save(sender: str):
    if sender not in registry():
        abort(404)
    form = _form_for(sender, submitted=True)
    if form.validate_on_submit():
        db = get_session()
        try:
            service.save_settings(
                session=db, sender=sender, enabled=form.enabled.data,
                default_severity=form.default_severity.data,
                default_team=(form.default_team.data or "").strip() or None,
                service_teams=parse_service_teams(form.service_teams.data), actor=g.user,
            )
        except DomainError as exc:
            form.service_teams.errors = [*form.service_teams.errors, exc.message]
        else:
            db.commit()
            flash(f"Saved the {registry()[sender].LABEL} settings.", "ok")
            return redirect(url_for("hooks.settings") + f"#{sender}")
    forms = {name: _form_for(name) for name in registry()}
    forms[sender] = form
    return _page(forms, 400)
