from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from incidents.db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    REVIEWER = "reviewer"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role | str) -> bool:
        return self.rank >= Role(other).rank


class Scope(StrEnum):
    API_READ = "api:read"
    API_WRITE = "api:write"
    HOOKS = "hooks"  # every hook
    # One sender's hook only (`hooks:<sender>`): a leaked token opens no other door.
    HOOKS_ALERTMANAGER = "hooks:alertmanager"
    HOOKS_GENERIC = "hooks:generic"
    HOOKS_GRAFANA = "hooks:grafana"
    HOOKS_OPSGENIE = "hooks:opsgenie"
    HOOKS_PAGERDUTY = "hooks:pagerduty"

    @classmethod
    def for_hook(cls, sender: str) -> Scope:
        """The scope of one sender's hook (a hook without one of its own takes `hooks`)."""
        try:
            return cls(f"hooks:{sender}")
        except ValueError:
            return cls.HOOKS

    def granted_by(self, scopes: set[str]) -> bool:
        """Whether tokens with these scopes may use this one: `api:write` includes reading,
        `hooks` includes every `hooks:<sender>`."""
        if self in scopes:
            return True
        if self == Scope.API_READ:
            return Scope.API_WRITE in scopes
        return self.startswith("hooks:") and Scope.HOOKS in scopes


def team_key(name: str) -> str:
    """What makes two team names the same team: case and runs of spaces do not count."""
    return " ".join(name.replace("\x00", "").split()).casefold()


class Team(Base):
    """An owner team; prevention items and incidents belong to one, reminders go to its channel.

    Teams are made and renamed by admins only; `key` is the name normalised and unique, so
    "Payments" and "payments " are one team even when two admins create them at once.
    """

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    slack_channel_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("name")
    def _keep_key(self, _field: str, name: str) -> str:
        self.key = team_key(name)
        return name


def new_session_version() -> str:
    return secrets.token_hex(16)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(20), default=Role.VIEWER)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    slack_user_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Every browser session carries the version it signed in under; a new random one (at
    # sign-out, deactivation, a password change) ends all of them at their next request.
    session_version: Mapped[str] = mapped_column(String(32), default=new_session_version)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship()

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def can(self, role: Role | str) -> bool:
        return self.active and Role(self.role).at_least(role)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no usable token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated Scope values
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: Scope) -> bool:
        return self.revoked_at is None and scope.granted_by(set(self.scope_list))


class LoginAttempt(Base):
    """A failed sign-in, kept in the database so throttling holds across app servers."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account the attempt named: the email as typed, lower-cased, known or not.
    key: Mapped[str] = mapped_column(String(255), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
