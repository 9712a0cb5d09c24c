"""Demo tracker data: a tracker per demo team and issues for some demo items, in each state the
board shows (open, closed with the guard still needed, a disagreement, drift).

Rows are written as a sync would leave them; nothing calls a tracker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.auth import service as auth
from incidents.prevention.models import PreventionItem
from incidents.tracker.models import IssueState, Tracker, TrackerLink, Vendor

TRACKERS = [("payments", Vendor.GITHUB, "example/checkout", None),
            ("discovery", Vendor.LINEAR, "9cfb482a-81e3-4154-b5b9-2c805e70a02d", None),
            ("platform", Vendor.JIRA, "OPS", "https://example.atlassian.net")]
# item title → (key, url, state, the tracker's words, assignee, closed days ago)
ISSUES = {
    "Amounts as integer minor units in the payment schema": (
        "example/checkout#214", "https://github.com/example/checkout/issues/214",
        IssueState.COMPLETED, "closed as completed", "mkrystof", 2),
    "Drift detection on search index aliases": (
        "DISC-41", "https://linear.app/example/issue/DISC-41/drift-detection",
        IssueState.COMPLETED, "Done", "Ana", 12),
    "Reject payment requests without an idempotency key": (
        "example/checkout#231", "https://github.com/example/checkout/issues/231",
        IssueState.IN_PROGRESS, "open", "jlee", None),
    "Alert when a certificate expires within 21 days": (
        "OPS-87", "https://example.atlassian.net/browse/OPS-87", IssueState.COMPLETED, "Done",
        "Sam Ortiz", 20),
}


def load(*, session: Session, now: datetime) -> None:
    teams = {}
    for team, vendor, project, site in TRACKERS:
        owner = auth.team_named(session=session, name=team)
        teams[team] = Tracker(team_id=owner.id, vendor=vendor, project=project, site_url=site,
                              issue_type="Task" if vendor == Vendor.JIRA else None)
        session.add(teams[team])
    session.flush()
    items = session.scalars(select(PreventionItem).where(PreventionItem.title.in_(ISSUES)))
    for item in items:
        key, url, state, words, assignee, closed_days = ISSUES[item.title]
        tracker = teams.get(item.owner_team.name) if item.owner_team else None
        closed = now - timedelta(days=closed_days) if closed_days is not None else None
        session.add(TrackerLink(
            prevention_item_id=item.id, tracker_id=tracker.id if tracker else None,
            vendor=tracker.vendor if tracker else Vendor.GITHUB,
            reference=key if tracker is None or tracker.vendor == Vendor.GITHUB else f"demo-{key}",
            key=key, url=url, state=state, state_name=words, assignee=assignee,
            closed_at=closed, vendor_updated_at=closed or now - timedelta(days=1),
            synced_at=now - timedelta(minutes=20), requested_at=now - timedelta(days=30)))
        item.tracker_url = url
    session.flush()
