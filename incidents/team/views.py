"""Admin pages for owner teams: add, rename, merge, members and the Slack channel."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from incidents.appdb import get_session
from incidents.auth.forms import EmptyForm
from incidents.auth.models import Role, Team, User
from incidents.auth.permissions import role_required
from incidents.errors import DomainError, InvalidInput
from incidents.team import service
from incidents.team.forms import ChannelForm, MemberForm, MergeForm, RenameForm, TeamForm

bp = Blueprint("teams", __name__)


@bp.route("/admin/teams", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin():
    db = get_session()
    form = TeamForm()
    status = 200
    if form.validate_on_submit():
        try:
            team = service.create_team(session=db, name=form.name.data,
                                       slack_channel_id=form.slack_channel_id.data,
                                       actor=g.user)
        except DomainError as exc:
            db.rollback()
            (form[exc.field] if exc.field in form else form.name).errors.append(exc.message)
            status = 400
        else:
            db.commit()
            flash(f"Added team {team.name}.", "ok")
            return redirect(url_for("teams.admin"))
    elif form.is_submitted():
        status = 400
    return render_template("teams/admin.html", form=form, teams=service.teams(session=db),
                           counts=service.counts(session=db)), status


def _team_or_404(team_id: int) -> Team:
    team = get_session().get(Team, team_id)
    if team is None:
        abort(404, f"No team {team_id}.")
    return team


def _page(team: Team, status: int = 200, **forms):
    db = get_session()
    member_form = forms.get("member_form") or MemberForm(formdata=None)
    member_form.user_id.choices = [
        (user.id, f"{user.email}" + (f" (now {user.team.name})" if user.team else ""))
        for user in db.scalars(select(User).where(User.active.is_(True))
                               .where((User.team_id != team.id) | User.team_id.is_(None))
                               .order_by(User.email))]
    merge_form = forms.get("merge_form") or MergeForm(formdata=None)
    merge_form.into.choices = [(other.id, other.name) for other in service.teams(session=db)
                               if other.id != team.id]
    return render_template(
        "teams/team.html", team=team, members=service.members(session=db, team=team),
        counts=service.counts(session=db).get(team.id, {"incidents": 0, "items": 0,
                                                         "members": 0}),
        rename_form=forms.get("rename_form") or RenameForm(formdata=None, name=team.name),
        channel_form=forms.get("channel_form") or ChannelForm(
            formdata=None, slack_channel_id=team.slack_channel_id or ""),
        member_form=member_form, merge_form=merge_form, empty_form=EmptyForm(),
    ), status


@bp.route("/admin/teams/<int:team_id>")
@role_required(Role.ADMIN)
def team(team_id: int):
    return _page(_team_or_404(team_id))


def _apply(team: Team, form, form_name: str, action, done) -> object:
    """Validate, run the service, commit and go back to the team's page (or show the error)."""
    db = get_session()
    if form.validate_on_submit():
        try:
            result = action(db)
        except DomainError as exc:
            db.rollback()
            form_field = form[exc.field] if exc.field in form else None
            if form_field is not None:
                form_field.errors = [*form_field.errors, exc.message]
            else:
                flash(exc.message, "error")
        else:
            db.commit()
            flash(done(result), "ok")
            return redirect(url_for("teams.team", team_id=result.id if isinstance(
                result, Team) else team.id))
    return _page(_team_or_404(team.id), 400, **{form_name: form})


@bp.route("/admin/teams/<int:team_id>/rename", methods=["POST"])
@role_required(Role.ADMIN)
def rename(team_id: int):
    team, form = _team_or_404(team_id), RenameForm()
    old = team.name
    return _apply(team, form, "rename_form", lambda db: service.rename_team(
        session=db, team=team, name=form.name.data, actor=g.user),
        lambda renamed: f"Renamed {old} to {renamed.name}.")


@bp.route("/admin/teams/<int:team_id>/channel", methods=["POST"])
@role_required(Role.ADMIN)
def channel(team_id: int):
    team, form = _team_or_404(team_id), ChannelForm()
    return _apply(team, form, "channel_form", lambda db: service.set_channel(
        session=db, team=team, slack_channel_id=form.slack_channel_id.data, actor=g.user),
        lambda saved: f"Reminders for {saved.name} go to {saved.slack_channel_id}."
        if saved.slack_channel_id else f"{saved.name} has no Slack channel now.")


def _user(db, user_id) -> User:
    user = db.get(User, user_id) if user_id else None
    if user is None:
        raise InvalidInput("choose a user", field="user_id")
    return user


@bp.route("/admin/teams/<int:team_id>/members", methods=["POST"])
@role_required(Role.ADMIN)
def add_member(team_id: int):
    team, form = _team_or_404(team_id), MemberForm()

    def add(db):
        user = _user(db, form.user_id.data)
        service.set_member(session=db, user=user, team=team, actor=g.user)
        return user

    return _apply(team, form, "member_form", add,
                  lambda user: f"{user.email} is in {team.name} now.")


@bp.route("/admin/teams/<int:team_id>/members/<int:user_id>/remove", methods=["POST"])
@role_required(Role.ADMIN)
def remove_member(team_id: int, user_id: int):
    team, form = _team_or_404(team_id), EmptyForm()

    def remove(db):
        user = _user(db, user_id)
        if user.team_id == team.id:
            service.set_member(session=db, user=user, team=None, actor=g.user)
        return user

    return _apply(team, form, "empty_form", remove,
                  lambda user: f"{user.email} is no longer in {team.name}.")


@bp.route("/admin/teams/<int:team_id>/merge", methods=["POST"])
@role_required(Role.ADMIN)
def merge(team_id: int):
    team, form = _team_or_404(team_id), MergeForm()
    name = team.name

    def run(db):
        into = db.get(Team, form.into.data) if form.into.data else None
        if into is None:
            raise InvalidInput("choose the team to merge into", field="into")
        return service.merge_teams(session=db, source=team, into=into, actor=g.user)

    return _apply(team, form, "merge_form", run,
                  lambda into: f"Merged {name} into {into.name}; its incidents, items and "
                               f"members are {into.name}'s now.")
