"""The admin page for paging tools: each hook's URL and auth, each sender's settings, its
delivery log (accepted and refused), and a button that sends it a documented sample."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from incidents.appdb import get_session
from incidents.auth.models import Role, Team
from incidents.auth.permissions import role_required
from incidents.errors import DomainError
from incidents.hooks import receive, service
from incidents.hooks.api import apply_delivery
from incidents.hooks.forms import (
    SenderSettingsForm,
    TestEventForm,
    format_service_teams,
    parse_service_teams,
)
from incidents.hooks.tools import registry
from incidents.hooks.webhooks import SENDERS as SIGNED_SENDERS
from incidents.inbox import service as inbox
from incidents.links import public_url

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
        "stale_after_hours": settings.stale_after_hours,
        "resolve_stale": settings.resolve_stale,
    }
    return SenderSettingsForm(prefix=name, data=data, formdata=None)


def _page(forms: dict[str, SenderSettingsForm], status: int = 200):
    db = get_session()
    senders = [*registry(), *SIGNED_SENDERS]
    recent = {name: inbox.latest(session=db, sender=name, limit=5) for name in senders}
    refused = {name: receive.rejected(session=db, sender=name, limit=5) for name in senders}
    return render_template("hooks/settings.html", tools=registry(), forms=forms,
                           signed=SIGNED_SENDERS, recent=recent, refused=refused,
                           test_form=TestEventForm(), public_url=public_url), status


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
                service_teams=parse_service_teams(form.service_teams.data),
                stale_after_hours=form.stale_after_hours.data,
                resolve_stale=form.resolve_stale.data, actor=g.user,
            )
        except DomainError as exc:
            db.rollback()
            target = form[exc.field] if exc.field in form else form.service_teams
            target.errors = [*target.errors, exc.message]
        else:
            db.commit()
            # Said in the tool's own section, where the page opens (see base.html).
            flash(f"Saved the {registry()[sender].LABEL} settings.", f"ok:{sender}")
            return redirect(url_for("hooks.settings") + f"#{sender}")
    forms = {name: _form_for(name) for name in registry()}
    forms[sender] = form
    return _page(forms, 400)


@bp.route("/admin/paging/<sender>/test", methods=["POST"])
@role_required(Role.ADMIN)
def send_test(sender: str):
    """Send the tool's documented sample (a trigger, then its resolve) through the same path a
    delivery takes after authentication: parse, apply, commit."""
    tool = registry().get(sender)
    if tool is None:
        abort(404)
    if not TestEventForm().validate_on_submit():
        abort(400, "missing or stale form")
    opened = []
    for body in tool.samples():
        outcome = apply_delivery(tool, json.dumps(body).encode())
        opened += outcome.opened
        if outcome.status != "applied":
            flash(f"{tool.LABEL} test event: {outcome.status} — {outcome.message}",
                  f"error:{sender}")
            break
    else:
        where = f" (incident #{opened[0]}, opened and resolved)" if opened else ""
        flash(f"Sent a {tool.LABEL} test event through the hook{where}.", f"ok:{sender}")
    return redirect(url_for("hooks.settings") + f"#{sender}")
