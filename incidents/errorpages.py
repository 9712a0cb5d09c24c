"""One error handler: JSON for machines (API, hooks, Slack), a page for people."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from incidents.errors import DomainError

MACHINE_PREFIXES = ("/api/", "/hooks/", "/slack/")
log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


def _field_errors(exc: HTTPException) -> dict | None:
    # webargs (through flask-smorest) attaches {"messages": {location: {field: [...]}}}.
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return None
    merged: dict = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            merged.update(location_errors)
        else:
            merged["_body"] = location_errors
    return merged


def handle_http_exception(exc: HTTPException):
    if not wants_json():
        return render_template("error.html", error=exc), exc.code
    body: dict = {"error": exc.description or exc.name}
    fields = _field_errors(exc)
    if fields:
        if "_body" in fields or "_schema" in fields:
            problems = [str(m) for m in (fields.get("_body") or fields.get("_schema"))]
            body["error"] = "; ".join(
                "request body must be a JSON object" if m == "Invalid input type." else m
                for m in problems
            )
        else:
            names = ", ".join(sorted(fields))
            body["error"] = f"invalid field(s): {names}"
            body["fields"] = fields
            body["field"] = sorted(fields)[0]
    elif exc.code == 413:
        body["error"] = "request body is larger than the 1 MiB limit"
    response = jsonify(body)
    response.status_code = exc.code or 500
    for name, value in ((getattr(exc, "data", None) or {}).get("headers") or {}).items():
        response.headers[name] = value
    if exc.code == 401 and "WWW-Authenticate" not in response.headers:
        # RFC 9110 wants every 401 to name a scheme; API tokens and hook tokens are bearer.
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def handle_domain_error(exc: DomainError):
    if wants_json():
        return jsonify(exc.to_dict()), exc.status
    return render_template("error.html", error=exc), exc.status


def handle_unstorable(exc: Exception):
    # A value the database cannot hold (a number past its integer range) came from the
    # request: the sender's mistake, answered as such, with nothing half-written.
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    log.warning("refused a value the database cannot store on %s %s: %s", request.method,
                request.path, str(getattr(exc, "orig", exc)).splitlines()[0])
    return handle_http_exception(BadRequest("a value in the request is out of range"))


def handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    # sqlite3 raises OverflowError for integers past 64 bits; PostgreSQL a DataError.
    app.register_error_handler(DataError, handle_unstorable)
    app.register_error_handler(OverflowError, handle_unstorable)
    app.register_error_handler(Exception, handle_unexpected)
