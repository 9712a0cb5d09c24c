"""The guided review page: what happened, write-up, station walk, prevention, publish."""

from __future__ import annotations

import difflib

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from incidents.appdb import get_session
from incidents.auth.forms import EmptyForm
from incidents.auth.models import Role
from incidents.auth.permissions import login_required, role_required
from incidents.blame import advice, guard
from incidents.change import attribution, suspects
from incidents.change import service as changes
from incidents.errors import DomainError
from incidents.guard import views as guard_views
from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.prevention import service as prevention
from incidents.recurrence import service as recurrence
from incidents.review import service
from incidents.review.forms import (
    DEFECT_CLASSES,
    KINDS,
    REASONS,
    STEPS,
    FindingForm,
    KeepFlagForm,
    LinkItemForm,
    NewItemForm,
    WriteUpForm,
)
from incidents.review.markdown import render
from incidents.review.models import ReviewState
from incidents.timeline import service as timeline

bp = Blueprint("review", __name__)



def _context(review, **extra) -> dict:
    """Everything the review templates show, read through the services."""
    db = get_session()
    incident = incidents.get(session=db, incident_id=review.incident_id)
    started = incident.started_at
    items = service.prevention_items(session=db, review=review) if review.id else []
    return dict(
        incident=incident,
        review=review,
        events=timeline.events_for(session=db, incident_id=incident.id),
        time_to_detect=incident.detected_at - started if incident.detected_at else None,
        time_to_restore=incident.resolved_at - started if incident.resolved_at else None,
        html=service.html(review),
        findings=service.findings(review),
        flags=service.flags(review),
        marked_writeup=service.marked_writeup(review),
        items=items,
        weakness={item.id: service.weakness(item) for item in items},
        guards=guard_views.views_for(items),
        missing=service.missing_for_publish(session=db, review=review, items=items),
        gate=service.GATE,
        reasons=dict(REASONS),
        defect_classes=dict(DEFECT_CLASSES),
        kinds=KINDS,
        steps=STEPS,
        change_panel=suspects.panel(
            session=db, incident=incident,
            window=changes.Settings.from_config(current_app.config).window),
        change_labels=attribution.LABELS,
        **extra,
    )


def _gate_fixes(incident_id: int) -> dict:
    """Where each missing piece of the gate is put right (a step of this page, or the incident)."""
    def step(anchor: str, label: str) -> dict:
        return {"href": "#" + anchor, "label": label}

    return {
        "incident_resolved": {"href": url_for("incidents.detail", incident_id=incident_id),
                              "label": "resolve it on the incident's page"},
        "station_finding": step("station-walk", "go to 3 · Station walk"),
        "defect_class": step("station-walk", "choose it in 3 · Station walk"),
        "structural_prevention_item": step("prevention", "go to 4 · Prevention"),
        "blame_flags": step("write-up", "reword or keep them in 2 · Write-up"),
    }


def _editor_context(review, form: WriteUpForm | None = None, **extra) -> dict:
    db = get_session()
    stations = line.stations(session=db)
    if form is None:
        form = WriteUpForm(data={
            "markdown": review.markdown or (service.SKELETON if review.revision == 0 else ""),
            "defect_class": review.defect_class or "", "revision": review.revision})
    new_item = NewItemForm()
    new_item.station_id.choices = {"": "—", **{str(s.id): s.name for s in stations}}
    return _context(
        review,
        form=form,
        stations=stations,
        by_station={f.station_id: f for f in review.findings},
        linkable=service.linkable_items(session=db, review=review),
        new_item=new_item,
        candidates=recurrence.candidates(session=db, incident_id=review.incident_id),
        links=recurrence.links_for(session=db, incident_id=review.incident_id),
        empty_form=EmptyForm(),
        advice_nudge=advice.NUDGE,
        gate_fixes=_gate_fixes(review.incident_id),
        **extra,
    )


def _back(incident_id: int, step: str):
    steps = dict(STEPS)
    anchor = step if step in steps else "write-up"
    return redirect(url_for("review.edit", incident_id=incident_id, _anchor=anchor))


def _started(incident_id: int):
    return service.start(session=get_session(), incident_id=incident_id)


def apply_change(incident_id: int, step: str, action, done: str | None = None):
    """Run `action(db, review)` on the incident's review (started if need be), commit, flash,
    and go back to the step; a refusal is flashed instead. The review's other pages use it too."""
    db = get_session()
    review = _started(incident_id)
    try:
        action(db, review)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        if done:
            flash(done, "ok")
    return _back(incident_id, step)


@bp.route("/incidents/<int:incident_id>/review")
@login_required
def edit(incident_id: int):
    db = get_session()
    if not g.user.can(Role.REVIEWER):
        review = service.get_or_new(session=db, incident_id=incident_id)
        if review.state != ReviewState.PUBLISHED:
            abort(403, "This review is not published yet; reviewers can open the draft.")
        return render_template("review/published.html", **_context(review))
    # A read stays a read: the review row is made by the first save, not by a visit.
    review = service.get_or_new(session=db, incident_id=incident_id)
    if review.state == ReviewState.PUBLISHED:
        return render_template("review/published.html",
                               **_context(review, empty_form=EmptyForm()))
    return render_template("review/edit.html", **_editor_context(review))


@bp.route("/incidents/<int:incident_id>/review", methods=["POST"])
@role_required(Role.REVIEWER)
def save(incident_id: int):
    db = get_session()
    review = _started(incident_id)
    form = WriteUpForm()
    if not form.validate_on_submit():
        flash("The write-up could not be saved: " + "; ".join(
            f"{form[name].label.text}: {', '.join(errors)}"
            for name, errors in form.errors.items()), "error")
        return render_template("review/edit.html", **_editor_context(
            review, form, initial_step="write-up")), 400
    try:
        service.save(session=db, review=review, base_revision=form.revision.data,
                     markdown=form.markdown.data or "", defect_class=form.defect_class.data,
                     author=g.user)
    except service.StaleReview as stale:
        db.rollback()
        # Keep every word the reviewer typed; show the current text beside it.
        current = stale.current
        # The next save builds on what they saw now (raw_data is what the field renders).
        form.revision.data = current.revision
        form.revision.raw_data = [str(current.revision)]
        conflict = {"review": current, "html": service.html(current),
                    "defect_class": current.defect_class}
        return render_template("review/edit.html",
                               **_editor_context(current, form, conflict=conflict,
                                                initial_step="write-up")), 409
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
        return render_template("review/edit.html", **_editor_context(
            review, form, initial_step="write-up")), 422
    db.commit()
    flash(f"Saved revision {review.revision}.", "ok")
    return _back(incident_id, form.step.data)


@bp.route("/incidents/<int:incident_id>/review/preview", methods=["POST"])
@role_required(Role.REVIEWER)
def preview(incident_id: int):
    """Live preview while typing: sanitised HTML and blame flags, as JSON."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("markdown"), str):
        return jsonify({"error": "send {\"markdown\": \"…\"}"}), 400
    text = data["markdown"][:service.MAX_MARKDOWN]
    review = service.find(session=get_session(), incident_id=incident_id)
    kept = {(k.rule, k.phrase) for k in review.kept_flags} if review else set()
    return jsonify({
        "html": str(render(text)),
        "flags": [dict(f.as_dict(), kept=f.key in kept) for f in guard.check(text)],
    })


@bp.route("/incidents/<int:incident_id>/review/findings", methods=["POST"])
@role_required(Role.REVIEWER)
def set_finding(incident_id: int):
    form = FindingForm()
    if not form.validate_on_submit():
        flash("Choose the station and why it did not catch the defect.", "error")
        return _back(incident_id, "station-walk")
    return apply_change(incident_id, "station-walk", lambda db, review: service.set_finding(
        session=db, review=review, station_id=form.station_id.data, reason=form.reason.data,
        note=form.note.data or "", cheapest=form.cheapest.data, actor=g.user),
        "Finding saved.")


@bp.route("/incidents/<int:incident_id>/review/findings/<int:station_id>/remove",
          methods=["POST"])
@role_required(Role.REVIEWER)
def remove_finding(incident_id: int, station_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return apply_change(incident_id, "station-walk", lambda db, review: service.remove_finding(
        session=db, review=review, station_id=station_id, actor=g.user), "Finding removed.")


@bp.route("/incidents/<int:incident_id>/review/flags/keep", methods=["POST"])
@role_required(Role.REVIEWER)
def keep_flag(incident_id: int):
    form = KeepFlagForm()
    if not form.validate_on_submit():
        flash("Say why this phrasing should stay.", "error")
        return _back(incident_id, "write-up")
    return apply_change(incident_id, "write-up", lambda db, review: service.keep_flag(
        session=db, review=review, rule=form.rule.data, phrase=form.phrase.data,
        reason=form.reason.data, actor=g.user), "Flag kept with your reason.")


@bp.route("/incidents/<int:incident_id>/review/flags/<int:kept_id>/unkeep", methods=["POST"])
@role_required(Role.REVIEWER)
def unkeep_flag(incident_id: int, kept_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return apply_change(incident_id, "write-up", lambda db, review: service.unkeep_flag(
        session=db, review=review, kept_id=kept_id))


@bp.route("/incidents/<int:incident_id>/review/items/link", methods=["POST"])
@role_required(Role.REVIEWER)
def link_item(incident_id: int):
    form = LinkItemForm()
    if not form.validate_on_submit():
        flash("Choose an item to link.", "error")
        return _back(incident_id, "prevention")
    return apply_change(incident_id, "prevention", lambda db, review: service.link_item(
        session=db, review=review, item_id=form.item_id.data, actor=g.user), "Item linked.")


@bp.route("/incidents/<int:incident_id>/review/items/new", methods=["POST"])
@role_required(Role.REVIEWER)
def new_item(incident_id: int):
    form = NewItemForm()
    form.station_id.choices = None  # any value; the service checks the station exists
    if not form.validate_on_submit():
        flash("The item could not be created: " + "; ".join(
            f"{form[name].label.text}: {', '.join(errors)}"
            for name, errors in form.errors.items()), "error")
        return _back(incident_id, "prevention")

    def create(db, review):
        station = form.station_id.data
        item = prevention.create_item(
            session=db, title=form.title.data, kind=form.kind.data,
            station_id=int(station) if station and station.isdigit() else None,
            owner_team=form.owner_team.data or None, due_date=form.due_date.data,
            tracker_url=form.tracker_url.data or None, actor=g.user)
        service.link_item(session=db, review=review, item_id=item.id, actor=g.user)
        weak = service.weakness(item)
        if weak:
            flash(f"Linked, but weak: {weak}. {advice.NUDGE}", "error")
        else:
            flash("Prevention item created and linked.", "ok")

    return apply_change(incident_id, "prevention", create)


@bp.route("/incidents/<int:incident_id>/review/items/<int:item_id>/unlink", methods=["POST"])
@role_required(Role.REVIEWER)
def unlink_item(incident_id: int, item_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return apply_change(incident_id, "prevention", lambda db, review: service.unlink_item(
        session=db, review=review, item_id=item_id, actor=g.user), "Item unlinked.")


def _state_change(incident_id: int, change, done: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return apply_change(incident_id, "publish", lambda db, review: change(
        session=db, review=review, author=g.user), done)


@bp.route("/incidents/<int:incident_id>/review/publish", methods=["POST"])
@role_required(Role.REVIEWER)
def publish(incident_id: int):
    return _state_change(incident_id, service.publish, "Published.")


@bp.route("/incidents/<int:incident_id>/review/reopen", methods=["POST"])
@role_required(Role.REVIEWER)
def reopen(incident_id: int):
    return _state_change(incident_id, service.reopen,
                         "Reopened. Publishing again checks the gate again.")


def _readable_review(incident_id: int):
    review = service.get_or_new(session=get_session(), incident_id=incident_id)
    if review.state != ReviewState.PUBLISHED and not g.user.can(Role.REVIEWER):
        abort(403, "This review is not published yet.")
    return review


def _visible(revision) -> bool:
    """Below reviewer, only what was published: drafts (and their diffs) are the reviewers'."""
    return revision.state == ReviewState.PUBLISHED or g.user.can(Role.REVIEWER)


@bp.route("/incidents/<int:incident_id>/review/revisions")
@login_required
def revisions(incident_id: int):
    review = _readable_review(incident_id)
    history = service.revisions(session=get_session(), review=review) if review.id else []
    return render_template("review/revisions.html",
                           revisions=[r for r in history if _visible(r)], **_context(review))


@bp.route("/incidents/<int:incident_id>/review/revisions/<int:number>")
@login_required
def revision(incident_id: int, number: int):
    review = _readable_review(incident_id)
    if review.id is None:
        abort(404)
    history = [r for r in service.revisions(session=get_session(), review=review)
               if _visible(r)]  # newest first
    shown = next((r for r in history if r.revision == number), None)
    if shown is None:
        abort(404, f"No revision {number} of this review to show.")
    # The diff is against the revision before that this reader may see: for a viewer, the
    # previous publication, never a draft in between.
    earlier = next((r for r in history if r.revision < number), None)
    diff = list(difflib.unified_diff(
        earlier.markdown.splitlines() if earlier else [], shown.markdown.splitlines(),
        f"revision {earlier.revision if earlier else 0}", f"revision {number}", lineterm=""))
    return render_template("review/revision.html", shown=shown,
                           shown_html=service.revision_html(shown), diff=diff, **_context(review))
