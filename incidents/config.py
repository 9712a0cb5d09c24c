"""Default settings. The environment overrides them (see `load_settings`), tests override both."""

import os

DEFAULT_SECRET_KEY = "dev-only-change-me"

# Environment variables read at app creation, never at import.
ENV_SETTINGS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_API_URL",
    "SLACK_PIN_EMOJI",
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
)


class Defaults:
    SECRET_KEY = DEFAULT_SECRET_KEY
    DATABASE_URL = None  # resolved to a SQLite file under instance/ when unset
    SLACK_SIGNING_SECRET = ""
    SLACK_BOT_TOKEN = ""
    SLACK_API_URL = "https://slack.com/api/"
    SLACK_PIN_EMOJI = "pushpin"
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


def load_settings(config) -> None:
    """Apply environment variables over the defaults."""
    for name in ENV_SETTINGS:
        value = os.environ.get(name)
        if value is None or value == "":
            continue
        default = getattr(Defaults, name, None)
        config[name] = type(default)(value) if isinstance(default, int | float) else value
