"""POST /slack/commands, /slack/interactions, /slack/events: verify, hand over, answer at once."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, abort, jsonify, request

from incidents.appdb import get_session
from slackbot import commands, events, interactions
from slackbot.verify import replay_key, verified_body

bp = Blueprint("slack", __name__, url_prefix="/slack")
log = logging.getLogger(__name__)


def _answer(body: dict | None):
    """Slack takes an empty 200 as a plain acknowledgement."""
    return ("", 200) if body is None else jsonify(body)


@bp.post("/commands")
def slash_command():
    body = verified_body()
    form = request.form.to_dict()
    if form.get("ssl_check"):
        return _answer(None)
    try:
        return _answer(commands.handle(form, replay_key=replay_key(body)))
    except Exception:
        # A person typed this: they get a short message, never an error page.
        log.exception("/incident %r failed", form.get("text"))
        get_session().rollback()
        return _answer(commands.ephemeral("Sorry, that failed on our side; it has been logged."))


@bp.post("/interactions")
def interaction():
    body = verified_body()
    try:
        payload = json.loads(request.form.get("payload") or "")
    except ValueError:
        abort(400, description="the form field `payload` must be JSON")
    if not isinstance(payload, dict):
        abort(400, description="the form field `payload` must be a JSON object")
    return _answer(interactions.handle(payload, replay_key=replay_key(body)))


@bp.post("/events")
def event():
    body = verified_body()
    try:
        envelope = json.loads(body)
    except ValueError:
        abort(400, description="the body must be JSON")
    if not isinstance(envelope, dict):
        abort(400, description="the body must be a JSON object")
    return _answer(events.handle(envelope))
