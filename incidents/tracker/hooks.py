"""Tracker webhooks into tracker sync: one consumer per tracker, the same rules for each.

A consumer parses the verified body with its provider (BadPayload, answered 400, for a body
not in the documented shape) and applies the issue's state to the item linked to it. An
issue no item is linked to, or an event that is not about an issue, is answered 202.
"""

from __future__ import annotations

from incidents.hooks.webhooks import Handled
from incidents.tracker import service
from incidents.tracker.models import Vendor
from incidents.tracker.providers import provider


def _consumer(vendor: Vendor):
    def consume(*, session, body: dict, delivery: str) -> Handled:
        event = provider(vendor).parse_event(body)
        if event.snapshot is None:
            return Handled.ignored(f"{vendor.label} event {event.action!r} is not about an "
                                   "issue")
        applied = service.apply_event(session=session, vendor=vendor, event=event,
                                      source=f"{vendor.label} webhook ({event.action})")
        if applied is None:
            return Handled.ignored(f"{vendor.label} issue {event.snapshot.key} is not linked "
                                   "to a prevention item")
        item_id, message = applied
        return Handled("applied", message, {"prevention_items": [item_id]})

    consume.__name__ = f"{vendor.value}_issues"
    return consume


github_issues = _consumer(Vendor.GITHUB)
jira_issues = _consumer(Vendor.JIRA)
linear_issues = _consumer(Vendor.LINEAR)
