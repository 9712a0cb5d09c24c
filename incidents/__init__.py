"""Linecheck: the app factory. Reads like a table of contents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from incidents.config import (
    DEFAULT_SECRET_KEY,
    MIN_SECRET_KEY_LENGTH,
    Defaults,
    default_database_url,
    load_settings,
    secret_key,
)
from incidents.db import MAX_ID

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = str(ROOT / "instance")
csrf = CSRFProtect()


class DatabaseId(IntegerConverter):
    """`<int:…>` in every route: an id past the database's range is not found (404), instead
    of reaching the database and failing there."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class InsecureSecretKey(RuntimeError):
    pass


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=INSTANCE_PATH, template_folder=str(ROOT / "templates"))
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    load_settings(app.config)
    if test_config:
        app.config.update(test_config)
    embedded = not app.config.get("DATABASE_URL")
    if embedded:
        app.config["DATABASE_URL"] = default_database_url(app.instance_path)
    command = click.get_current_context(silent=True)  # None under gunicorn and in tests
    if not app.config.get("SECRET_KEY"):
        # A command in a local checkout writes the key file `make run` would, so no command
        # needs SECRET_KEY exported; a server, or a command against a shared database, never
        # invents a key of its own (it would differ from the servers').
        app.config["SECRET_KEY"] = secret_key(_secret_key_file(app),
                                              create=command is not None and embedded)
    production = not (app.debug or app.testing)
    if production:
        problem = _secret_key_problem(app.config["SECRET_KEY"], _secret_key_file(app))
        if problem and command is not None and command.command.name != "run":
            # `--help` still lists every command; each refuses as it runs (register_commands).
            app.extensions["linecheck.refuse_commands"] = problem
        elif problem:
            raise InsecureSecretKey(problem)
    app.url_map.converters["int"] = DatabaseId
    # Production serves over HTTPS (behind the load balancer): cookies never travel in clear,
    # and browsers are told never to try plain HTTP (HSTS, incidents/security.py).
    app.config["SESSION_COOKIE_SECURE"] = production
    app.config["HTTPS_ONLY"] = production
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=app.config["SESSION_LIFETIME_HOURS"])


def _secret_key_file(app: Flask) -> str:
    return app.config.get("SECRET_KEY_FILE") or str(Path(app.instance_path) / "secret_key")


def _secret_key_problem(key: str, key_file: str) -> str | None:
    advice = ("Set SECRET_KEY to a long random value (python -c 'import secrets; "
              "print(secrets.token_hex(32))'), or set FLASK_DEBUG=1 for local development.")
    if key == DEFAULT_SECRET_KEY:
        return (f"Refusing to start: SECRET_KEY is unset and {key_file} holds no key, so the "
                "built-in development default would sign sessions and exports. " + advice)
    if len(key) < MIN_SECRET_KEY_LENGTH:
        # It signs sessions and exports: a short key can be guessed offline from one cookie.
        return (f"Refusing to start: SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} "
                "characters. " + advice)
    return None


def register_extensions(app: Flask) -> None:
    from incidents import appdb, security, templating

    appdb.init_app(app)
    csrf.init_app(app)
    templating.init_app(app)
    security.init_app(app)


def register_blueprints(app: Flask) -> None:
    from incidents import api
    from incidents.auth.views import bp as auth_views
    from incidents.change.api import blp as changes_api
    from incidents.change.views import bp as changes_views
    from incidents.guard.views import bp as guard_views
    from incidents.hooks.api import blp as hooks_api
    from incidents.hooks.views import bp as hooks_views
    from incidents.hooks.webhooks import init_app as webhooks
    from incidents.incident.api import blp as incidents_api
    from incidents.incident.views import bp as incident_views
    from incidents.line.api import blp as line_api
    from incidents.line.views import bp as line_views
    from incidents.outbox import service as outbox
    from incidents.outbox.views import bp as outbox_views
    from incidents.prevention.api import blp as prevention_api
    from incidents.prevention.views import bp as prevention_views
    from incidents.recurrence.api import blp as recurrence_api
    from incidents.recurrence.views import bp as recurrence_views
    from incidents.report.api import blp as report_api
    from incidents.report.views import bp as report_views
    from incidents.review.api import blp as review_api
    from incidents.review.views import bp as review_views
    from incidents.review.workflow_views import bp as review_flow_views
    from incidents.team.views import bp as team_views
    from incidents.timeline.api import blp as timeline_api
    from incidents.tracker.api import blp as tracker_api
    from incidents.tracker.views import bp as tracker_views
    from slackbot.views import bp as slack_views

    for blueprint in (auth_views, incident_views, line_views, review_views, prevention_views,
                      recurrence_views, report_views, hooks_views, outbox_views,
                      tracker_views, guard_views, changes_views, team_views,
                      review_flow_views):
        app.register_blueprint(blueprint)
    outbox.load_handlers()  # what each kind of job is, for the pages that show dead ones
    # Machine endpoints authenticate with signatures (Slack) and tokens (API, hooks), not
    # browser sessions, so CSRF tokens do not apply to them.
    csrf.exempt(slack_views)
    app.register_blueprint(slack_views)
    api_blueprints = (incidents_api, timeline_api, line_api, review_api, prevention_api,
                      recurrence_api, report_api, hooks_api, tracker_api, changes_api,
                      webhooks())
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)
    api.init_app(app, api_blueprints)


def register_errorhandlers(app: Flask) -> None:
    from incidents import errorpages

    errorpages.init_app(app)


def register_commands(app: Flask) -> None:
    from incidents import cli

    cli.init_app(app)
    if problem := app.extensions.get("linecheck.refuse_commands"):
        cli.refuse_all(app, problem)
