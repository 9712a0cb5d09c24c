"""Opening modals after the answer, and the small state they carry between requests."""

from __future__ import annotations

import json
import logging
import threading

from flask import current_app
from slack_sdk.models.views import View

from slackbot.client import SLACK_FAILURES, ReplyTo, describe_failure, web_client

log = logging.getLogger(__name__)

METADATA_LIMIT = 3000  # Slack's limit for a view's private_metadata


def pack(data: dict, *, trim: str | None = None) -> str:
    """JSON for private_metadata; shortens the `trim` field until it fits Slack's limit."""
    data = dict(data)
    packed = json.dumps(data, ensure_ascii=False)
    while trim and len(packed) > METADATA_LIMIT and data.get(trim):
        over = len(packed) - METADATA_LIMIT
        data[trim] = data[trim][: max(0, len(data[trim]) - over - 1)] + "…"
        packed = json.dumps(data, ensure_ascii=False)
    return packed


def unpack(view: dict) -> dict:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def submitted(view: dict, block_id: str) -> str:
    """The value of an input block (`action_id` "value"): text, or the selected option."""
    state = ((view.get("state") or {}).get("values") or {}).get(block_id) or {}
    value = state.get("value") or {}
    if value.get("selected_option"):
        return value["selected_option"].get("value") or ""
    return (value.get("value") or "").strip()


def open_soon(trigger_id: str, view: View, reply: ReplyTo, fallback: str) -> None:
    """views.open beside the answer, in a thread of this process.

    A trigger id dies within seconds, so this cannot wait for the worker; and losing it loses
    no state (the person runs the command again). It is the one Slack call not in the outbox.
    """
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            open_modal(trigger_id, view, reply, fallback)

    threading.Thread(target=run, name="slack-views-open", daemon=True).start()


def open_modal(trigger_id: str, view: View, reply: ReplyTo, fallback: str) -> None:
    """views.open now; if Slack refuses, say so where the person is."""
    try:
        web_client().views_open(trigger_id=trigger_id, view=view)
    except SLACK_FAILURES as exc:
        log.warning("views.open failed: %s", exc)
        reply.send(f"The form could not be opened: {describe_failure(exc)}. {fallback}")
