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
    "SUSPECT_WINDOW_HOURS",
    "PRODUCTION_ENVIRONMENTS",
    "CANARY_ENVIRONMENTS",
)
# Settings read as whole numbers.
INT_SETTINGS = frozenset({"WATCH_WINDOW_DAYS", "SUSPECT_WINDOW_HOURS"})


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


def load_settings(config) -> None:
    """Apply environment variables over the defaults."""
    for name in ENV_SETTINGS:
        value = os.environ.get(name)
        if value is None or value == "":
            continue
        config[name] = int(value) if name in INT_SETTINGS else value
