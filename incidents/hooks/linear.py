"""`POST /hooks/linear`: Linear webhooks for tracker sync.

Linear signs each delivery with `Linear-Signature: <hex HMAC-SHA256 of the raw body>` under the
webhook's signing secret (`LINEAR_WEBHOOK_SECRET`), names it in `Linear-Delivery`, and puts
`webhookTimestamp` (milliseconds) in the body; its docs advise refusing a delivery whose
timestamp is more than a minute from now, so a captured delivery cannot be replayed later
(https://linear.app/developers/webhooks#securing-webhooks). `Issue` events feed tracker sync;
other types answer 202.
"""

from __future__ import annotations

import time

from flask import request
from werkzeug.exceptions import Unauthorized

from incidents.hooks import receive
from incidents.hooks.events import BadPayload
from incidents.hooks.webhooks import blp, deliver, document
from incidents.inbox import service as inbox
from incidents.tracker.hooks import linear_issues

SENDER = "linear"
MAX_SKEW_MS = 60_000


def _check_timestamp(body: dict) -> None:
    stamp = body.get("webhookTimestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise BadPayload("webhookTimestamp is missing or not a number", field="webhookTimestamp")
    if abs(time.time() * 1000 - stamp) > MAX_SKEW_MS:
        raise Unauthorized("webhookTimestamp is more than a minute away from now: a stale or "
                           "replayed delivery")


def receive_linear():
    raw = receive.raw_body()
    receive.verify_hmac(raw, setting="LINEAR_WEBHOOK_SECRET", header="Linear-Signature",
                        prefix="", sender="Linear")
    body = receive.json_object(raw)
    _check_timestamp(body)
    key = request.headers.get("Linear-Delivery", "").strip() or inbox.body_key(raw)
    return deliver(sender=SENDER, key=key, body=body, consumer=linear_issues)


blp.route("/linear", methods=["POST"], endpoint="linear")(document(
    receive_linear, sender=SENDER, summary="Linear hook",
    doc="Linear data-change webhooks (`Issue` create, update, remove) for tracker sync, "
        "signed with `Linear-Signature` under LINEAR_WEBHOOK_SECRET; `webhookTimestamp` must be "
        "within a minute of now. Other types answer 202."))
