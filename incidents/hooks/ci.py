"""`POST /hooks/ci`: a completed run from any CI, in Linecheck's own JSON shape.

Authenticated like the other generic hooks, by a bearer token with the `hooks` scope. The run's
(repository, name, run_id) identifies the delivery, so a retried post is a duplicate.
"""

from __future__ import annotations

from incidents.api import authenticate_bearer
from incidents.auth.models import Scope
from incidents.guard import hooks as guard_hooks
from incidents.guard.providers import generic
from incidents.hooks import receive
from incidents.hooks.webhooks import blp, deliver, document

SENDER = "ci"


def receive_ci():
    raw = receive.raw_body()
    authenticate_bearer(Scope.HOOKS)
    key, reports = generic.parse(receive.parse_json(raw))

    def consume(*, session, body, delivery):
        del body, delivery
        return guard_hooks.apply(session=session, reports=reports, unused="")

    return deliver(sender=SENDER, key=key, body={}, consumer=consume)


blp.route("/ci", methods=["POST"], endpoint="ci")(document(
    receive_ci, sender=SENDER, summary="CI run hook",
    doc="One completed run from any CI (bearer token with the `hooks` scope), optionally "
        "with a test summary. Runs are matched to guards by repository, name and branch. "
        "Unknown fields are refused. A repeat of the same (repository, name, run_id) answers "
        "`duplicate`.",
    schema=generic.CiRun))
