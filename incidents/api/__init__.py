"""JSON API plumbing shared by every domain's `api.py`: the OpenAPI registry, bearer-token
authentication, the error shape, and keyset pagination."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

import marshmallow as ma
from flask import g, request, url_for
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import Forbidden, Unauthorized

from incidents.appdb import get_session
from incidents.auth import service as auth
from incidents.auth.models import ApiToken, Scope
from incidents.db import MAX_ID, utcnow

DEFAULT_LIMIT = 50
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
MAX_LIMIT = 200


class ErrorSchema(ma.Schema):
    error = ma.fields.String(required=True)
    field = ma.fields.String()
    fields = ma.fields.Dict()
    missing = ma.fields.List(ma.fields.String())
    current = ma.fields.Dict()


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema

    # Errors are answered by the app's own handler (incidents.errorpages), which knows whether
    # a request came from the API, a hook or a browser; flask-smorest's would answer JSON to all.
    def _register_error_handlers(self):
        pass


class _Parser(FlaskParser):
    # Invalid fields are a bad request here, as SPEC.md's error table says, not webargs' 422.
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = _Parser()


def id_field(**kwargs) -> ma.fields.Integer:
    """An id in a request body or query: 1 up to the database's integer range."""
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT,
                              validate=ma.validate.Range(min=1, max=MAX_LIMIT))
    before = id_field(metadata={"description": "Cursor from `next`: items older than this id"})


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A list answer: `{"items": [...], "next": <url or null>}`."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next": ma.fields.String(allow_none=True, required=True),
        },
        name=name,
    )


def next_url(cursor: int | None, param: str = "before") -> str | None:
    """The URL of the next page of the current list endpoint, or None at the end."""
    if cursor is None:
        return None
    params = {k: v for k, v in request.args.items() if k != param}
    params[param] = cursor
    return url_for(request.endpoint, **(request.view_args or {}), **params, _external=True)


def current_token() -> ApiToken:
    return g.api_token


def token_label() -> str:
    return f"token:{g.api_token.name}"


def authenticate_bearer(scope: Scope) -> ApiToken:
    """Check the request's bearer token has `scope`; raise 401/403 otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    session = get_session()
    token = auth.token_for(session=session, raw=raw.strip())
    if token is None:
        raise Unauthorized("invalid or revoked token")
    granted = set(token.scope_list)
    if Scope.API_WRITE in granted:
        granted.add(Scope.API_READ)  # a token that may write may read what it wrote
    if scope not in granted:
        raise Forbidden(f"this token lacks the {scope} scope")
    now = utcnow()
    # Record use at most once a minute: writing the token row on every request would make
    # every request with this token queue on that row's lock until commit.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    g.api_token = token
    return token


def secured(blp: Blueprint, scope: Scope, *error_codes: int):
    """Require a bearer token with `scope`, and document the errors the route answers."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            authenticate_bearer(scope)
            return func(*args, **kwargs)

        for code in sorted({401, 403, *error_codes}):
            wrapper = blp.alt_response(code, schema=ErrorSchema)(wrapper)
        return wrapper

    return decorator


def init_app(app, blueprints) -> Api:
    api = Api(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return api
