"""`POST /hooks/changes`: merged and deployed changes from any deploy tool or CI job.

Authenticated by a bearer token with the `hooks` scope, like the paging tools' generic hook;
the body is Linecheck's own shape (`incidents.change.sources.generic`, README "Changes").
The delivery is recorded by `event_id`, else by the body's SHA-256.
"""

from __future__ import annotations

from incidents.api import ErrorSchema, authenticate_bearer
from incidents.auth.models import Scope
from incidents.change import intake
from incidents.change.sources import generic
from incidents.hooks import receive
from incidents.hooks.webhooks import blp, deliver, document
from incidents.inbox import service as inbox

_consume = intake.consumer(generic.parse)


def receive_changes():
    raw = receive.raw_body()
    authenticate_bearer(Scope.HOOKS)
    body = receive.parse_json(raw)
    generic.load(body)  # a bad body is refused before anything is recorded
    key = generic.delivery_key(body) or inbox.body_key(raw)
    return deliver(sender=generic.NAME, key=key, body=body, consumer=_consume)


blp.route("/changes", methods=["POST"], endpoint="changes")(blp.alt_response(
    403, schema=ErrorSchema, description="The token lacks the hooks scope")(document(
        receive_changes, sender=generic.NAME, summary="Changes hook",
        doc="A change merged or deployed, from any deploy tool or CI job; bearer token with the "
            "`hooks` scope. Unknown fields are refused. With `deployed_at` (and a production "
            "`environment`, the default) the change is deployed: it becomes a suspect of "
            "incidents on its service and lands on their timelines. The same `repository` and "
            "`commit` as a GitHub or GitLab change add to that change.",
        schema=generic.SCHEMA)))
