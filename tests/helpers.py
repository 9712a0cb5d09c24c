"""Test helpers: sign-in actions, an API client, a query counter."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import uuid

from sqlalchemy import event

from incidents.auth.permissions import session_for


class AuthActions:
    """Sign in through the real login form (Flask tutorial's shape)."""

    def __init__(self, client, make_user, password):
        self._client = client
        self._make_user = make_user
        self._password = password

    def login(self, email, password=None):
        return self._client.post("/login", data={"email": email,
                                                 "password": password or self._password})

    def login_as(self, role="viewer", **kwargs):
        user = self._make_user(role, **kwargs)
        response = self.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    def logout(self):
        return self._client.post("/logout")


def sign_in_directly(client, user) -> None:
    """A signed-in browser session without the login form (whose POST may need a CSRF token);
    `user` must carry its current session version."""
    with client.session_transaction() as browser:
        browser.update(session_for(user))


def sign_in_browser(page, live_server: str, user, password: str, *, to: str = "/incidents"):
    """Sign `user` in through the login form of a real browser (signing out whoever was in),
    and wait for the page the app sends them to: `to`, else the incident list."""
    page.context.clear_cookies()
    page.goto(f"{live_server}/login" + ("" if to == "/incidents" else f"?next={to}"))
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", password)
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server}{to}")


class ApiClient:
    """The test client with a bearer token on every request."""

    def __init__(self, client, token):
        self.client = client
        self.token = token

    def _headers(self, kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def get(self, url, **kwargs):
        return self.client.get(url, headers=self._headers(kwargs), **kwargs)

    def post(self, url, **kwargs):
        return self.client.post(url, headers=self._headers(kwargs), **kwargs)

    def put(self, url, **kwargs):
        return self.client.put(url, headers=self._headers(kwargs), **kwargs)

    def patch(self, url, **kwargs):
        return self.client.patch(url, headers=self._headers(kwargs), **kwargs)

    def delete(self, url, **kwargs):
        return self.client.delete(url, headers=self._headers(kwargs), **kwargs)


@contextlib.contextmanager
def count_queries(engine):
    """Count SQL statements sent on `engine` inside the block: `with count_queries(e) as n:`."""
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def github_delivery(event: str, body, *, secret: str, delivery: str | None = None) -> dict:
    """Keyword arguments for `client.post` of a GitHub webhook delivery, signed as GitHub signs."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"data": raw, "content_type": "application/json", "headers": {
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={signature}", "User-Agent": "GitHub-Hookshot/test"}}


def gitlab_delivery(event: str, body, *, token: str, idempotency_key: str | None = None) -> dict:
    """Keyword arguments for `client.post` of a GitLab webhook delivery."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"X-Gitlab-Event": event, "X-Gitlab-Token": token,
               "User-Agent": "GitLab/17.6.0"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return {"data": raw, "content_type": "application/json", "headers": headers}
