"""Sign in, sign out, and the admin pages for users and API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from incidents.appdb import get_session
from incidents.auth import service
from incidents.auth.forms import EmptyForm, LoginForm, ProfileForm, RoleForm, TokenForm, UserForm
from incidents.auth.models import Role, User
from incidents.auth.permissions import login_required, role_required, sign_in
from incidents.errors import DomainError

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing gift. Browsers read
    # a backslash as a slash and drop tabs and newlines, so `/\evil` and `/\t/evil` are `//evil`.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc \
            and not any(ch == "\\" or ord(ch) < 0x21 for ch in target):
        return target
    return url_for("incidents.list_incidents")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        key = f"{form.email.data.strip().lower()}|{request.remote_addr}"
        if service.too_many_failures(session=db, key=key):
            flash("Too many failed sign-ins. Wait a few minutes and try again.", "error")
            return render_template("auth/login.html", form=form), 429
        user = service.authenticate(session=db, email=form.email.data,
                                    password=form.password.data)
        if user is None:
            service.record_failure(session=db, key=key)
            db.commit()
            flash("Wrong email or password.", "error")
            return render_template("auth/login.html", form=form), 401
        service.clear_failures(session=db, key=key)
        db.commit()
        sign_in(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=g.user)
    if form.validate_on_submit():
        if form.timezone.data not in available_timezones():
            form.timezone.errors.append("Unknown time zone; use a name like Europe/Berlin.")
        else:
            g.user.timezone = form.timezone.data
            get_session().commit()
            flash("Saved.", "ok")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form)


@bp.route("/admin/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users():
    db = get_session()
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = service.create_user(session=db, email=form.email.data,
                                       password=form.password.data, role=form.role.data,
                                       name=form.name.data or "", team=form.team.data or None)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            db.commit()
            flash(f"Created {user.email}.", "ok")
            return redirect(url_for("auth.users"))
    all_users = db.scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", form=form, users=all_users, role_form=RoleForm())


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@role_required(Role.ADMIN)
def set_role(user_id: int):
    db = get_session()
    form = RoleForm()
    user = db.get(User, user_id)
    if user is None:
        flash("No such user.", "error")
    elif form.validate_on_submit():
        service.set_role(session=db, user=user, role=form.role.data, actor=g.user)
        db.commit()
        flash(f"{user.email} is now {form.role.data}.", "ok")
    return redirect(url_for("auth.users"))


@bp.route("/admin/tokens", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def tokens():
    db = get_session()
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        token, created = service.create_token(session=db, name=form.name.data,
                                              scopes=[form.scope.data], created_by=g.user)
        db.commit()
    return render_template("admin/tokens.html", form=form, tokens=service.list_tokens(session=db),
                           created=created, revoke_form=EmptyForm())


@bp.route("/admin/tokens/<int:token_id>/revoke", methods=["POST"])
@role_required(Role.ADMIN)
def revoke_token(token_id: int):
    db = get_session()
    if EmptyForm().validate_on_submit():
        try:
            service.revoke_token(session=db, token_id=token_id, actor=g.user)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            db.commit()
            flash("Token revoked.", "ok")
    return redirect(url_for("auth.tokens"))
