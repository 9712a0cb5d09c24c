"""Sessions end when they should: sign-out everywhere, deactivation, a password change, their
lifetime and idle timeout; admins and the CLI can cut someone off; every user can change their
own password; production refuses a short SECRET_KEY."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from incidents import InsecureSecretKey, create_app
from incidents.audit.models import AuditEntry
from incidents.auth.models import User
from incidents.incident import service as incidents
from tests.conftest import PASSWORD


def copied_cookie(client) -> str:
    return client.get_cookie("session").value


def replay(app, cookie: str):
    """Another browser (an attacker's) presenting a copied session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def fresh(session, user) -> User:
    session.expire_all()
    return session.get(User, user.id)


@pytest.fixture
def incident_id(session):
    incident = incidents.declare(session=session, title="Disk full", severity="SEV2")
    session.commit()
    return incident.id


# --- replayed cookies ------------------------------------------------------------------------

def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, auth, incident_id):
    auth.login_as("responder")
    cookie = copied_cookie(client)
    thief = replay(app, cookie)
    assert thief.get("/incidents").status_code == 200  # the copy works while signed in
    auth.logout()
    response = thief.post(f"/incidents/{incident_id}/notes", data={"text": "planted"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(f"/incidents/{incident_id}")
    assert page.status_code == 302


def test_sign_out_ends_every_session_of_the_user(app, client, auth, make_user):
    user = auth.login_as("viewer")
    laptop = app.test_client()
    assert laptop.post("/login", data={"email": user.email, "password": PASSWORD}
                       ).status_code == 302
    auth.logout()
    assert laptop.get("/incidents").status_code == 302


def test_a_cookie_is_refused_after_the_user_is_deactivated(app, client, auth, session,
                                                           runner):
    user = auth.login_as("responder")
    thief = replay(app, copied_cookie(client))
    result = runner.invoke(args=["users", "deactivate", user.email])
    assert result.exit_code == 0, result.output
    assert thief.get("/incidents").status_code == 302
    assert client.get("/incidents").status_code == 302
    assert auth.login(user.email).status_code == 401
    result = runner.invoke(args=["users", "activate", user.email.upper()])
    assert result.exit_code == 0, result.output
    assert thief.get("/incidents").status_code == 302  # activation does not revive old sessions
    assert auth.login(user.email).status_code == 302


def test_a_cookie_is_refused_after_a_password_change(app, client, auth, session, runner):
    user = auth.login_as("viewer")
    thief = replay(app, copied_cookie(client))
    result = runner.invoke(args=["users", "set-password", user.email],
                           input="a-brand-new-password\na-brand-new-password\n")
    assert result.exit_code == 0, result.output
    assert "a-brand-new-password" not in result.output
    assert thief.get("/incidents").status_code == 302
    assert auth.login(user.email).status_code == 401
    assert auth.login(user.email, "a-brand-new-password").status_code == 302


def test_the_session_version_is_random_per_user_not_from_the_password(make_user, session):
    a = make_user("viewer", password="same-password-1")
    b = make_user("viewer", password="same-password-1")
    versions = {fresh(session, a).session_version, fresh(session, b).session_version}
    assert len(versions) == 2 and all(len(v) == 32 for v in versions)
    for user in (a, b):
        assert fresh(session, user).session_version not in fresh(session, user).password_hash


# --- lifetime and idle timeout ---------------------------------------------------------------

def _age(client, **seconds_ago):
    now = int(time.time())
    with client.session_transaction() as browser:
        for key, ago in seconds_ago.items():
            browser[key] = now - ago


def test_a_session_ends_after_its_idle_timeout(app, client, auth):
    app.config["SESSION_IDLE_MINUTES"] = 30
    auth.login_as("viewer")
    _age(client, seen_at=29 * 60)
    assert client.get("/incidents").status_code == 200  # and the idle clock starts again
    with client.session_transaction() as browser:
        assert time.time() - browser["seen_at"] < 60
    _age(client, seen_at=31 * 60)
    assert client.get("/incidents").status_code == 302


def test_a_session_ends_after_its_lifetime_however_busy(app, client, auth):
    app.config["SESSION_LIFETIME_HOURS"] = 8
    auth.login_as("viewer")
    _age(client, signed_in_at=8 * 3600 - 60)
    assert client.get("/incidents").status_code == 200
    _age(client, signed_in_at=8 * 3600 + 60)
    assert client.get("/incidents").status_code == 302


def test_the_cookie_expires_with_the_session_lifetime(app_config, database_url, make_user):
    app = create_app({**app_config, "SESSION_LIFETIME_HOURS": 2})
    user = make_user("viewer")
    response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    app.extensions["linecheck.engine"].dispose()
    expires = response.headers["Set-Cookie"].split("Expires=")[1].split(";")[0]
    remaining = parsedate_to_datetime(expires).timestamp() - time.time()
    assert 2 * 3600 - 120 < remaining <= 2 * 3600 + 5


# --- the browser: admins and every user ------------------------------------------------------

def test_admin_deactivates_activates_and_sets_a_password(app, client, auth, make_user, session):
    auth.login_as("admin")
    target = make_user("responder")
    other = app.test_client()
    other.post("/login", data={"email": target.email, "password": PASSWORD})
    assert other.get("/incidents").status_code == 200

    page = client.get(f"/admin/users/{target.id}")
    assert page.status_code == 200 and b"Deactivate" in page.data
    assert client.post(f"/admin/users/{target.id}/deactivate").status_code == 302
    assert not fresh(session, target).active
    assert other.get("/incidents").status_code == 302
    assert "deactivated" in client.get("/admin/users").get_data(as_text=True)

    assert client.post(f"/admin/users/{target.id}/activate").status_code == 302
    assert fresh(session, target).active
    short = client.post(f"/admin/users/{target.id}/password",
                        data={"password": "short", "confirm": "short"})
    assert short.status_code == 400
    client.post(f"/admin/users/{target.id}/password",
                data={"password": "set-by-the-admin", "confirm": "set-by-the-admin"})
    assert other.post("/login", data={"email": target.email, "password": "set-by-the-admin"}
                      ).status_code == 302
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "user", AuditEntry.entity_id == target.id)).all()
    assert {"user.deactivated", "user.activated", "user.password_set"} <= set(actions)


def test_admin_cannot_deactivate_their_own_account(client, auth, session):
    admin = auth.login_as("admin")
    response = client.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert fresh(session, admin).active


def test_every_user_changes_their_own_password_and_other_sessions_end(app, client, auth,
                                                                      session):
    user = auth.login_as("viewer")
    phone = app.test_client()
    phone.post("/login", data={"email": user.email, "password": PASSWORD})
    wrong = client.post("/profile/password", data={
        "current_password": "not-it", "password": "my-new-password", "confirm": "my-new-password"})
    assert wrong.status_code == 400 and b"current password is not right" in wrong.data
    mismatch = client.post("/profile/password", data={
        "current_password": PASSWORD, "password": "my-new-password", "confirm": "typo"})
    assert mismatch.status_code == 400
    done = client.post("/profile/password", data={
        "current_password": PASSWORD, "password": "my-new-password", "confirm": "my-new-password"})
    assert done.status_code == 302
    assert client.get("/incidents").status_code == 200  # this browser carries on
    assert phone.get("/incidents").status_code == 302  # the other session has ended
    assert auth.login(user.email, "my-new-password").status_code == 302


def test_guessing_the_current_password_is_throttled_like_sign_in(client, auth):
    auth.login_as("viewer")
    statuses = [client.post("/profile/password", data={
        "current_password": f"guess-{i}", "password": "my-new-password",
        "confirm": "my-new-password"}).status_code for i in range(6)]
    assert statuses == [400] * 5 + [429]


# --- the command line ------------------------------------------------------------------------

def test_cli_create_prompts_for_the_password_when_not_given(runner, session):
    result = runner.invoke(args=["users", "create", "prompted@example.com", "--role", "lead"],
                           input="prompted-password\nprompted-password\n")
    assert result.exit_code == 0, result.output
    assert "prompted-password" not in result.output
    user = session.scalar(select(User).where(User.email == "prompted@example.com"))
    assert user.role == "lead"


def test_cli_set_password_takes_no_password_argument(runner, make_user):
    user = make_user("viewer")
    result = runner.invoke(args=["users", "set-password", user.email, "--password", "x" * 12])
    assert result.exit_code != 0 and "No such option" in result.output


def test_cli_user_commands_name_an_unknown_user(runner):
    for command in ("deactivate", "activate", "set-password"):
        result = runner.invoke(args=["users", command, "nobody@example.com"])
        assert result.exit_code != 0 and "no user nobody@example.com" in result.output, command


def test_cli_set_password_refuses_a_short_one_and_changes_nothing(runner, make_user, session):
    user = make_user("viewer")
    before = fresh(session, user).password_hash
    result = runner.invoke(args=["users", "set-password", user.email], input="short\nshort\n")
    assert result.exit_code != 0 and "at least 8" in result.output
    assert fresh(session, user).password_hash == before


# --- the secret key --------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["", "short-but-not-default", "x" * 31])
def test_production_refuses_a_secret_key_shorter_than_32(monkeypatch, database_url, key,
                                                         tmp_path):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    no_file = {"SECRET_KEY_FILE": str(tmp_path / "no-key")}
    with pytest.raises(InsecureSecretKey, match="shorter than 32|development default"):
        create_app({"DATABASE_URL": database_url, **no_file,
                    **({"SECRET_KEY": key} if key else {})})


def test_a_32_character_key_or_debug_mode_starts(monkeypatch, database_url):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    for config in ({"SECRET_KEY": "k" * 32}, {"SECRET_KEY": "short", "DEBUG": True}):
        app = create_app({"DATABASE_URL": database_url, **config})
        app.extensions["linecheck.engine"].dispose()
