"""Sign-in throttling: per account with backoff, per address, and across all sign-ins.

Failures are rows in the database, so the limits hold across app servers. The account is
the email as typed (known or not, so throttling says nothing about who has an account); it
is never locked: after a few free failures each further attempt waits twice as long as the
one before (5 s, 10 s, 20 s … up to a maximum), so a guesser gets a dozen tries an hour while
the owner waits minutes at worst. An address that fails too often waits out the window (one place
spraying every account), and so does everyone when failures pile up from everywhere (a
spray from many places).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from incidents.auth.models import LoginAttempt
from incidents.db import utcnow

WINDOW = timedelta(minutes=15)  # per address and global counts
FIRST_WAIT = timedelta(seconds=5)  # after the free failures; doubles with each further one
ACCOUNT_MEMORY = timedelta(hours=24)  # an account's failures count this long, or until success


@dataclass(frozen=True)
class Limits:
    account_free_failures: int = 5
    backoff_max: timedelta = timedelta(minutes=5)
    address_max_failures: int = 30
    global_max_failures: int = 1000

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(account_free_failures=config["LOGIN_ACCOUNT_FREE_FAILURES"],
                   backoff_max=timedelta(seconds=config["LOGIN_BACKOFF_MAX_SECONDS"]),
                   address_max_failures=config["LOGIN_ADDRESS_MAX_FAILURES"],
                   global_max_failures=config["LOGIN_GLOBAL_MAX_FAILURES"])


@dataclass(frozen=True)
class Verdict:
    """Whether a sign-in may be tried now; if not, why and for how many seconds."""

    wait_seconds: int = 0
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.wait_seconds <= 0


def _normal(email: str) -> str:
    return email.strip().lower()[:255]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, ceil((moment - now).total_seconds()))


def check(*, session: Session, email: str, address: str, limits: Limits,
          now: datetime | None = None) -> Verdict:
    """May someone at `address` try to sign in as `email` now? Ask before checking a password."""
    now = now or utcnow()
    since = now - WINDOW
    overall, overall_oldest = session.execute(
        select(func.count(), func.min(LoginAttempt.attempted_at))
        .where(LoginAttempt.attempted_at >= since)).one()
    if overall >= limits.global_max_failures:
        return Verdict(_seconds_until(overall_oldest + WINDOW, now),
                       "Sign-in is paused after many failed attempts from many places.")
    here, here_oldest = session.execute(
        select(func.count(), func.min(LoginAttempt.attempted_at))
        .where(LoginAttempt.address == address, LoginAttempt.attempted_at >= since)).one()
    if here >= limits.address_max_failures:
        return Verdict(_seconds_until(here_oldest + WINDOW, now),
                       "Too many failed sign-ins from your address.")
    failures, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.attempted_at))
        .where(LoginAttempt.key == _normal(email),
               LoginAttempt.attempted_at >= now - ACCOUNT_MEMORY)).one()
    if failures >= limits.account_free_failures:
        extra = failures - limits.account_free_failures
        delay = min(FIRST_WAIT * 2 ** min(extra, 30), limits.backoff_max)
        if latest + delay > now:
            return Verdict(_seconds_until(latest + delay, now),
                           "Too many failed sign-ins for this account.")
    return Verdict()


def record_failure(*, session: Session, email: str, address: str) -> None:
    now = utcnow()
    session.add(LoginAttempt(key=_normal(email), address=address[:64], attempted_at=now))
    # Forget what no limit looks at any more, so the table stays small.
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - ACCOUNT_MEMORY))
    session.flush()


def clear_account(*, session: Session, email: str) -> None:
    """After a successful sign-in: the account starts afresh (its address's failures stay)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == _normal(email)))
