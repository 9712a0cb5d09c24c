"""The app's database: one `Database` per app, and the session of the request in hand.

A request's session reads without the write lock (SQLite begins it deferred) when the request
is a GET or HEAD, and takes it up front for anything else. Once a writing request's
transaction ends (commit or rollback), its session only reads, and a template rendered in a
writing transaction that wrote nothing ends it first: rendering is the slow part of a page,
and on SQLite every writer waits for whoever holds the lock.
"""

from __future__ import annotations

from flask import Flask, before_render_template, current_app, g, has_request_context, request
from sqlalchemy.engine import Engine

from incidents.db import Database, DatabaseSession

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    database = Database(app.config["DATABASE_URL"])
    app.extensions["linecheck.database"] = database
    app.extensions["linecheck.engine"] = database.engine  # tests and benchmarks count on it
    app.teardown_appcontext(_close_session)
    before_render_template.connect(_no_write_lock_while_rendering, app)


def database() -> Database:
    return current_app.extensions["linecheck.database"]


def engine() -> Engine:
    return database().engine


def new_session(*, write: bool = True) -> DatabaseSession:
    """A session outside the request (CLI, worker, a short side transaction); caller closes it."""
    return database().session(write=write)


def get_session() -> DatabaseSession:
    """The session of the current request or app context, opened on first use."""
    if "db_session" not in g:
        reading = has_request_context() and request.method in READING_METHODS
        g.db_session = database().session(write=not reading,
                                          reads_after_write=has_request_context())
    return g.db_session


def _no_write_lock_while_rendering(_app, template, context, **_extra) -> None:
    # A view that renders after only reading in its writing transaction (a form with errors,
    # an error page, a refusal) loses nothing by ending it now, before the slow part; one that
    # wrote keeps its transaction (its objects may be on the page), ended at teardown.
    session = g.get("db_session")
    if session is not None and session.write and session.in_transaction() \
            and not session.wrote:
        session.rollback()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
