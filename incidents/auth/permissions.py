"""Who may see and do what in the browser, and how long a browser session lasts."""

from __future__ import annotations

import time
from functools import wraps

from flask import abort, current_app, g, redirect, request, session, url_for

from incidents.appdb import get_session
from incidents.auth.models import Role, User
from incidents.errorpages import wants_json

# How often the idle clock in the cookie is moved on (a new cookie on every request is waste).
SEEN_RESOLUTION_SECONDS = 60


def session_for(user: User, now: float | None = None) -> dict:
    """What a signed-in browser session holds: the user, the version it signed in under, and
    when it signed in and was last seen (seconds since the epoch)."""
    now = int(now if now is not None else time.time())
    return {"user_id": user.id, "version": user.session_version, "signed_in_at": now,
            "seen_at": now}


def _expired(now: int) -> bool:
    config = current_app.config
    lifetime = config["SESSION_LIFETIME_HOURS"] * 3600
    idle = config["SESSION_IDLE_MINUTES"] * 60
    return (now - session.get("signed_in_at", 0) > lifetime
            or now - session.get("seen_at", 0) > idle)


def load_current_user() -> None:
    """Before each request: the signed-in user, or None.

    A session ends when it outlives its lifetime or idles too long, when its user is
    deactivated, or when the user's session version moved on (signed out everywhere, password
    changed): a copied cookie is refused at its next request.
    """
    g.user = None
    if wants_json():
        return  # machine endpoints take a token or a signature on every request, never a cookie
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = get_session().get(User, user_id) if isinstance(user_id, int) else None
    now = int(time.time())
    if (user is None or not user.active or session.get("version") != user.session_version
            or _expired(now)):
        session.clear()
        return
    if now - session.get("seen_at", 0) >= SEEN_RESOLUTION_SECONDS:
        session["seen_at"] = now
    g.user = user


def sign_in(user: User) -> None:
    session.clear()  # a fresh session at login, so a planted session id is worthless
    session.update(session_for(user))
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
