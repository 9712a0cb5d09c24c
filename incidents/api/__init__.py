"""JSON API plumbing shared by every domain's `api.py`: the OpenAPI registry, bearer-token
authentication, the error shape, and keyset pagination."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import wraps

import marshmallow as ma
from flask import g, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import Forbidden, Unauthorized, UnsupportedMediaType

from incidents.appdb import new_session
from incidents.auth import service as auth
from incidents.auth.models import ApiToken, Scope
from incidents.db import MAX_ID, utcnow
from incidents.links import public_url

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

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # `[[[[…` a few thousand deep: the sender's fault, not ours
            abort(400, messages={"json": ["JSON body is nested too deeply."]})
        except ValueError as exc:  # not JSONDecodeError: an integer past 4300 digits
            if isinstance(exc, json.JSONDecodeError):
                raise
            abort(400, messages={"json": [f"JSON body is not usable: {exc}"]})


class JSONProvider(DefaultJSONProvider):
    """`request.get_json()` answers 400, not 500, to JSON nested too deeply to parse."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


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
    return public_url(request.endpoint, **(request.view_args or {}), **params)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def require_json_body() -> None:
    """Refuse (415) a write whose body is not declared JSON.

    Without it webargs reads such a body as absent, and the sender is told fields are
    missing that it did send.
    """
    if request.method in WRITE_METHODS and not request.is_json and request.get_data(cache=True):
        raise UnsupportedMediaType(
            f"send the body as JSON with Content-Type: application/json "
            f"(got {request.mimetype or 'no Content-Type'})")


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
    token = _look_up(raw.strip())
    if token is None:
        raise Unauthorized("invalid or revoked token")
    if not scope.granted_by(set(token.scope_list)):
        wanted = f"{scope} or {Scope.HOOKS}" if scope.startswith("hooks:") else scope
        raise Forbidden(f"this token lacks the {wanted} scope")
    g.api_token = token
    return token


def _look_up(raw: str) -> ApiToken | None:
    """The live token, its use noted in a short transaction of its own.

    Its own, so a read-only request (which never commits) still records the use, and a
    request that fails later does not undo it; at most once a minute, so requests with one
    token do not queue on its row. It runs before the request's own session begins, and
    hands back a detached token (plain columns, no lazy loads).
    """
    with new_session() as session:
        token = auth.token_for(session=session, raw=raw)
        now = utcnow()
        if token is not None and (token.last_used_at is None
                                  or now - token.last_used_at > TOKEN_USE_RESOLUTION):
            auth.record_token_use(session=session, token=token, now=now,
                                  resolution=TOKEN_USE_RESOLUTION)
        session.commit()
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
    app.json = JSONProvider(app)
    api = Api(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    names = {blueprint.name for blueprint in blueprints}

    # Hooks read their raw bodies (some senders post forms or no type at all); /api/v1 is JSON.
    @app.before_request
    def _json_writes_only():
        if request.blueprint in names and request.path.startswith("/api/"):
            require_json_body()

    return api
