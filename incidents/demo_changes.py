"""Demo changes, layered on the demo incidents and reviews: a few months of deploys per service
with mixed origins (so the report's per-change rates mean something), the change behind each
demo incident confirmed as its trigger, and fresh suspects for the one still open.

Everything goes through the same services as the hooks (facts applied as GitHub and
`/hooks/changes` would send them, rules added as an admin would, triggers confirmed as a
reviewer would).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.auth.models import User
from incidents.change import rules, suspects
from incidents.change import service as changes
from incidents.change.sources import ApprovalFacts, ChangeFacts
from incidents.incident.models import Incident

SETTINGS = changes.Settings()
SERVICES = ["checkout", "search", "billing", "auth", "partner-api", "notifications", "flags",
            "orders"]
DAYS = 180
PER_SERVICE = 10

RULES = [
    ("label", "ai-assisted", "ai_assisted", "The team labels pull requests an assistant wrote"),
    ("label", "human-written", "human", "Authors say so when no assistant took part"),
    ("label", "config", "config", "Configuration-only changes"),
]
CLAUDE = "Co-Authored-By: Claude <noreply@anthropic.com>"
COPILOT = "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>"
CURSOR = "Made-with: Cursor\nCo-authored-by: Cursor <cursoragent@cursor.com>"


@dataclass
class DemoChange:
    title: str
    service: str
    minutes_before: int  # deployed this long before the incident (or now) started
    labels: tuple[str, ...] = ()
    trailer: str = ""
    author: str = "sam"
    approvals: tuple[str, ...] = ("robin",)
    checks_passed: bool = True
    failing: tuple[str, ...] = ()
    canary: bool = True
    squashed: bool | None = None
    components: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


# The change behind each demo incident (by title); None for incidents no change caused.
TRIGGERS: dict[str, DemoChange | None] = {
    "Checkout 500s after payment client upgrade": DemoChange(
        "Upgrade payment client to 5.0", "checkout", 25, labels=("human-written",),
        components=("PaymentClient",)),
    "Search results empty for EU tenants": DemoChange(
        "Point eu-prod alias at the new index", "search", 35, labels=("config",),
        approvals=(), canary=False),
    "Nightly billing export missed invoices": DemoChange(
        "Export invoices by settlement day", "billing", 300, trailer=CLAUDE, canary=False,
        components=("export",)),
    "Login page slow under marketing campaign": DemoChange(
        "Session cache refactor", "auth", 180, squashed=True, approvals=("robin", "kim")),
    "Checkout 500s: currency field rejected by payment provider": DemoChange(
        "Map currencies to provider amounts", "checkout", 20, trailer=COPILOT,
        checks_passed=False, failing=("contract-tests",), canary=False,
        components=("currency",)),
    "Expired TLS certificate on partner API": None,
    "Queue backlog after broker upgrade": DemoChange(
        "Bump rabbitmq client from 3.12 to 4.0", "notifications", 50,
        author="renovate[bot]", components=("broker",)),
    "Search index corrupted by schema migration": DemoChange(
        "Rename listing.title to listing.name", "search", 15, labels=("human-written",),
        canary=False, components=("indexer",)),
    "Duplicate charges on retried payments": DemoChange(
        "Payment client retries on timeout", "checkout", 40, trailer=CURSOR, approvals=(),
        components=("retried",)),
    "Feature flag service unreachable": None,
    "Password reset emails delayed": DemoChange(
        "Lower mail relay rate limit", "auth", 30, labels=("config",), canary=False),
}
# The open incident's suspects: three changes to orders, the first the likeliest.
SUSPECTS = [
    DemoChange("Paginate order history with a window query", "orders", 18, trailer=CLAUDE,
               approvals=(), checks_passed=False, failing=("integration-tests",), canary=False,
               components=("order history",)),
    DemoChange("Add index on orders(customer_id, created_at)", "orders", 290,
               labels=("human-written",)),
    DemoChange("Raise orders pool size to 40", "orders", 1150, labels=("config",)),
]


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def _apply(session: Session, spec: DemoChange, deployed: datetime, number: int,
           *, github: bool = True) -> int:
    """Send the change's facts the way GitHub and a CI job would (or, for the everyday
    history, the way a deploy script posts everything to /hooks/changes); return its id."""
    repo = f"acme/{spec.service}"
    revision = _sha(f"{repo}#{number}")
    merged = deployed - timedelta(minutes=45)
    if not github:
        return changes.apply(session=session, settings=SETTINGS, facts=[ChangeFacts(
            source="changes", repository=repo, revision=revision, number=number,
            title=spec.title, url=f"https://github.com/{repo}/pull/{number}",
            author=spec.author, merged_at=merged, labels=spec.labels,
            commit_messages=(f"{spec.title}\n\n{spec.trailer}",), service=spec.service,
            approvals=len(spec.approvals), checks_passed=spec.checks_passed,
            canary=spec.canary, squashed=spec.squashed, environment="production",
            deployed_at=deployed)]).changes[0].id
    facts: list = [ApprovalFacts(source="github", repository=repo, number=number,
                                 reviewer=reviewer, approved=True,
                                 at=merged - timedelta(minutes=20))
                   for reviewer in spec.approvals]
    facts.append(ChangeFacts(
        source="github", repository=repo, revision=revision, number=number, title=spec.title,
        url=f"https://github.com/{repo}/pull/{number}", author=spec.author, merged_at=merged,
        labels=spec.labels, commit_messages=(f"{spec.title}\n\n{spec.trailer}",)))
    # What GitHub's webhooks do not carry, the CI job reports through /hooks/changes.
    facts.append(ChangeFacts(
        source="changes", repository=repo, revision=revision, service=spec.service,
        checks_passed=spec.checks_passed, failing_checks=spec.failing,
        squashed=spec.squashed, components=spec.components))
    if spec.canary:
        facts.append(ChangeFacts(source="github", repository=repo, revision=revision,
                                 service=spec.service, environment="canary",
                                 deployed_at=deployed - timedelta(minutes=15)))
    facts.append(ChangeFacts(source="github", repository=repo, revision=revision,
                             service=spec.service, environment="production", production=True,
                             deployed_at=deployed))
    applied = changes.apply(session=session, facts=facts, settings=SETTINGS)
    return applied.changes[0].id


def _background(rng: random.Random, service: str) -> DemoChange:
    """An everyday change: mostly AI-assisted or human, some config, dependency bumps,
    and some nobody attributed."""
    kind = rng.choices(["claude", "copilot", "label_ai", "human", "config", "bot", "unknown"],
                       [22, 12, 10, 30, 10, 6, 10])[0]
    title = rng.choice(["Tidy error handling", "Add metrics to the handler", "Speed up the "
                        "list query", "Refactor the client", "Fix pagination edge case",
                        "Update copy", "Retry on 503", "Feature flag for the new flow"])
    spec = DemoChange(title, service, 0, approvals=tuple(rng.sample(["robin", "kim", "ari"],
                                                                    rng.choice([1, 1, 2, 0]))),
                      canary=rng.random() < 0.7, checks_passed=rng.random() < 0.95)
    if kind == "claude":
        spec.trailer = CLAUDE
    elif kind == "copilot":
        spec.trailer = COPILOT
    elif kind == "label_ai":
        spec.labels = ("ai-assisted",)
    elif kind == "human":
        spec.labels = ("human-written",)
    elif kind == "config":
        spec.labels = ("config",)
    elif kind == "bot":
        spec.author, spec.title = "renovate[bot]", "Update dependency requests to v2.32.4"
    else:
        spec.squashed = rng.random() < 0.5
    return spec


def load(*, session: Session, admin: User, reviewer: User, now: datetime) -> None:
    """Rules, a history of changes, the demo incidents' triggers confirmed, open suspects."""
    for field_, pattern, origin, note in RULES:
        rules.add(session=session, field=field_, pattern=pattern, origin=origin, note=note,
                  actor=admin)
    rng = random.Random(7)
    number = 100
    for service in SERVICES:
        for _ in range(PER_SERVICE):
            number += 1
            deployed = now - timedelta(days=rng.uniform(1, DAYS), minutes=rng.randint(0, 600))
            _apply(session, _background(rng, service), deployed, number, github=False)
    incidents = {i.title: i for i in session.scalars(select(Incident))}
    for title, spec in TRIGGERS.items():
        if spec is None:
            continue
        number += 1
        incident = incidents[title]
        change_id = _apply(session, spec, incident.started_at - timedelta(
            minutes=spec.minutes_before), number)
        suspects.confirm(session=session, incident_id=incident.id, change_id=change_id,
                         actor=reviewer)
    open_incident = incidents["Elevated latency on order history"]
    for spec in sorted(SUSPECTS, key=lambda s: -s.minutes_before):  # as they happened
        number += 1
        _apply(session, spec, open_incident.started_at - timedelta(minutes=spec.minutes_before),
               number)
    session.flush()
