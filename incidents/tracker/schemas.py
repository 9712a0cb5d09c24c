"""The `tracker` part of every prevention item the API returns (SPEC.md "API essentials" keeps
the item's own fields; this adds one)."""

from __future__ import annotations

import marshmallow as ma

from incidents.db import utcnow
from incidents.prevention.models import PreventionItem
from incidents.tracker import service
from incidents.tracker.models import IssueState, Vendor


class TrackerOut(ma.Schema):
    vendor = ma.fields.String(required=True, validate=ma.validate.OneOf([v.value for v in Vendor]))
    key = ma.fields.String(allow_none=True, required=True,
                           metadata={"description": "acme/checkout#12, OPS-12, ENG-12"})
    url = ma.fields.String(allow_none=True, required=True)
    state = ma.fields.String(required=True,
                             validate=ma.validate.OneOf([s.value for s in IssueState]))
    state_name = ma.fields.String(allow_none=True, required=True,
                                  metadata={"description": "the tracker's own words"})
    assignee = ma.fields.String(allow_none=True, required=True)
    due_date = ma.fields.Date(allow_none=True, required=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    synced_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    drift = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "what sync could not resolve: the issue deleted, moved away, no access"})
    guard_needed = ma.fields.Boolean(required=True, metadata={
        "description": "done in the tracker; the item waits for its guard"})
    disagreement = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "e.g. 'closed in Jira 12 days ago, still in progress here'"})


def tracker_view(item: PreventionItem) -> dict | None:
    link = item.tracker_link
    if link is None:
        return None
    fields = ("vendor", "key", "url", "state", "state_name", "assignee", "due_date",
              "closed_at", "synced_at", "drift")
    return {**{name: getattr(link, name) for name in fields}, "vendor_label": link.vendor_label,
            "guard_needed": service.guard_needed(item),
            "disagreement": service.disagreement(item, utcnow())}


class TrackerField(ma.fields.Nested):
    """An item's tracker issue and where it disagrees with the item, or null."""

    def __init__(self, **kwargs):
        super().__init__(TrackerOut, allow_none=True, required=True, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return tracker_view(obj)
