"""`POST /hooks/gitlab`: the one URL for every GitLab event Linecheck uses.

GitLab sends the webhook's secret token as is in `X-Gitlab-Token` (`GITLAB_WEBHOOK_TOKEN`;
during a rotation, `old,new`), names the hook in `X-Gitlab-Event` ("Pipeline Hook", "Job
Hook", …) and the payload's kind in `object_kind`; since GitLab 17.4 an `Idempotency-Key`
header stays the same across retries of one event. Docs:
https://docs.gitlab.com/user/project/integrations/webhooks/ and
https://docs.gitlab.com/user/project/integrations/webhook_events/.

Each `object_kind` Linecheck uses has one consumer, in the package of the concept it feeds;
others are answered 202 and recorded.
"""

from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import Unauthorized

from incidents.change import intake as changes
from incidents.change.sources import gitlab as gitlab_changes
from incidents.guard import hooks as guard_hooks
from incidents.hooks import receive, signatures
from incidents.hooks.events import BadPayload
from incidents.hooks.webhooks import Consumer, blp, deliver, document
from incidents.inbox import service as inbox

SENDER = "gitlab"
TOKEN_HEADER = "X-Gitlab-Token"

# object_kind → the consumer that applies it (pipeline, build, deployment, merge_request, push).
CONSUMERS: dict[str, Consumer] = {
    "merge_request": changes.consumer(gitlab_changes.merge_request),
    "push": changes.consumer(gitlab_changes.push),
    "deployment": changes.consumer(gitlab_changes.deployment),
    "pipeline": guard_hooks.gitlab_pipeline,
    "build": guard_hooks.gitlab_build,
}


def verify() -> None:
    """Raise 401 unless the delivery carries a configured token."""
    configured = signatures.secrets(current_app.config.get("GITLAB_WEBHOOK_TOKEN"))
    if not configured:
        raise Unauthorized("GitLab deliveries are refused: GITLAB_WEBHOOK_TOKEN is not set")
    offered = request.headers.get(TOKEN_HEADER)
    if not offered:
        raise Unauthorized(f"missing {TOKEN_HEADER}")
    if not signatures.token_matches(configured, offered):
        raise Unauthorized(f"{TOKEN_HEADER} is not the configured token")


def receive_gitlab():
    raw = receive.raw_body()
    verify()
    body = receive.parse_json(raw)
    if not isinstance(body, dict):
        raise BadPayload("body must be a JSON object", field="body")
    kind = body.get("object_kind")
    if not isinstance(kind, str) or not kind:
        raise BadPayload("object_kind is required", field="object_kind")
    # Without an Idempotency-Key (GitLab before 17.4), a retry resends the same body.
    key = request.headers.get("Idempotency-Key", "").strip() or inbox.body_key(raw)
    return deliver(sender=SENDER, key=key, body=body, consumer=CONSUMERS.get(kind),
                   unused=f"GitLab {kind!r} events are not ones Linecheck uses")


blp.route("/gitlab", methods=["POST"], endpoint="gitlab")(document(
    receive_gitlab, sender=SENDER, summary="GitLab hook",
    doc="Every GitLab event Linecheck uses, at one URL: pipeline and job events (guard "
        "health), merge request, push and deployment events (changes). Authenticated by "
        "`X-Gitlab-Token` = GITLAB_WEBHOOK_TOKEN; other events answer 202."))
