"""Demo reviews, prevention items and recurrences, layered on the demo incidents.

They go through the same services as the browser (review save, findings, the publish gate,
prevention transitions, recurrence confirmation); only timestamps are then moved back to
when each step would have happened, so the report's time-based figures look lived-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.auth.models import User
from incidents.incident.models import Incident
from incidents.line.models import Station
from incidents.prevention import service as prevention
from incidents.recurrence import service as recurrence
from incidents.review import service as reviews


@dataclass
class DemoItem:
    title: str
    kind: str
    station: str
    team: str
    status: str = "proposed"
    done_days_after: int | None = None  # days after the incident started
    guard_url: str | None = None
    dropped_reason: str | None = None
    due_in_days: int = 30  # from the incident's start


@dataclass
class DemoReview:
    title: str  # the demo incident it belongs to
    defect_class: str
    markdown: str
    findings: list[tuple[str, str, str, bool]]  # station, reason, note, cheapest
    items: list[DemoItem] = field(default_factory=list)
    publish_after_days: int | None = None
    recurrence_of: str | None = None


REVIEWS = [
    DemoReview(
        "Checkout 500s after payment client upgrade", "contract",
        "## Summary\nThe upgraded payment client serialised amounts as strings; the provider "
        "rejected every capture for 31 minutes.\n\n## Impact\n18% of checkouts failed.\n\n"
        "## Contributing factors\n- No contract test exercised the provider's schema.\n"
        "- The canary ran on internal traffic only, so the error never showed there.",
        [("CI integration tests", "no_check", "Nothing called the provider sandbox", True),
         ("Canary", "signal_missed",
          "Canary saw 2% errors on a 5% slice, under its 5% alert threshold: nothing paged",
          False)],
        [DemoItem("Contract test against the payment provider sandbox", "detect",
                  "CI integration tests", "payments", "done", 12,
                  "https://github.com/example/checkout/blob/main/tests/contract/test_capture.py")],
        publish_after_days=4,
    ),
    DemoReview(
        "Search results empty for EU tenants", "configuration",
        "## Summary\nA config change pointed the EU index alias at an empty index.\n\n"
        "## Contributing factors\nAlias changes are applied by hand and not checked anywhere.",
        [("Staging end-to-end tests", "no_check", "Staging has no EU tenant", True)],
        [DemoItem("Drift detection on search index aliases", "detect", "Production telemetry",
                  "discovery", "committed", due_in_days=20)],
        publish_after_days=6,
    ),
    DemoReview(
        "Nightly billing export missed invoices", "logic",
        "## Summary\nThe export filtered by local midnight instead of UTC midnight; invoices "
        "created after 23:00 UTC were dropped.\n\n## Contributing factors\nThe date filter came "
        "from an AI-assisted change; the tests used timestamps at noon only.",
        [("CI unit tests", "not_covered", "No test near the day boundary", True),
         ("Code review", "signal_missed", "The diff showed the timezone change", False)],
        [DemoItem("Property test for day boundaries in the billing export", "detect",
                  "CI unit tests", "payments", "done", 9,
                  "https://github.com/example/billing/blob/main/tests/test_export_boundaries.py")],
        publish_after_days=3,
    ),
    DemoReview(
        "Checkout 500s: currency field rejected by payment provider", "contract",
        "## Summary\nZero-decimal currencies were sent with decimals and the provider refused "
        "them.\n\n## Contributing factors\nThe contract test added after the last checkout "
        "incident covered EUR and USD only.",
        [("CI integration tests", "not_covered", "Contract test has no JPY case", True)],
        [DemoItem("Amounts as integer minor units in the payment schema", "eliminate",
                  "CI build", "payments", "in_progress", due_in_days=60)],
        publish_after_days=5,
        recurrence_of="Checkout 500s after payment client upgrade",
    ),
    DemoReview(
        "Expired TLS certificate on partner API", "configuration",
        "## Summary\nThe partner API certificate expired; renewal is manual.\n\n"
        "## Contributing factors\nNo alert watched the expiry date.",
        [("Production telemetry", "no_check", "No expiry alert", True)],
        [DemoItem("Alert when a certificate expires within 21 days", "fail_loudly",
                  "Production telemetry", "platform", "done", 3,
                  "https://grafana.example/alerting/cert-expiry"),
         DemoItem("Remind the team to renew certificates", "advice", "Production telemetry",
                  "platform", "dropped", dropped_reason="Replaced by the expiry alert")],
        publish_after_days=2,
    ),
    DemoReview(
        "Search index corrupted by schema migration", "data",
        "## Summary\nA migration renamed a column the indexer still read.\n\n"
        "## Contributing factors\nThe indexer and the schema live in different repositories "
        "with no shared contract.",
        [("CI integration tests", "not_covered", "Indexer tests use a fixture schema", True),
         ("Canary", "bypassed", "Migrations skip the canary", False)],
        [DemoItem("Contract test between indexer and database schema", "detect",
                  "CI integration tests", "discovery", "done", 10,
                  "https://github.com/example/indexer/blob/main/tests/test_schema_contract.py")],
        publish_after_days=7,
    ),
    DemoReview(
        "Duplicate charges on retried payments", "contract",
        "## Summary\nRetries after a timeout charged twice: the idempotency key was not "
        "forwarded.\n\n## Contributing factors\nThe new client was generated and reviewed "
        "quickly; nothing checks that retried requests carry the key.",
        [("CI integration tests", "not_covered", "No retry scenario in the contract test", True)],
        [DemoItem("Reject payment requests without an idempotency key", "fail_loudly",
                  "CI integration tests", "payments", "proposed", due_in_days=21)],
        recurrence_of="Checkout 500s: currency field rejected by payment provider",
    ),
    # Reviews awaiting work: drafts the publish gate still holds back.
    DemoReview(
        "Login page slow under marketing campaign", "capacity",
        "## Summary\nLogin latency rose under a campaign's traffic.\n\nDraft: to be completed.",
        [],
    ),
    DemoReview(
        "Queue backlog after broker upgrade", "configuration",
        "## Summary\nThe broker upgrade reset consumer prefetch to 1; notifications queued for "
        "45 minutes.\n\n## Contributing factors\nBroker defaults are not pinned in our "
        "configuration, so an upgrade changes them silently.",
        [("Staging end-to-end tests", "not_covered", "Staging traffic is too light to queue",
          False)],
        [DemoItem("Pin consumer prefetch in the broker configuration, checked in CI",
                  "eliminate", "CI build", "platform", "proposed", due_in_days=30)],
    ),
    DemoReview(
        "Password reset emails delayed", "configuration", "", [],
    ),
]


def load(*, session: Session, author: User) -> None:
    """Create the demo reviews, items and recurrences (the caller checked they are new)."""
    incidents = {i.title: i for i in session.scalars(select(Incident))}
    stations = {s.name: s.id for s in session.scalars(select(Station))}
    for spec in REVIEWS:
        incident = incidents[spec.title]
        review = reviews.start(session=session, incident_id=incident.id)
        reviews.save(session=session, review=review, base_revision=review.revision,
                     markdown=spec.markdown, defect_class=spec.defect_class, author=author)
        for station, reason, note, cheapest in spec.findings:
            reviews.set_finding(session=session, review=review, station_id=stations[station],
                                reason=reason, note=note, cheapest=cheapest, actor=author)
        for item_spec in spec.items:
            _add_item(session, incident, review, item_spec, stations, author)
        if spec.recurrence_of:
            earlier = incidents[spec.recurrence_of]
            recurrence.confirm(session=session, incident_id=incident.id, earlier_id=earlier.id,
                               actor=author, now=incident.started_at + timedelta(days=1))
        if spec.publish_after_days is not None:
            reviews.publish(session=session, review=review, author=author)
            review.published_at = incident.resolved_at + timedelta(days=spec.publish_after_days)
    session.flush()


def _add_item(session, incident, review, spec: DemoItem, stations, author) -> None:
    started = incident.started_at
    item = prevention.create_item(
        session=session, title=spec.title, kind=spec.kind, station_id=stations[spec.station],
        owner_team=spec.team, due_date=date.fromordinal(
            (started + timedelta(days=spec.due_in_days)).date().toordinal()),
        tracker_url=f"https://linear.example/issue/{abs(hash(spec.title)) % 9000 + 1000}",
        actor=author,
    )
    item.created_at = started + timedelta(days=1)
    reviews.link_item(session=session, review=review, item_id=item.id, actor=author)
    path = {"committed": ["committed"], "in_progress": ["committed", "in_progress"],
            "done": ["committed", "in_progress", "done"], "dropped": ["dropped"]}
    done_at = started + timedelta(days=spec.done_days_after or 1)
    for status in path.get(spec.status, []):
        prevention.update(session=session, item=item, status=status, guard_url=spec.guard_url,
                          dropped_reason=spec.dropped_reason, actor=author, now=done_at)
