"""Default settings. The environment overrides them (see `load_settings`), tests override both."""

import os
import secrets

DEFAULT_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_KEY_LENGTH = 32

# Environment variables read at app creation, never at import.
ENV_SETTINGS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_API_URL",
    "SLACK_PIN_EMOJI",
    "SLACK_LINKED_USERS_ONLY",
    "PAGERDUTY_WEBHOOK_SECRET",
    "GITHUB_WEBHOOK_SECRET",
    "GITLAB_WEBHOOK_TOKEN",
    "PUBLIC_BASE_URL",
    "WATCH_WINDOW_DAYS",
    "OUTBOX_LEASE_SECONDS",
    "OUTBOX_BACKOFF_SECONDS",
    "OUTBOX_MAX_BACKOFF_SECONDS",
    "OUTBOX_MAX_ATTEMPTS",
    "OUTBOX_POLL_SECONDS",
    "OUTBOX_KEEP_DONE_DAYS",
    "SESSION_LIFETIME_HOURS",
    "SESSION_IDLE_MINUTES",
    "TRUSTED_PROXY_HOPS",
    "LOGIN_ACCOUNT_FREE_FAILURES",
    "LOGIN_BACKOFF_MAX_SECONDS",
    "LOGIN_ADDRESS_MAX_FAILURES",
    "LOGIN_GLOBAL_MAX_FAILURES",
    # Trackers: API bases (tests point them at fakes), credentials, webhook secrets.
    "GITHUB_API_URL",
    "GITHUB_TOKEN",
    "JIRA_API_URL",
    "JIRA_EMAIL",
    "JIRA_API_TOKEN",
    "JIRA_WEBHOOK_SECRET",
    "LINEAR_API_URL",
    "LINEAR_API_KEY",
    "LINEAR_WEBHOOK_SECRET",
    "TRACKER_SYNC_MINUTES",
    "SUSPECT_WINDOW_HOURS",
    "PRODUCTION_ENVIRONMENTS",
    "CANARY_ENVIRONMENTS",
)
# Settings read as whole numbers.


class Defaults:
    SECRET_KEY = None  # resolved by `secret_key`: the environment, else SECRET_KEY_FILE
    SECRET_KEY_FILE = None  # instance/secret_key when unset
    DATABASE_URL = None  # resolved to a SQLite file under instance/ when unset
    SLACK_SIGNING_SECRET = ""
    SLACK_BOT_TOKEN = ""
    SLACK_API_URL = "https://slack.com/api/"
    SLACK_PIN_EMOJI = "pushpin"
    # Only Slack members linked to a Linecheck account (with the responder role) may change
    # incidents from Slack; otherwise anyone in the workspace may, and linked accounts' roles
    # still hold.
    SLACK_LINKED_USERS_ONLY = False
    PAGERDUTY_WEBHOOK_SECRET = ""
    GITHUB_WEBHOOK_SECRET = ""
    GITLAB_WEBHOOK_TOKEN = ""
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    WATCH_WINDOW_DAYS = 90
    # The worker (incidents/outbox/worker.py): how long a claim holds a job between heartbeats,
    # the first retry's delay (doubled per attempt, up to the maximum), when to give up, and
    # how often an idle worker looks for new jobs.
    OUTBOX_LEASE_SECONDS = 60.0
    OUTBOX_BACKOFF_SECONDS = 5.0
    OUTBOX_MAX_BACKOFF_SECONDS = 3600.0
    OUTBOX_MAX_ATTEMPTS = 20
    OUTBOX_POLL_SECONDS = 1.0
    OUTBOX_KEEP_DONE_DAYS = 30.0
    # A browser session ends this long after sign-in, or after this long without a request.
    SESSION_LIFETIME_HOURS = 12
    SESSION_IDLE_MINUTES = 60
    # Proxies in front of the app whose X-Forwarded-For/-Proto are believed (0: none).
    TRUSTED_PROXY_HOPS = 0
    # Sign-in throttling (incidents/auth/throttle.py): failures an account may have before each
    # further attempt waits (5 s, 10 s, 20 s … up to the maximum); failures per address and in
    # all within 15 minutes before sign-in from there, or at all, pauses.
    LOGIN_ACCOUNT_FREE_FAILURES = 5
    LOGIN_BACKOFF_MAX_SECONDS = 300
    LOGIN_ADDRESS_MAX_FAILURES = 30
    LOGIN_GLOBAL_MAX_FAILURES = 1000
    GITHUB_API_URL = "https://api.github.com"
    GITHUB_TOKEN = ""
    JIRA_API_URL = ""  # empty: each Jira tracker's own site
    JIRA_EMAIL = ""
    JIRA_API_TOKEN = ""
    JIRA_WEBHOOK_SECRET = ""
    LINEAR_API_URL = "https://api.linear.app/graphql"
    LINEAR_API_KEY = ""
    LINEAR_WEBHOOK_SECRET = ""
    TRACKER_SYNC_MINUTES = 60  # how often the worker reconciles every open item's issue
    # Changes deployed this long before an incident started are its suspects.
    SUSPECT_WINDOW_HOURS = 24
    # Deploys to these environments (comma-separated, any case) reach production; GitHub's
    # production_environment flag and GitLab's production tier count too.
    PRODUCTION_ENVIRONMENTS = "production,prod,live"
    # A deploy here before production marks the change as canaried.
    CANARY_ENVIRONMENTS = "canary"
    MAX_CONTENT_LENGTH = 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # flask-smorest: the OpenAPI document lives beside the API it describes.
    API_TITLE = "Linecheck"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"


def default_database_url(instance_path: str) -> str:
    """The embedded default: a SQLite file under instance/."""
    os.makedirs(instance_path, exist_ok=True)
    return f"sqlite:///{os.path.join(instance_path, 'linecheck.db')}"


def secret_key(path: str, *, create: bool) -> str:
    """The key in the file at `path` (the one `make run` writes), writing a new random one
    first when there is none and `create` allows it; else the built-in development key,
    which production refuses."""
    try:
        with open(path) as file:
            key = file.read().strip()
    except FileNotFoundError:
        key = ""
    if key or not create:
        return key or DEFAULT_SECRET_KEY
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Written whole under a temporary name, then linked into place: two commands starting at
    # once (the web server and the worker of `make run`) end up with the same key.
    draft = f"{path}.{os.getpid()}.new"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    return secret_key(path, create=False)


def load_settings(config) -> None:
    """Apply environment variables over the defaults."""
    for name in ENV_SETTINGS:
        value = os.environ.get(name)
        if value is None or value == "":
            continue
        default = getattr(Defaults, name, None)
        if isinstance(default, bool):
            config[name] = value.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int | float):
            config[name] = type(default)(value)
        else:
            config[name] = value
