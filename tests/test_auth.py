import pytest
from sqlalchemy import select

from incidents.auth.models import ApiToken, Role, User


def test_login_with_right_password_then_logout(client, make_user):
    user = make_user("viewer", email="ana@example.com")
    response = client.post("/login", data={"email": "ANA@example.com ",
                                           "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get("/incidents").status_code == 200
    with client.session_transaction() as flask_session:
        assert flask_session["user_id"] == user.id
    client.post("/logout")
    assert client.get("/incidents").status_code == 302


def test_login_refused_with_wrong_password_or_unknown_email_alike(client, make_user):
    make_user("viewer", email="ana@example.com")
    wrong = client.post("/login", data={"email": "ana@example.com", "password": "nope-nope-nope"})
    unknown = client.post("/login", data={"email": "who@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert b"Wrong email or password." in wrong.data and b"Wrong email or password." in unknown.data
    assert client.get("/incidents").status_code == 302


def test_login_throttled_after_repeated_failures(client, make_user):
    make_user("viewer", email="ana@example.com")
    for _ in range(10):
        client.post("/login", data={"email": "ana@example.com", "password": "wrong-password"})
    blocked = client.post("/login", data={"email": "ana@example.com",
                                          "password": "correct-horse-battery"})
    assert blocked.status_code == 429


def test_password_is_stored_hashed(session, make_user):
    make_user("viewer", email="ana@example.com", password="a-very-secret-pw")
    stored = session.scalar(select(User.password_hash).where(User.email == "ana@example.com"))
    assert "a-very-secret-pw" not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


def test_deactivated_user_is_signed_out(client, session, auth):
    user = auth.login_as("viewer")
    session.get(User, user.id).active = False
    session.commit()
    assert client.get("/incidents").status_code == 302


def test_login_redirect_only_to_same_site_paths(client, make_user):
    make_user("viewer", email="ana@example.com")
    response = client.post("/login?next=https://evil.example/x",
                           data={"email": "ana@example.com", "password": "correct-horse-battery"})
    assert response.location == "/incidents"


@pytest.mark.parametrize(
    ("role", "can_declare"),
    [("viewer", False), ("responder", True), ("reviewer", True), ("lead", True), ("admin", True)],
)
def test_roles_decide_who_may_declare(client, auth, role, can_declare):
    auth.login_as(role)
    assert client.get("/incidents").status_code == 200
    response = client.post("/incidents/new", data={"title": "Disk full", "severity": "SEV2"})
    assert (response.status_code == 302) is can_declare
    if not can_declare:
        assert response.status_code == 403


def test_admin_pages_need_admin(client, auth):
    auth.login_as("lead")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/tokens").status_code == 403


@pytest.mark.csrf
def test_form_post_without_csrf_token_is_refused(client, make_user):
    make_user("responder", email="r@example.com")
    page = client.get("/login")
    assert b'name="csrf_token"' in page.data
    response = client.post("/login", data={"email": "r@example.com",
                                           "password": "correct-horse-battery"})
    assert response.status_code == 400
    assert client.get("/incidents").status_code == 302


@pytest.mark.csrf
def test_form_post_with_csrf_token_is_accepted(client, make_user):
    import re

    make_user("responder", email="r@example.com")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").data).group(1).decode()
    response = client.post("/login", data={"email": "r@example.com", "csrf_token": token,
                                           "password": "correct-horse-battery"})
    assert response.status_code == 302


def test_admin_creates_user_and_changes_role(client, auth, session):
    auth.login_as("admin")
    response = client.post("/admin/users", data={"email": "new@example.com", "name": "New",
                                                  "role": "reviewer", "team": "payments",
                                                  "password": "long-enough-pw"})
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.email == "new@example.com"))
    assert user.role == Role.REVIEWER and user.team.name == "payments"
    client.post(f"/admin/users/{user.id}/role", data={"role": "lead"})
    session.expire_all()
    assert session.get(User, user.id).role == Role.LEAD


def test_admin_creates_and_revokes_token_in_browser(client, auth, session, api):
    auth.login_as("admin")
    response = client.post("/admin/tokens", data={"name": "pager", "scope": "hooks"})
    assert response.status_code == 200
    token = session.scalar(select(ApiToken).where(ApiToken.name == "pager"))
    assert token.scopes == "hooks"
    assert token.prefix.encode() in response.data
    client.post(f"/admin/tokens/{token.id}/revoke")
    session.expire_all()
    assert session.get(ApiToken, token.id).revoked_at is not None


def test_profile_sets_time_zone_and_times_show_in_it(client, auth, session, api):
    created = api.post("/api/v1/incidents", json={
        "title": "Clock check", "started_at": "2026-03-01T23:30:00+00:00"}).get_json()
    auth.login_as("viewer")
    assert client.post("/profile", data={"timezone": "Mars/Olympus"}).status_code == 200
    client.post("/profile", data={"timezone": "Asia/Tokyo"})
    page = client.get(f"/incidents/{created['id']}").get_data(as_text=True)
    assert "2026-03-02 08:30 JST" in page


def test_cli_creates_user(runner, session):
    result = runner.invoke(args=["users", "create", "cli@example.com", "--role", "lead",
                                 "--password", "cli-password"])
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "cli@example.com"))
    assert user.role == Role.LEAD


def test_cli_refuses_short_password_and_duplicate_email(runner):
    short = runner.invoke(args=["users", "create", "a@example.com", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output
    runner.invoke(args=["users", "create", "a@example.com", "--password", "long-enough"])
    again = runner.invoke(args=["users", "create", "a@example.com", "--password", "long-enough"])
    assert again.exit_code != 0 and "exists" in again.output


def test_cli_token_printed_alone_on_last_line_and_only_hash_stored(runner, session, client):
    result = runner.invoke(args=["tokens", "create", "ci", "--scope", "api:read"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("lc_") and " " not in raw
    stored = session.scalar(select(ApiToken).where(ApiToken.name == "ci"))
    assert raw not in (stored.token_hash, stored.prefix)
    ok = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {raw}"})
    assert ok.status_code == 200


def test_cli_lists_and_revokes_tokens(runner, client):
    raw = runner.invoke(args=["tokens", "create", "old", "--scope", "api:read"]
                        ).output.strip().splitlines()[-1]
    listing = runner.invoke(args=["tokens", "list"]).output
    assert "old" in listing and "active" in listing
    token_id = listing.split()[0]
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    refused = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401


def test_cli_refuses_unknown_scope(runner):
    result = runner.invoke(args=["tokens", "create", "x", "--scope", "root"])
    assert result.exit_code != 0


@pytest.mark.parametrize("email", ["ops@linecheck.test", "root@localhost", "a@corp.internal"])
def test_browser_and_cli_accept_the_same_special_use_addresses(client, auth, runner, session,
                                                              email):
    auth.login_as("admin")
    response = client.post("/admin/users", data={"email": email, "role": "viewer",
                                                  "password": "long-enough-pw"})
    assert response.status_code == 302, response.get_data(as_text=True)
    other = "cli-" + email
    result = runner.invoke(args=["users", "create", other, "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    stored = set(session.scalars(select(User.email).where(User.email.in_([email, other]))))
    assert stored == {email, other}


@pytest.mark.parametrize("email", ["no-at-sign", "two@@example.com", "a b@example.com",
                                   "a@", "@example.com", "a@example..com"])
def test_browser_and_cli_refuse_the_same_non_addresses(client, auth, runner, session, email):
    auth.login_as("admin")
    response = client.post("/admin/users", data={"email": email, "role": "viewer",
                                                  "password": "long-enough-pw"})
    assert response.status_code == 200 and "is not an email address" in response.get_data(
        as_text=True)
    result = runner.invoke(args=["users", "create", email, "--password", "long-enough-pw"])
    assert result.exit_code != 0 and "is not an email address" in result.output
    assert session.scalar(select(User).where(User.email == email.lower())) is None
