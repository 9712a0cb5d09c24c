"""Opening modals after the answer, and the small state they carry between requests."""

from __future__ import annotations

import json
import logging

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


def open_modal(trigger_id: str, view: View, reply: ReplyTo, fallback: str) -> None:
    """views.open; trigger ids expire within seconds, so this runs first thing after the answer."""
    try:
        web_client().views_open(trigger_id=trigger_id, view=view)
    except SLACK_FAILURES as exc:
        log.warning("views.open failed: %s", exc)
        reply.send(f"The form could not be opened: {describe_failure(exc)}. {fallback}")
