"""`POST /hooks/github`: the one URL for every GitHub event Linecheck uses.

GitHub signs each delivery with `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>`
under the webhook's secret (`GITHUB_WEBHOOK_SECRET`; during a rotation, `old,new`), names the
event in `X-GitHub-Event` and the delivery in `X-GitHub-Delivery` (a GUID that a redelivery
keeps). Docs: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
and https://docs.github.com/en/webhooks/webhook-events-and-payloads.

Each event Linecheck uses has one consumer, in the package of the concept it feeds; an event
not in `CONSUMERS` is answered 202 and recorded.
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import Unauthorized

from incidents.change import intake as changes
from incidents.change.sources import github as github_changes
from incidents.guard import hooks as guard_hooks
from incidents.hooks import receive, signatures
from incidents.hooks.events import BadPayload
from incidents.hooks.webhooks import Consumer, blp, deliver, document
from incidents.inbox import service as inbox
from incidents.tracker.hooks import github_issues

SENDER = "github"
SIGNATURE_HEADER = "X-Hub-Signature-256"

# X-GitHub-Event → the consumer that applies it.
CONSUMERS: dict[str, Consumer] = {
    "issues": github_issues,
    "check_run": guard_hooks.github_check_run,
    "workflow_run": guard_hooks.github_workflow_run,
    "pull_request": changes.consumer(github_changes.pull_request),
    "pull_request_review": changes.consumer(github_changes.pull_request_review),
    "push": changes.consumer(github_changes.push),
    "deployment_status": changes.consumer(github_changes.deployment_status),
}


def verify(raw: bytes) -> None:
    """Raise 401 unless the body carries a valid signature under a configured secret."""
    configured = signatures.secrets(current_app.config.get("GITHUB_WEBHOOK_SECRET"))
    if not configured:
        raise Unauthorized("GitHub deliveries are refused: GITHUB_WEBHOOK_SECRET is not set")
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise Unauthorized(f"missing {SIGNATURE_HEADER}")
    offered = [header[len("sha256="):]] if header.startswith("sha256=") else []
    if not signatures.hmac_sha256_matches(configured, raw, offered):
        raise Unauthorized(f"{SIGNATURE_HEADER} does not match this body under the "
                           "configured secret")


def receive_github():
    raw = receive.raw_body()
    verify(raw)
    event = request.headers.get("X-GitHub-Event", "").strip()
    if not event:
        raise BadPayload("missing X-GitHub-Event header", field="X-GitHub-Event")
    body = receive.parse_json(raw)
    if not isinstance(body, dict):
        raise BadPayload("body must be a JSON object", field="body")
    if event == "ping":  # sent once when the webhook is created; nothing to record
        return jsonify({"status": "pong", "message": "GitHub webhook reached Linecheck"}), 200
    key = request.headers.get("X-GitHub-Delivery", "").strip() or inbox.body_key(raw)
    return deliver(sender=SENDER, key=key, body=body,
                   consumer=CONSUMERS.get(event),
                   unused=f"GitHub event {event!r} is not one Linecheck uses")


blp.route("/github", methods=["POST"], endpoint="github")(document(
    receive_github, sender=SENDER, summary="GitHub hook",
    doc="Every GitHub event Linecheck uses, at one URL: `issues` (tracker sync), "
        "`check_run` and `workflow_run` (guard health), `pull_request`, "
        "`pull_request_review`, `push` and `deployment_status` (changes). Signed with "
        "`X-Hub-Signature-256` under GITHUB_WEBHOOK_SECRET; `ping` answers 200; other events "
        "answer 202."))
