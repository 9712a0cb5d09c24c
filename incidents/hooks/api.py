"""`POST /hooks/<tool>`: one thin adapter for every paging tool, each route in the OpenAPI document.

Read the raw body (413 past 1 MiB, with or without a Content-Length), authenticate (the tool's
own signature, else a bearer token with the `hooks` or `hooks:<tool>` scope), parse JSON, let
the tool turn it into events, let the service apply them, commit. One transaction per
delivery: it lands whole or not at all. A refused delivery is logged with its reason.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, jsonify, request
from werkzeug.exceptions import Unauthorized

from incidents.api import Blueprint, ErrorSchema, authenticate_bearer
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.hooks import receive as receive_body
from incidents.hooks import service
from incidents.hooks.tools import registry
from incidents.inbox import service as inbox

blp = Blueprint(
    "hooks_api", __name__, url_prefix="/hooks",
    description="Paging-tool hooks: deliveries open incidents and feed timelines, exactly once.",
)

STATUS_CODES = {"applied": 200, "duplicate": 200, "ignored": 202}


class HookResult(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "applied | duplicate | "
                                                                      "ignored"})
    message = ma.fields.String(required=True)
    incidents = ma.fields.List(ma.fields.Integer(), required=True,
                               metadata={"description": "Incidents the delivery touched"})
    opened = ma.fields.List(ma.fields.Integer(), required=True,
                            metadata={"description": "Incidents the delivery opened"})
    events_added = ma.fields.Integer(required=True)


def _authenticate(tool, raw: bytes) -> None:
    verify = getattr(tool, "verify", None)
    if verify is None or "Authorization" in request.headers:
        authenticate_bearer(Scope.for_hook(tool.NAME))
        return
    if verify(raw, request.headers, current_app.config):
        return
    header = getattr(tool, "SIGNATURE_HEADER", "signature")
    if header in request.headers:
        raise Unauthorized(f"{header} does not match this body under any configured secret")
    raise Unauthorized(f"missing {header} (or Authorization: Bearer <token with hooks scope>)")


def receive(tool):
    """Take one delivery from `tool`; a refused one is logged for the settings page."""
    with receive_body.rejections_logged(tool.NAME):
        raw = receive_body.raw_body()
        _authenticate(tool, raw)
        outcome = apply_delivery(tool, raw)
    return jsonify(outcome.to_dict()), STATUS_CODES[outcome.status]


def apply_delivery(tool, raw: bytes) -> service.Outcome:
    """Parse an authenticated body, apply it, commit (or roll back): the one path a delivery
    takes, whether a sender posted it or an admin sent a test event."""
    body = receive_body.parse_json(raw)
    events = tool.parse(body)
    key_of = getattr(tool, "delivery_key", None)
    delivery_key = (key_of(body) if key_of else None) or inbox.body_key(raw)
    session = get_session()
    outcome = service.receive(session=session, sender=tool.NAME, source=str(tool.SOURCE),
                              delivery_key=delivery_key, events=events)
    if outcome.changed:
        session.commit()
    else:
        session.rollback()
    return outcome


def _route(tool) -> None:
    def view():
        return receive(tool)

    view.__name__ = f"receive_{tool.NAME}"
    view.__doc__ = f"{tool.LABEL} hook\n\n{tool.DOC}"
    schema = getattr(tool, "SCHEMA", None) or {
        "type": "object", "description": f"{tool.LABEL}'s documented webhook payload"}
    documented = blp.doc(
        requestBody={"required": True, "content": {"application/json": {"schema": schema}}},
    )(view)
    for code, text in ((200, "Applied, or a repeat of a delivery already applied"),
                       (202, "Understood, but nothing to do; nothing written")):
        documented = blp.alt_response(code, schema=HookResult, description=text,
                                      success=True)(documented)
    for code, text in ((400, "Not JSON, or not the sender's documented shape"),
                       (401, "Missing or wrong token or signature"),
                       (403, "The token lacks the hooks (or hooks:<sender>) scope"),
                       (413, "Body larger than 1 MiB")):
        documented = blp.alt_response(code, schema=ErrorSchema, description=text)(documented)
    blp.route(f"/{tool.NAME}", methods=["POST"], endpoint=tool.NAME)(documented)


for _tool in registry().values():
    _route(_tool)
