"""Sign in and out, the user's own profile and password, and the admin pages for users and
API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from incidents.appdb import get_session
from incidents.auth import service, throttle
from incidents.auth.forms import (
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RoleForm,
    SlackLinkForm,
    TokenForm,
    UserForm,
)
from incidents.auth.models import Role, User
from incidents.auth.permissions import login_required, role_required, sign_in
from incidents.errors import DomainError
from incidents.forms import team_choices
from incidents.team import service as teams

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing gift. Browsers read
    # a backslash as a slash and drop tabs and newlines, so `/\evil` and `/\t/evil` are `//evil`.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc \
            and not any(ch == "\\" or ord(ch) < 0x21 for ch in target):
        return target
    return url_for("incidents.list_incidents")


def _throttle_verdict(email: str) -> throttle.Verdict:
    # With TRUSTED_PROXY_HOPS set, ProxyFix has put the client's own address here.
    return throttle.check(session=get_session(), email=email,
                          address=request.remote_addr or "unknown",
                          limits=throttle.Limits.from_config(current_app.config))


def _record_failure(email: str) -> None:
    throttle.record_failure(session=get_session(), email=email,
                            address=request.remote_addr or "unknown")


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


def _throttled(template: str, verdict: throttle.Verdict, **context):
    flash(f"{verdict.reason} Try again in {_wait_text(verdict.wait_seconds)}.", "error")
    return render_template(template, **context), 429, {"Retry-After": str(verdict.wait_seconds)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        email = form.email.data
        verdict = _throttle_verdict(email)
        if not verdict.allowed:  # asked before the password is checked: no oracle while waiting
            return _throttled("auth/login.html", verdict, form=form)
        user = service.authenticate(session=db, email=email, password=form.password.data)
        if user is None:
            _record_failure(email)
            db.commit()
            flash("Wrong email or password.", "error")
            return render_template("auth/login.html", form=form), 401
        throttle.clear_account(session=db, email=email)
        db.commit()
        sign_in(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out everywhere: every session of this user ends, not only this browser's."""
    form = EmptyForm()
    if form.validate_on_submit():
        if g.user is not None:
            db = get_session()
            service.end_sessions(session=db, user=g.user)
            db.commit()
        session.clear()
    return redirect(url_for("auth.login"))


def _profile_page(form=None, password_form=None, status: int = 200):
    return render_template("auth/profile.html", form=form or ProfileForm(obj=g.user),
                           password_form=password_form or ChangePasswordForm()), status


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
    return _profile_page(form)


@bp.route("/profile/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _profile_page(password_form=form, status=400)
    db = get_session()
    # The current password is guessed like a sign-in: the same account throttle applies.
    verdict = _throttle_verdict(g.user.email)
    if not verdict.allowed:
        return _throttled("auth/profile.html", verdict, form=ProfileForm(obj=g.user),
                          password_form=form)
    try:
        service.change_own_password(session=db, user=g.user, current=form.current_password.data,
                                    new=form.password.data)
    except DomainError as exc:
        db.rollback()
        if exc.field == "current_password":
            _record_failure(g.user.email)
            db.commit()
        flash(exc.message, "error")
        return _profile_page(password_form=form, status=400)
    db.commit()
    sign_in(g.user)  # this browser carries on under the new session version; others end
    flash("Password changed. Your other sessions have ended.", "ok")
    return redirect(url_for("auth.profile"))


@bp.route("/admin/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users():
    db = get_session()
    form = UserForm()
    form.team.choices = team_choices(t.name for t in teams.teams(session=db))
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


def _user_or_404(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404, f"No user {user_id}.")
    return user


def _user_page(user: User, status: int = 200, password_form=None, slack_form=None):
    return render_template(
        "admin/user.html", user=user, role_form=RoleForm(),
        password_form=password_form or PasswordForm(), empty_form=EmptyForm(),
        slack_form=slack_form or SlackLinkForm(formdata=None,
                                               slack_user_id=user.slack_user_id or ""),
        slack_ready=bool(current_app.config.get("SLACK_BOT_TOKEN"))), status


@bp.route("/admin/users/<int:user_id>")
@role_required(Role.ADMIN)
def user(user_id: int):
    return _user_page(_user_or_404(user_id))


@bp.route("/admin/users/<int:user_id>/slack", methods=["POST"])
@role_required(Role.ADMIN)
def link_slack(user_id: int):
    user, form = _user_or_404(user_id), SlackLinkForm()
    if not form.validate_on_submit():
        return _user_page(user, 400, slack_form=form)
    db = get_session()
    try:
        service.link_slack_user(session=db, user=user, slack_user_id=form.slack_user_id.data,
                                actor=g.user)
    except DomainError as exc:
        db.rollback()
        form.slack_user_id.errors = [*form.slack_user_id.errors, exc.message]
        return _user_page(_user_or_404(user_id), 400, slack_form=form)
    db.commit()
    flash(f"{user.email} is linked to Slack member {user.slack_user_id}." if user.slack_user_id
          else f"{user.email} is not linked to Slack now.", "ok")
    return redirect(url_for("auth.user", user_id=user_id))


@bp.route("/admin/users/<int:user_id>/slack/lookup", methods=["POST"])
@role_required(Role.ADMIN)
def lookup_slack(user_id: int):
    user = _user_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    service.request_slack_lookup(session=db, user=user, actor=g.user)
    db.commit()
    flash(f"Looking {user.email} up in Slack; the link appears here when Slack knows the "
          f"address (the outbox page shows it if not).", "ok")
    return redirect(url_for("auth.user", user_id=user_id))


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


def _set_active(user_id: int, active: bool):
    user = _user_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        service.set_active(session=db, user=user, active=active, actor=g.user)
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(f"{user.email} is {'active again' if active else 'deactivated and signed out'}.",
              "ok")
    return redirect(url_for("auth.user", user_id=user_id))


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
@role_required(Role.ADMIN)
def deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.route("/admin/users/<int:user_id>/activate", methods=["POST"])
@role_required(Role.ADMIN)
def activate(user_id: int):
    return _set_active(user_id, True)


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@role_required(Role.ADMIN)
def set_password(user_id: int):
    user = _user_or_404(user_id)
    form = PasswordForm()
    if not form.validate_on_submit():
        return _user_page(user, 400, password_form=form)
    db = get_session()
    service.set_password(session=db, user=user, password=form.password.data, actor=g.user)
    db.commit()
    if user.id == g.user.id:
        sign_in(user)
    flash(f"New password set for {user.email}; their sessions have ended.", "ok")
    return redirect(url_for("auth.user", user_id=user_id))


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
