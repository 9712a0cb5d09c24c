"""Incident list, declare form and incident page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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
from incidents.change import attribution, suspects
from incidents.change import service as changes
from incidents.db import utcnow
from incidents.errors import DomainError
from incidents.forms import team_choices
from incidents.hooks import staleness
from incidents.incident import service
from incidents.incident.forms import (
    DeclareForm,
    EditEventForm,
    EditIncidentForm,
    NoteForm,
    ResolveForm,
    StatusForm,
    TimesForm,
)
from incidents.incident.models import Incident, Severity, Source, Status
from incidents.outbox import service as outbox
from incidents.review import policy as review_policy
from incidents.review import queue as review_queue
from incidents.team import service as teams
from incidents.timeline import service as timeline
from incidents.timeline.models import TimelineEvent

bp = Blueprint("incidents", __name__)

PAGE_SIZE = 50
SHOW = ("open", "resolved")


@bp.route("/")
def index():
    return redirect(url_for("incidents.list_incidents"))


@bp.route("/incidents")
@login_required
def list_incidents():
    args = request.args
    status = args.get("status") or None
    # Open and resolved incidents are two tabs; a status filter picks its own tab.
    show = args.get("show") if args.get("show") in SHOW else "open"
    if status:
        show = "resolved" if status == Status.RESOLVED else "open"
    filters = service.IncidentFilter(
        status=status,
        severity=args.get("severity") or None,
        service=args.get("service") or None,
        q=args.get("q") or None,
        open=show == "open",
    )
    before = args.get("before", type=int)
    try:
        items, cursor = service.search(session=get_session(), filters=filters, before=before,
                                       limit=PAGE_SIZE)
    except DomainError as exc:
        flash(exc.message, "error")
        items, cursor = [], None
    rules = review_policy.current(session=get_session())
    return render_template(
        "incidents/list.html", incidents=items, cursor=cursor, filters=filters, show=show,
        quiet=staleness.quiet_among(session=get_session(), incidents_shown=items),
        reviews=review_queue.standings(session=get_session(), rules=rules, incidents=items),
        statuses=list(Status), severities=list(Severity),
        services=service.services(session=get_session()),
    )


@bp.route("/incidents/new", methods=["GET", "POST"])
@role_required(Role.RESPONDER)
def declare():
    form = DeclareForm()
    db = get_session()
    form.team.choices = team_choices(t.name for t in teams.teams(session=db))
    if form.validate_on_submit():
        started_at = _aware(form.started_at.data)
        try:
            incident = service.declare(
                session=db, title=form.title.data, severity=form.severity.data,
                service=form.service.data, team=form.team.data or None,
                description=form.description.data or "", source=Source.WEB,
                detection_method=form.detection_method.data,
                change_origin=form.change_origin.data, declared_by=g.user,
                # Declared by hand: detected by now at the latest, whenever it started.
                started_at=started_at, detected_at=utcnow() if started_at else None,
            )
        except DomainError as exc:
            db.rollback()
            flash(exc.message, "error")
        else:
            db.commit()
            flash(f"Incident #{incident.id} declared.", "ok")
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    now_local = utcnow().astimezone(ZoneInfo(g.user.timezone)).strftime("%Y-%m-%dT%H:%M")
    return render_template("incidents/new.html", form=form, now_local=now_local)


def _aware(value: datetime | None) -> datetime | None:
    """A time typed in the viewer's zone, made aware."""
    return value.replace(tzinfo=ZoneInfo(g.user.timezone)) if value else None


def _incident_or_404(incident_id: int):
    incident = get_session().get(Incident, incident_id)
    if incident is None:
        abort(404, f"No incident #{incident_id}.")
    return incident


@bp.route("/incidents/<int:incident_id>")
@login_required
def detail(incident_id: int):
    incident = _incident_or_404(incident_id)
    events = timeline.events_for(session=get_session(), incident_id=incident_id)
    zone = ZoneInfo(g.user.timezone)

    def local(value):
        return value.astimezone(zone).replace(tzinfo=None) if value else None

    times = TimesForm(data={"started_at": local(incident.started_at),
                            "detected_at": local(incident.detected_at),
                            "resolved_at": local(incident.resolved_at)})
    incident_form = EditIncidentForm(data={
        "title": incident.title, "service": incident.service or "",
        "team": incident.team.name if incident.team else "",
        "description": incident.description})
    incident_form.team.choices = team_choices(t.name for t in teams.teams(session=get_session()))
    window = changes.Settings.from_config(current_app.config).window
    return render_template(
        "incidents/detail.html", incident=incident, events=events, note_form=NoteForm(),
        quiet=staleness.quiet_among(session=get_session(),
                                    incidents_shown=[incident]).get(incident.id),
        failures=[outbox.failure_text(job) for job in outbox.dead(
            session=get_session(), incident_id=incident_id, limit=10)],
        status_form=StatusForm(data={"severity": incident.severity, "status": incident.status}),
        resolve_form=ResolveForm(), times_form=times, edit_form=EditEventForm(),
        incident_form=incident_form,
        editable_kinds=timeline.EDITABLE_KINDS,
        change_panel=suspects.panel(session=get_session(), incident=incident, window=window),
        change_labels=attribution.LABELS,
    )


def _apply(incident_id: int, action, done: str) -> object:
    """Run a change against the incident, commit, say `done`, go back to its page (the service
    queued what Slack must hear)."""
    db = get_session()
    incident = _incident_or_404(incident_id)
    try:
        action(db, incident)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(done, "ok")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.route("/incidents/<int:incident_id>/notes", methods=["POST"])
@role_required(Role.RESPONDER)
def add_note(incident_id: int):
    form = NoteForm()
    if not form.validate_on_submit():
        flash("A note needs text.", "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    return _apply(incident_id, lambda db, incident: timeline.add_event(
        session=db, incident=incident, text=form.text.data, author=g.user),
        "Note added to the timeline.")


@bp.route("/incidents/<int:incident_id>/status", methods=["POST"])
@role_required(Role.RESPONDER)
def change_status(incident_id: int):
    form = StatusForm()
    if not form.validate_on_submit():
        flash("Choose a severity and a status.", "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    changes = service.Changes(severity=form.severity.data, status=form.status.data)
    return _apply(incident_id, lambda db, incident: service.update(
        session=db, incident=incident, changes=changes, actor=g.user),
        "Severity and status saved.")


@bp.route("/incidents/<int:incident_id>/resolve", methods=["POST"])
@role_required(Role.RESPONDER)
def resolve(incident_id: int):
    form = ResolveForm()
    if not form.validate_on_submit():
        abort(400)
    return _apply(incident_id, lambda db, incident: service.resolve(
        session=db, incident=incident, summary=form.summary.data, actor=g.user),
        f"Incident #{incident_id} resolved.")


@bp.route("/incidents/<int:incident_id>/edit", methods=["POST"])
@role_required(Role.RESPONDER)
def edit(incident_id: int):
    form = EditIncidentForm()
    if not form.validate_on_submit():
        flash("The incident was not saved: " + "; ".join(
            f"{form[name].label.text}: {', '.join(errors)}"
            for name, errors in form.errors.items()), "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    # Empty service or team clears it, as the API's PATCH with "" does.
    changes = service.Changes(title=form.title.data, service=form.service.data or "",
                              team=form.team.data or "",
                              description=form.description.data or "")
    return _apply(incident_id, lambda db, incident: service.update(
        session=db, incident=incident, changes=changes, actor=g.user), "Incident saved.")


@bp.route("/incidents/<int:incident_id>/times", methods=["POST"])
@role_required(Role.RESPONDER)
def correct_times(incident_id: int):
    form = TimesForm()
    if not form.validate_on_submit():
        flash("Times need the form YYYY-MM-DDTHH:MM.", "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    changes = service.Changes(started_at=_aware(form.started_at.data),
                              detected_at=_aware(form.detected_at.data),
                              resolved_at=_aware(form.resolved_at.data))
    return _apply(incident_id, lambda db, incident: service.update(
        session=db, incident=incident, changes=changes, actor=g.user),
        "Times saved.")


@bp.route("/incidents/<int:incident_id>/events/<int:event_id>", methods=["POST"])
@role_required(Role.RESPONDER)
def edit_event(incident_id: int, event_id: int):
    form = EditEventForm()
    event = get_session().get(TimelineEvent, event_id)
    if event is None or event.incident_id != incident_id:
        abort(404)
    if not form.validate_on_submit():
        flash("An event needs text.", "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    return _apply(incident_id, lambda db, incident: timeline.edit_event(
        session=db, event_id=event_id, text=form.text.data, editor=g.user),
        "Event edited; its earlier text is kept.")
