"""Users, teams, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from functools import cache
from zoneinfo import available_timezones

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from incidents.audit import service as audit
from incidents.auth.models import ApiToken, Role, Scope, User, new_session_version
from incidents.db import utcnow
from incidents.errors import Conflict, InvalidInput, NotFound, Refused
from incidents.outbox import service as outbox
from incidents.team.service import team_named  # noqa: F401  (callers name teams through auth)

TOKEN_PREFIX = "lc_"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200
# Werkzeug's slow, salted scrypt. The test suite sets a cheap method here (tests/conftest.py)
# so thousands of test sign-ins stay fast; nothing in the app or its settings changes it.
PASSWORD_METHOD = "scrypt"
# One rule for every way a user is made (browser, CLI, import): a local part and a domain of
# dot-separated labels, nothing more. Special-use names (`.test`, `.internal`, `localhost`) are
# what intranets and test setups use, so they are accepted alike everywhere.
EMAIL = re.compile(r"[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)*")
MAX_EMAIL_LENGTH = 255


def normalise_email(email: str) -> str:
    """The address as stored (trimmed, lower-cased), or InvalidInput when it is not one."""
    email = (email or "").strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL.fullmatch(email):
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    return email


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash(method: str) -> str:
    """Checked against when the email is unknown, so a wrong email costs what a wrong password
    does (hashed with the method in use, so the two cost the same)."""
    return generate_password_hash("not-a-real-password", method=method)


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    role: Role | str = Role.VIEWER,
    name: str = "",
    team: str | None = None,
    timezone: str = "UTC",
) -> User:
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}", field="role") from None
    if timezone not in available_timezones():
        raise InvalidInput(f"unknown time zone {timezone!r}", field="timezone")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        timezone=timezone,
        team=team_named(session=session, name=team) if team else None,
    )
    try:
        # The unique email decides, also between two concurrent creations of one address.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise Conflict(f"a user with email {email} exists", field="email") from None
    audit.record(session=session, action="user.created", entity_type="user", entity_id=user.id,
                 role=str(role))
    return user


def user_by_email(*, session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user {email.strip()}", field="email")
    return user


def end_sessions(*, session: Session, user: User) -> None:
    """Sign the user out everywhere: every browser session ends at its next request."""
    user.session_version = new_session_version()
    session.flush()


def set_password(*, session: Session, user: User, password: str,
                 actor: User | None = None) -> None:
    """Set a new password and end every session signed in under the old one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD_LENGTH} characters",
                           field="password")
    user.password_hash = hash_password(password)
    end_sessions(session=session, user=user)
    audit.record(session=session, action="user.password_set", entity_type="user",
                 entity_id=user.id, actor=actor)


def change_own_password(*, session: Session, user: User, current: str, new: str) -> None:
    """A user's own change: the current password must be right."""
    if not check_password_hash(user.password_hash, current):
        raise InvalidInput("the current password is not right", field="current_password")
    set_password(session=session, user=user, password=new, actor=user)


def set_active(*, session: Session, user: User, active: bool,
               actor: User | None = None) -> None:
    """Deactivate (signs the user out everywhere, refuses sign-in) or activate a user."""
    if not active and actor is not None and actor.id == user.id:
        raise Refused("you cannot deactivate your own account", field="active")
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions(session=session, user=user)
    audit.record(session=session, action="user.activated" if active else "user.deactivated",
                 entity_type="user", entity_id=user.id, actor=actor)
    session.flush()


def set_role(*, session: Session, user: User, role: Role | str, actor: User | None = None) -> None:
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}", field="role") from None
    old, user.role = user.role, role
    audit.record(session=session, action="user.role_changed", entity_type="user",
                 entity_id=user.id, actor=actor, old=str(old), new=str(role))
    session.flush()


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (without saying which was wrong)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(PASSWORD_METHOD), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    *, session: Session, name: str, scopes: list[str], created_by: User | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is never stored or shown again."""
    if not name.strip():
        raise InvalidInput("a token needs a name", field="name")
    if not scopes:
        raise InvalidInput("a token needs at least one scope", field="scope")
    for scope in scopes:
        if scope not in {s.value for s in Scope}:
            raise InvalidInput(
                f"unknown scope {scope!r}; use {', '.join(s.value for s in Scope)}", field="scope"
            )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        token_hash=hash_token(raw),
        prefix=raw[:10],
        scopes=" ".join(sorted(set(scopes))),
        created_by_id=created_by.id if created_by else None,
    )
    session.add(token)
    session.flush()
    audit.record(session=session, action="token.created", entity_type="api_token",
                 entity_id=token.id, actor=created_by, scopes=token.scopes)
    return token, raw


def token_for(*, session: Session, raw: str) -> ApiToken | None:
    """The live token with this raw value, or None."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def record_token_use(*, session: Session, token: ApiToken, now: datetime,
                     resolution) -> None:
    """Note that the token was used now, unless that was noted less than `resolution` ago.

    Conditional in the database, so concurrent requests with one token write it once.
    """
    session.execute(
        update(ApiToken).where(ApiToken.id == token.id, or_(
            ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - resolution))
        .values(last_used_at=now))


def list_tokens(*, session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(*, session: Session, token_id: int, actor: User | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session=session, action="token.revoked", entity_type="api_token",
                     entity_id=token.id, actor=actor)
    session.flush()
    return token


# --- Slack accounts ------------------------------------------------------------------------------

# Queued when an unlinked Slack user acts; the worker asks Slack for their email and links the
# account with that email (slackbot/links.py). Once a day per Slack user at most.
SLACK_LINK_BY_SLACK_USER = "slack.link_user"
# Queued by an admin: the worker looks the account's email up in Slack.
SLACK_LINK_BY_EMAIL = "slack.find_user"
SLACK_USER_ID = re.compile(r"[UW][A-Za-z0-9_-]{1,39}")


def link_slack_user(*, session: Session, user: User, slack_user_id: str | None,
                    actor: User | None = None, actor_label: str = "") -> None:
    """Link the user to this Slack member id (or unlink, with None): their Slack actions are
    then theirs, with their role."""
    slack_user_id = (slack_user_id or "").strip() or None
    if slack_user_id is not None and not SLACK_USER_ID.fullmatch(slack_user_id):
        raise InvalidInput("a Slack member id looks like U0123ABCD (in Slack: the person's "
                           "profile, ⋮, Copy member ID)", field="slack_user_id")
    if slack_user_id == user.slack_user_id:
        return
    if slack_user_id is not None:
        holder = session.scalar(select(User).where(User.slack_user_id == slack_user_id))
        if holder is not None:
            raise Conflict(f"{slack_user_id} is linked to {holder.email} already",
                           field="slack_user_id")
    old, user.slack_user_id = user.slack_user_id, slack_user_id
    try:
        with session.begin_nested():  # the unique column decides between two linkers
            session.flush()
    except IntegrityError:
        raise Conflict(f"{slack_user_id} is linked to another account already",
                       field="slack_user_id") from None
    audit.record(session=session, action="user.slack_linked" if slack_user_id
                 else "user.slack_unlinked", entity_type="user", entity_id=user.id,
                 actor=actor, actor_label=actor_label, old=old or "", new=slack_user_id or "")


def link_slack_user_by_email(*, session: Session, slack_user_id: str, email: str) -> User | None:
    """Link the active, unlinked account with this email to the Slack member; None when there
    is no such account or the member is linked already (an admin's link is never replaced)."""
    if session.scalar(select(User.id).where(User.slack_user_id == slack_user_id)) is not None:
        return None
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None or not user.active or user.slack_user_id is not None:
        return None
    link_slack_user(session=session, user=user, slack_user_id=slack_user_id,
                    actor_label="slack (same email)")
    return user


def request_slack_link(*, session: Session, slack_user_id: str, today) -> bool:
    """Queue finding the account of a Slack member who acted unlinked (once a day each)."""
    return outbox.enqueue(session=session, kind=SLACK_LINK_BY_SLACK_USER,
                          key=f"{slack_user_id}:{today.isoformat()}",
                          payload={"slack_user_id": slack_user_id})


def request_slack_lookup(*, session: Session, user: User, actor: User | None = None) -> bool:
    """Queue looking the user's email up in Slack and linking the member found."""
    audit.record(session=session, action="user.slack_lookup_requested", entity_type="user",
                 entity_id=user.id, actor=actor)
    return outbox.enqueue(session=session, kind=SLACK_LINK_BY_EMAIL,
                          key=f"{user.id}:{utcnow().isoformat()}", payload={"user_id": user.id})
