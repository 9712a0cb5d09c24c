"""Sign-in throttling per account (backoff, never a hard lock), per address and overall, and the
client address taken from a configured number of trusted proxies only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incidents import create_app
from incidents.auth.models import LoginAttempt
from incidents.db import utcnow
from tests.conftest import PASSWORD


def login(client, email, password="wrong-password", address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/login", data={"email": email, "password": password}, headers=headers)


def age_failures(session, seconds: float) -> None:
    """Let time pass for the throttle: every recorded failure happened `seconds` earlier."""
    for attempt in session.scalars(select(LoginAttempt)):
        attempt.attempted_at -= timedelta(seconds=seconds)
    session.commit()


@pytest.fixture
def proxied(app_config):
    """The app behind one trusted proxy: X-Forwarded-For names the client."""
    app = create_app({**app_config, "TRUSTED_PROXY_HOPS": 1})
    yield app
    app.extensions["linecheck.engine"].dispose()


def arrange_failures(session, count, *, key=None, address=None, seconds_apart=1) -> None:
    """Failures recorded as real sign-ins would (each login costs a slow password hash)."""
    now = utcnow()
    session.add_all([LoginAttempt(key=key or f"user{i}@example.com",
                                  address=address or f"10.0.{i // 250}.{i % 250}",
                                  attempted_at=now - timedelta(seconds=seconds_apart * (count - i)))
                     for i in range(count)])
    session.commit()


def test_account_backs_off_and_is_never_locked(app, client, make_user, session):
    app.config["LOGIN_ACCOUNT_FREE_FAILURES"] = 3
    user = make_user("viewer")
    assert [login(client, user.email).status_code for _ in range(3)] == [401] * 3
    refused = login(client, user.email, PASSWORD)
    assert refused.status_code == 429  # even the right password waits: no oracle meanwhile
    assert 1 <= int(refused.headers["Retry-After"]) <= 5
    assert b"for this account" in refused.data

    age_failures(session, 6)
    assert login(client, user.email).status_code == 401  # the wait is over: one more try
    second_wait = int(login(client, user.email).headers["Retry-After"])
    assert 5 < second_wait <= 10  # and the next wait doubles

    age_failures(session, 11)
    assert login(client, user.email, PASSWORD).status_code == 302  # the owner gets in


def test_account_wait_never_passes_the_configured_maximum(app, client, make_user, session):
    app.config["LOGIN_BACKOFF_MAX_SECONDS"] = 120
    user = make_user("viewer")
    arrange_failures(session, 25, key=user.email)
    refused = login(client, user.email, PASSWORD)
    assert refused.status_code == 429
    assert 100 < int(refused.headers["Retry-After"]) <= 120
    age_failures(session, 121)
    assert login(client, user.email, PASSWORD).status_code == 302


def test_success_starts_the_account_afresh(app, client, make_user):
    app.config["LOGIN_ACCOUNT_FREE_FAILURES"] = 2
    user = make_user("viewer")
    login(client, user.email)
    assert login(client, user.email, PASSWORD).status_code == 302
    client.post("/logout")
    assert [login(client, user.email).status_code for _ in range(2)] == [401] * 2


def test_one_address_cannot_spray_every_account(app, client, make_user):
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 4
    victims = [make_user("viewer") for _ in range(4)]
    assert [login(client, victim.email).status_code for victim in victims] == [401] * 4
    refused = login(client, make_user("viewer").email, PASSWORD)
    assert refused.status_code == 429 and b"from your address" in refused.data


def test_behind_a_trusted_proxy_each_client_has_its_own_address(proxied, make_user, session):
    proxied.config["LOGIN_ADDRESS_MAX_FAILURES"] = 3
    client = proxied.test_client()
    attacker, colleague = "203.0.113.9", "198.51.100.7"
    for i in range(3):
        assert login(client, f"target{i}@example.com", address=attacker).status_code == 401
    assert login(client, "target0@example.com", address=attacker).status_code == 429
    user = make_user("responder")
    assert login(client, user.email, PASSWORD, address=colleague).status_code == 302


def test_without_trusted_proxies_a_forwarded_address_is_ignored(app, client, make_user,
                                                                session):
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 3
    for i in range(3):
        login(client, f"target{i}@example.com", address=f"192.0.2.{i}")  # a fresh lie each time
    user = make_user("viewer")
    assert login(client, user.email, PASSWORD, address="192.0.2.200").status_code == 429


def test_failures_from_everywhere_pause_sign_in(app, client, make_user, session):
    app.config["LOGIN_GLOBAL_MAX_FAILURES"] = 40
    arrange_failures(session, 40)
    user = make_user("viewer")
    refused = login(client, user.email, PASSWORD)
    assert refused.status_code == 429 and b"many places" in refused.data
    age_failures(session, 15 * 60)
    assert login(client, user.email, PASSWORD).status_code == 302


def test_failures_are_forgotten_after_a_day(client, make_user, session):
    user = make_user("viewer")
    arrange_failures(session, 5, key=user.email)
    age_failures(session, 25 * 3600)
    login(client, "someone-else@example.com")  # recording a failure clears out old ones
    keys = session.scalars(select(LoginAttempt.key)).all()
    assert keys == ["someone-else@example.com"]
