"""Who may see and do what in the browser."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from incidents.appdb import get_session
from incidents.auth.models import Role, User


def load_current_user() -> None:
    """Before each request: the signed-in user, or None."""
    user_id = session.get("user_id")
    user = get_session().get(User, user_id) if user_id is not None else None
    if user is not None and (not user.active or session.get("auth_epoch") != _epoch(user)):
        session.clear()  # deactivated, or password changed since this session signed in
        user = None
    g.user = user


def _epoch(user: User) -> str:
    # Changes whenever the password does, which signs out every older session.
    return user.password_hash[-16:]


def sign_in(user: User) -> None:
    session.clear()  # a fresh session at login, so a planted session id is worthless
    session["user_id"] = user.id
    session["auth_epoch"] = _epoch(user)
    session.permanent = True


def role_required(role: Role):
    """Require a signed-in user with at least `role`; anonymous users go to the login page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if not g.user.can(role):
                abort(403, f"This needs the {role} role.")
            return view(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorator


login_required = role_required(Role.VIEWER)
