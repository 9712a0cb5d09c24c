"""Fixtures shared by every test.

Each test runs once per database backend: SQLite always, PostgreSQL when one answers
(TEST_DATABASE_URL, else the local server). With REQUIRE_POSTGRES=1 an unreachable PostgreSQL
fails the run instead of skipping it.

Isolation: SQLite gets a fresh file per test. PostgreSQL gets one database per xdist worker,
schema created once, and every table truncated before each test. (The savepoint-per-test
recipe would be faster, but hooks, Slack and load tests need real commits seen by other
connections and threads, so one mechanism serves all.)
"""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

import incidents.models  # noqa: F401  (registers every table on Base.metadata)
from incidents import create_app
from incidents.auth import service as auth_service
from incidents.db import Base
from incidents.line import service as line_service
from incidents.team import service as team_service
from tests.helpers import ApiClient, AuthActions

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/linecheck_test"
# A cheap password hash for the suite (one PBKDF2 round, still salted): scrypt costs ~50 ms a
# hash, and the suite creates and signs in thousands of users. Production keeps scrypt.
auth_service.PASSWORD_METHOD = "pbkdf2:sha256:1"
PASSWORD = "correct-horse-battery"
GITHUB_SECRET = "github-test-secret"
GITLAB_TOKEN = "gitlab-test-token"
# Teams are made by admins, not by naming them: every test app has these from the start
# (a test needing another creates it, e.g. with the `make_team` fixture).
TEST_TEAMS = ("payments", "search", "platform", "discovery", "sre")


def _postgres_base_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG


def _postgres_reachable(url: str) -> str | None:
    """Return None when PostgreSQL answers, else the reason it does not."""
    maintenance = make_url(url).set(database="postgres")
    try:
        engine = create_engine(maintenance, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver error means "not reachable" here
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


_PG_PROBLEM = _postgres_reachable(_postgres_base_url())
BACKENDS = ["sqlite"] + (["postgresql"] if _PG_PROBLEM is None else [])


def pytest_sessionstart(session):
    if _PG_PROBLEM is not None and os.environ.get("REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(
            f"REQUIRE_POSTGRES=1 but PostgreSQL at {_postgres_base_url()} is unreachable: "
            f"{_PG_PROBLEM}"
        )


def pytest_report_header(config):
    where = "PostgreSQL at " + _postgres_base_url() if _PG_PROBLEM is None else (
        f"PostgreSQL skipped ({_PG_PROBLEM})")
    return f"linecheck backends: {', '.join(BACKENDS)}; {where}"


@pytest.fixture(scope="session")
def postgres_url(worker_id) -> str:
    """A database of this xdist worker's own, with the schema created once."""
    base = make_url(_postgres_base_url())
    name = f"{base.database}_{worker_id}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """An empty database with the schema, for one test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return url
    url = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


@pytest.fixture
def backend(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def app_config(database_url, request) -> dict:
    """Settings for the test app; a test may change them before `app` is first used."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        # CSRF is on only for tests marked `csrf`, which check that forms refuse without it.
        "WTF_CSRF_ENABLED": request.node.get_closest_marker("csrf") is not None,
        "SLACK_SIGNING_SECRET": "slack-test-signing-secret",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PAGERDUTY_WEBHOOK_SECRET": "pd-test-secret",
        "GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
        "GITLAB_WEBHOOK_TOKEN": GITLAB_TOKEN,
        "PUBLIC_BASE_URL": "http://linecheck.test",
        # Retries in tests come after milliseconds, not seconds (Retry-After is still honoured).
        "OUTBOX_BACKOFF_SECONDS": 0.05,
        "OUTBOX_MAX_BACKOFF_SECONDS": 0.2,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        from incidents.appdb import new_session

        with new_session() as session:
            line_service.seed_default_line(session=session)
            for name in TEST_TEAMS:
                team_service.create_team(session=session, name=name)
            session.commit()
    yield app
    app.extensions["linecheck.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app, database_url):
    """A session for arranging and checking data; commit what the app must see.

    It has an engine of its own with the driver's default transactions: the app's SQLite
    engine takes the write lock at BEGIN, and a test session holding it open would block the
    app under test.
    """
    engine = create_engine(database_url)
    db = Session(engine, expire_on_commit=False)
    yield db
    db.rollback()
    db.close()
    engine.dispose()


@pytest.fixture
def make_user(session):
    def make(role="viewer", email=None, password=PASSWORD, **kwargs):
        email = email or f"{role}-{os.urandom(3).hex()}@example.com"
        user = auth_service.create_user(session=session, email=email, password=password,
                                        role=role, **kwargs)
        session.commit()
        return user

    return make


@pytest.fixture
def make_team(session):
    """Create a team as an admin would (any name: XSS vectors, long names...)."""
    def make(name: str, **kwargs):
        team = team_service.create_team(session=session, name=name, **kwargs)
        session.commit()
        return team

    return make


@pytest.fixture
def auth(client, make_user):
    return AuthActions(client, make_user, PASSWORD)


@pytest.fixture
def make_token(session):
    def make(*scopes: str, name="test") -> str:
        _, raw = auth_service.create_token(session=session, name=name,
                                           scopes=list(scopes) or ["api:write"])
        session.commit()
        return raw

    return make


@pytest.fixture
def api(client, make_token):
    """A JSON client with an api:write token."""
    return ApiClient(client, make_token("api:write"))


@pytest.fixture
def api_reader(client, make_token):
    return ApiClient(client, make_token("api:read"))


class _InFlight:
    """Counts requests the served app is still handling.

    The server's request threads are daemons that shutdown() does not wait for; a request
    still running when the test ends (a browser's last preview, say) would hold a database
    connection past the engine's dispose, and the driver then warns as it is collected.
    """

    def __init__(self, app):
        self.app = app
        self.busy = 0
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.busy += 1
        try:
            # The request's session closes when the app context ends, which is when the
            # response has been produced; reading it whole keeps that inside the count.
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            with self.changed:
                self.busy -= 1
                self.changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.busy == 0, timeout=timeout)


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on loopback, for browsers and concurrent clients."""
    served = _InFlight(app)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    # A short poll interval: shutdown waits for the loop to look, and tests wait for shutdown.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
    assert served.wait_idle(timeout=30), "a request was still running 30 s after the test"


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_instance():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser_instance):
    """A fresh browser page; any JavaScript dialog fails the test (an XSS would open one)."""
    context = browser_instance.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()
    assert not dialogs, f"unexpected JavaScript dialogs: {dialogs}"
