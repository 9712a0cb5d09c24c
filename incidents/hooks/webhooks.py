"""Signed hooks from code hosts, trackers and CI: one URL per sender, one consumer per event.

A sender's module (`github.py`, `gitlab.py`, …) authenticates the delivery, names the event and
the delivery key, and picks the consumer for the event from its table. The consumer lives with
the concept it feeds (tracker sync, guard health, changes) and applies the parsed body in the
request's transaction. This module records the delivery once and answers:

- `200 {"status": "applied", …}` — the consumer changed something;
- `202 {"status": "ignored", …}` — an event or action Linecheck does not use; the delivery is
  still recorded, so a captured copy replayed later is a duplicate;
- `200 {"status": "duplicate", …}` — this delivery was recorded before; nothing changed.

A consumer raises `BadPayload` (400, nothing written) for a body that is not the documented shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

import marshmallow as ma
from flask import jsonify

from incidents.api import Blueprint, ErrorSchema
from incidents.appdb import get_session
from incidents.hooks import receive
from incidents.inbox import service as inbox

# Each sender (its route's endpoint too) and how the delivery log names it.
SENDERS = {"github": "GitHub", "gitlab": "GitLab", "jira": "Jira", "linear": "Linear",
           "ci": "Any CI (/hooks/ci)", "changes": "Changes (/hooks/changes)"}

blp = Blueprint(
    "webhooks_api", __name__, url_prefix="/hooks",
    description="Code host, tracker and CI hooks: tracker state, guard runs and changes flow "
                "in, exactly once.",
)


@dataclass
class Handled:
    """What a consumer did with one delivery."""

    status: str  # applied | ignored
    message: str
    # Rows the delivery touched, by kind: {"prevention_items": [3], "changes": [12]}.
    refs: dict[str, list[int]] = field(default_factory=dict)
    incident_id: int | None = None  # the incident the delivery concerns, when there is one

    @classmethod
    def ignored(cls, message: str) -> Handled:
        return cls("ignored", message)


# consumer(session=, body=, delivery=) -> Handled
Consumer = Callable[..., Handled]


def deliver(*, sender: str, key: str, body: dict, consumer: Consumer | None,
            unused: str = "") -> tuple:
    """Record the delivery once, let its consumer apply it, commit; the HTTP answer."""
    session = get_session()
    if not inbox.record_once(session=session, sender=sender, key=key):
        session.rollback()
        earlier = inbox.recorded(session=session, sender=sender, key=key)
        return jsonify({"status": "duplicate",
                        "message": "this delivery was received before; nothing changed",
                        "incident": earlier.incident_id if earlier else None}), 200
    if consumer is None:
        handled = Handled.ignored(unused or "this event is not one Linecheck uses")
    else:
        handled = consumer(session=session, body=body, delivery=key)
    if handled.incident_id is not None:
        inbox.attach(session=session, sender=sender, key=key, incident_id=handled.incident_id)
    session.commit()
    answer = {"status": handled.status, "message": handled.message, **handled.refs}
    return jsonify(answer), 200 if handled.status == "applied" else 202


class WebhookResult(ma.Schema):
    """The answer; consumers add the ids of the rows a delivery touched, by kind
    (`Handled.refs`, e.g. `"guard_runs": [12]`), so the object is open."""

    class Meta:
        unknown = ma.INCLUDE

    status = ma.fields.String(required=True,
                              metadata={"description": "applied | duplicate | ignored"})
    message = ma.fields.String(required=True)


def document(view, *, sender: str, summary: str, doc: str, schema: dict | None = None):
    """The view with its refusals logged for `sender` (the admin's delivery log), and its
    request and answers in the OpenAPI document."""

    @wraps(view)
    def logged(*args, **kwargs):
        with receive.rejections_logged(sender):
            return view(*args, **kwargs)

    logged.__doc__ = f"{summary}\n\n{doc}"
    documented = blp.doc(requestBody={"required": True, "content": {"application/json": {
        "schema": schema or {"type": "object", "description": "the sender's documented "
                                                              "webhook payload"}}}})(logged)
    for code, text in ((200, "Applied, or a repeat of a delivery already applied"),
                       (202, "An event Linecheck does not use; recorded, nothing else written")):
        documented = blp.alt_response(code, schema=WebhookResult, description=text,
                                      success=True)(documented)
    for code, text in ((400, "Not JSON, or not the sender's documented shape"),
                       (401, "Missing or wrong signature or token"),
                       (413, "Body larger than 1 MiB")):
        documented = blp.alt_response(code, schema=ErrorSchema, description=text)(documented)
    return documented



def init_app() -> Blueprint:
    """The blueprint with every sender's route on it."""
    # each registers its route
    from incidents.hooks import changes, ci, github, gitlab, jira, linear  # noqa: F401

    return blp
