"""A small, realistic data set for trying Linecheck: loaded by `flask demo` and `make run`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents import demo_changes, demo_reviews
from incidents.auth import service as auth
from incidents.auth.models import Role, User, team_key
from incidents.db import utcnow
from incidents.guard import demo as guard_demo
from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.team import service as teams
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind
from incidents.tracker import demo as tracker_demo

PASSWORD = "linecheck-demo"
LOGINS = [
    ("admin@linecheck.test", Role.ADMIN),
    ("lead@linecheck.test", Role.LEAD),
    ("reviewer@linecheck.test", Role.REVIEWER),
    ("responder@linecheck.test", Role.RESPONDER),
    ("viewer@linecheck.test", Role.VIEWER),
]
# Who each login is: the lead speaks for platform, whose items lead their board; the reviewer
# and responder are on payments, the team with most incidents.
PEOPLE = {
    "admin@linecheck.test": ("Alex Morgan", None),
    "lead@linecheck.test": ("Priya Shah", "platform"),
    "reviewer@linecheck.test": ("Robin Park", "payments"),
    "responder@linecheck.test": ("Jordan Lee", "payments"),
    "viewer@linecheck.test": ("Sam Okafor", "discovery"),
}

# Made first, as an admin would: naming a team elsewhere never creates it.
DEMO_TEAMS = ("payments", "discovery", "identity", "platform")
# (days ago, hours to restore, title, service, team, severity, origin, detection, events)
# events: (minutes after start, kind, text)
INCIDENTS = [
    (170, 2.5, "Checkout 500s after payment client upgrade", "checkout", "payments", "SEV1",
     "human", "alert", [
         (4, "alert", "HighErrorRate: checkout 5xx at 18% (threshold 2%)"),
         (9, "note", "Errors all come from PaymentClient.capture(); started with deploy 4411"),
         (22, "deploy", "Rolled back checkout to build 4410"),
         (35, "note", "Error rate back under 0.5%; new client sends amount as string"),
     ]),
    (150, 1.0, "Search results empty for EU tenants", "search", "discovery", "SEV2",
     "config", "customer_report", [
         (40, "note", "Support escalated 14 tickets: search returns nothing for EU accounts"),
         (55, "note", "Index alias eu-prod points at an empty index after config change"),
         (61, "action", "Re-pointed alias to eu-prod-2026-05"),
     ]),
    (131, 6.0, "Nightly billing export missed invoices", "billing", "payments", "SEV2",
     "ai_assisted", "internal_report", [
         (300, "note", "Finance noticed 212 invoices missing from the export"),
         (320, "note", "Date filter uses local midnight; invoices after 23:00 UTC dropped"),
         (360, "action", "Backfilled export for the affected days"),
     ]),
    (118, 0.5, "Login page slow under marketing campaign", "auth", "identity", "SEV3",
     "unknown", "alert", [
         (2, "alert", "p99 latency on /login above 4s"),
         (14, "action", "Scaled auth pods from 6 to 12"),
     ]),
    (97, 3.0, "Checkout 500s: currency field rejected by payment provider", "checkout",
     "payments", "SEV1", "ai_assisted", "alert", [
         (3, "alert", "HighErrorRate: checkout 5xx at 11%"),
         (15, "note", "Provider rejects decimal amounts for JPY; generated mapping code"),
         (70, "deploy", "Hotfix: integer minor units for zero-decimal currencies"),
     ]),
    (80, 1.5, "Expired TLS certificate on partner API", "partner-api", "platform", "SEV2",
     "config", "customer_report", [
         (20, "note", "Partners report TLS handshake failures"),
         (45, "action", "Issued and deployed a new certificate"),
     ]),
    (64, 0.75, "Queue backlog after broker upgrade", "notifications", "platform", "SEV3",
     "third_party", "alert", [
         (5, "alert", "Queue depth notifications > 50k"),
         (30, "note", "Consumer prefetch reset to 1 by the new broker defaults"),
     ]),
    (45, 4.0, "Search index corrupted by schema migration", "search", "discovery", "SEV2",
     "human", "alert", [
         (10, "alert", "Search error ratio 30%"),
         (50, "note", "Migration renamed a field still read by the indexer"),
         (200, "action", "Reindexed from the primary database"),
     ]),
    (30, 2.0, "Duplicate charges on retried payments", "checkout", "payments", "SEV1",
     "ai_assisted", "customer_report", [
         (30, "note", "Customers charged twice when the client retried after a timeout"),
         (60, "note", "Idempotency key not forwarded by the new payment client"),
         (110, "deploy", "Forwarded idempotency key; refunds issued"),
     ]),
    (14, 0.3, "Feature flag service unreachable", "flags", "platform", "SEV3", "third_party",
     "alert", [
         (1, "alert", "flags.internal health check failing"),
         (12, "note", "Clients fell back to defaults as designed"),
     ]),
    (5, 1.0, "Password reset emails delayed", "auth", "identity", "SEV4", "config",
     "internal_report", [
         (25, "note", "Reset emails arriving 40 minutes late"),
         (50, "action", "Raised mail relay rate limit back to 200/min"),
     ]),
    (0.1, None, "Elevated latency on order history", "orders", "payments", "SEV3", "unknown",
     "alert", [
         (2, "alert", "p95 latency on /orders above 1.5s"),
     ]),
]

# Incidents a paging tool opened: (tool, the alert's fingerprint). The two checkout error-rate
# pages share a fingerprint, so the report lists it among the alerts that recur. The rest were
# declared by a person, in the browser or in Slack.
PAGED = {
    "Checkout 500s after payment client upgrade": ("alertmanager",
                                                   "HighErrorRate/checkout/production"),
    "Login page slow under marketing campaign": ("grafana", "login-p99-latency"),
    "Checkout 500s: currency field rejected by payment provider": (
        "alertmanager", "HighErrorRate/checkout/production"),
    "Queue backlog after broker upgrade": ("pagerduty", "PNOTIFQ-queue-depth"),
    "Search index corrupted by schema migration": ("opsgenie", "search-error-ratio"),
    "Feature flag service unreachable": ("pagerduty", "PFLAGS-health-check"),
    "Elevated latency on order history": ("alertmanager", "HighLatency/orders/production"),
}
DECLARED_IN_SLACK = {"Search results empty for EU tenants", "Password reset emails delayed"}


def load(*, session: Session) -> bool:
    """Load the demo set unless it is already there; return whether anything was created."""
    if session.scalar(select(User.id).where(User.email == LOGINS[0][0])) is not None:
        return False
    line.seed_default_line(session=session)
    known = {team.key for team in teams.teams(session=session)}
    for name in DEMO_TEAMS:
        if team_key(name) not in known:
            teams.create_team(session=session, name=name)
    users = {}
    for email, role in LOGINS:
        name, team = PEOPLE[email]
        users[role] = auth.create_user(session=session, email=email, password=PASSWORD,
                                       role=role, name=name, team=team)
    responder = users[Role.RESPONDER]
    now = utcnow()
    for days, hours, title, svc, team, sev, origin, detection, events in INCIDENTS:
        started = now - timedelta(days=days)
        first_offset = min(minutes for minutes, _, _ in events)
        tool, fingerprint = PAGED.get(title, (None, None))
        source = tool or ("slack" if title in DECLARED_IN_SLACK else "web")
        incident = incidents.declare(
            session=session, title=title, service=svc, team=team, severity=sev,
            source=source, change_origin=origin, detection_method=detection,
            started_at=started, detected_at=started + timedelta(minutes=first_offset),
            declared_by=None if tool else responder, author_name=tool or "",
        )
        for minutes, kind, text in events:
            alert = kind == "alert"
            timeline.add_event(session=session, incident=incident, kind=EventKind(kind),
                               text=text, occurred_at=started + timedelta(minutes=minutes),
                               author=None if alert else responder,
                               author_name=tool if alert else "",
                               source=tool if alert else source,
                               fingerprint=fingerprint if alert else None)
        if hours is not None:
            incidents.resolve(session=session, incident=incident, actor=responder,
                              summary="Service restored",
                              resolved_at=started + timedelta(hours=hours))
    session.flush()
    demo_reviews.load(session=session, author=users[Role.REVIEWER])
    tracker_demo.load(session=session, now=now)
    guard_demo.load(session=session, now=now)
    demo_changes.load(session=session, admin=users[Role.ADMIN], reviewer=users[Role.REVIEWER],
                      now=now)
    return True
