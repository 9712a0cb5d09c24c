"""Record changes as their facts arrive, join them into one row per commit, classify them, and
put their production deploys on the timelines of the incidents open on their service.

Exactly once, on both databases: the (repository, revision) constraint decides which delivery
creates a change (INSERT … ON CONFLICT DO NOTHING), and the row is then merged under a lock —
on PostgreSQL a transaction-scoped advisory lock per repository, so a pull request, its push
and its deploy arriving at once apply one after another (and a deploy that marks the
repository's other merged changes shipped cannot deadlock with them); SQLite's BEGIN
IMMEDIATE already serialises writers. Timeline entries are unique per (incident, change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, selectinload

from incidents.change import attribution
from incidents.change.models import Change, ChangeApproval, ChangeRule, IncidentChange
from incidents.change.sources import ApprovalFacts, ChangeFacts
from incidents.db import utcnow
from incidents.errors import NotFound, parse_choice
from incidents.incident import service as incidents
from incidents.incident.models import ChangeOrigin, Incident, Status
from incidents.once import insert_once
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind

# A deploy marks the repository's changes merged before its own commit as shipped with it; with
# no earlier deploy on record, only those merged this recently (older ones predate Linecheck).
SHIPPED_WITH_LOOKBACK = timedelta(days=30)
SHIPPED_WITH_LIMIT = 500
TEXT_LIMITS = {"title": 300, "url": 2000, "author": 200, "version": 200}


@dataclass(frozen=True)
class Settings:
    """What the deploys' environments mean (settings PRODUCTION_ENVIRONMENTS and
    CANARY_ENVIRONMENTS, comma-separated, case-insensitive), and how long before an incident
    a deploy concerns it (SUSPECT_WINDOW_HOURS)."""

    production: frozenset[str] = frozenset({"production", "prod", "live"})
    canary: frozenset[str] = frozenset({"canary"})
    window: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, config) -> Settings:
        def names(key: str) -> frozenset[str]:
            return frozenset(n.strip().lower() for n in str(config.get(key) or "").split(",")
                             if n.strip())

        return cls(production=names("PRODUCTION_ENVIRONMENTS"),
                   canary=names("CANARY_ENVIRONMENTS"),
                   window=timedelta(hours=int(config.get("SUSPECT_WINDOW_HOURS") or 24)))


@dataclass
class Applied:
    """What a delivery's facts did."""

    changes: list[Change] = field(default_factory=list)
    deployed: list[Change] = field(default_factory=list)  # reached production just now
    approvals: int = 0
    timeline_events: int = 0
    skipped: list[str] = field(default_factory=list)  # deploys to other environments

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.approvals)


def apply(*, session: Session, facts: list, settings: Settings) -> Applied:
    """Apply a delivery's facts in the caller's transaction."""
    applied = Applied()
    rules = rule_list(session=session)
    for fact in facts:
        if isinstance(fact, ApprovalFacts):
            _lock(session, fact.repository)
            _approve(session, fact, rules)
            applied.approvals += 1
            continue
        deploy = _deploy_kind(fact, settings)
        if fact.deployed_at is not None and deploy is None:
            applied.skipped.append(fact.environment or "an unnamed environment")
            continue
        _lock(session, fact.repository)
        change, newly_deployed = _record(session, fact, deploy, rules, settings)
        applied.changes.append(change)
        for shipped in newly_deployed:
            applied.deployed.append(shipped)
            applied.timeline_events += _announce(session, shipped, settings.window)
    return applied


def _deploy_kind(fact: ChangeFacts, settings: Settings) -> str | None:
    if fact.deployed_at is None:
        return None
    environment = (fact.environment or "").strip().lower()
    if environment in settings.canary:
        return "canary"
    if fact.production is True or environment in settings.production:
        return "production"
    return None


def _lock(session: Session, repository: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"linecheck.change:{repository}"})


def _row(session: Session, repository: str, revision: str) -> Change:
    """The change of (repository, revision), created by this call if there was none."""
    now = utcnow()
    session.execute(insert_once(session, Change, "repository", "revision", returning=Change.id),
                    {"repository": repository, "revision": revision, "created_at": now,
                     "updated_at": now, "origin": ChangeOrigin.UNKNOWN, "origin_reason": ""})
    return session.scalar(
        select(Change).where(Change.repository == repository, Change.revision == revision)
        .with_for_update().execution_options(populate_existing=True))


def _record(session: Session, fact: ChangeFacts, deploy: str | None, rules: list[ChangeRule],
            settings: Settings) -> tuple[Change, list[Change]]:
    change = _row(session, fact.repository, fact.revision)
    # A pull / merge request or the sender's own hook speaks for the change; a push or a
    # deploy only fills what nobody said yet (a merge commit's subject is not its title).
    speaks = fact.number is not None or fact.source == "changes"
    for name, limit in TEXT_LIMITS.items():
        value = getattr(fact, name)
        if value and (speaks or not getattr(change, name)):
            setattr(change, name, value[:limit])
    if fact.number is not None:
        change.number = fact.number
    if fact.service:
        change.service = fact.service
    if fact.merged_at and (change.merged_at is None or fact.merged_at < change.merged_at):
        change.merged_at = fact.merged_at
    for name in ("checks_passed", "squashed", "declared_origin", "approvals"):
        if getattr(fact, name) is not None:
            setattr(change, name, getattr(fact, name))
    for name in ("failing_checks", "labels", "components"):
        if getattr(fact, name) is not None:
            setattr(change, name, list(getattr(fact, name)))
    found = attribution.trailers_in(fact.commit_messages)
    if found:
        change.trailers = list(dict.fromkeys([*change.trailers, *found]))[
            :attribution.MAX_TRAILERS]
    if fact.source not in change.sources:
        change.sources = [*change.sources, fact.source]
    if fact.number is not None and fact.approvals is None:
        counted = _count_approvals(session, change)
        if counted is not None:
            change.approvals = counted
    if fact.canary is not None and deploy != "canary":
        change.canary = fact.canary
    newly: list[Change] = []
    if deploy == "canary" and change.deployed_at is None:
        change.canary = True
    elif deploy == "production":
        if change.canary is None and fact.source != "changes" and settings.canary:
            # A code host reports every environment's deploys: production came with no canary
            # deploy before it. A generic sender that says nothing of a canary said nothing,
            # and with no canary environments configured, canaries are not reported at all.
            change.canary = False
        if change.deployed_at is None:
            newly.append(change)
        if change.deployed_at is None or fact.deployed_at < change.deployed_at:
            change.deployed_at, change.environment = fact.deployed_at, fact.environment
    change.updated_at = utcnow()
    classify(session=session, change=change, rules=rules)
    session.flush()
    if newly:
        newly += _ship_with(session, change, rules)
    return change, newly


def _ship_with(session: Session, deployed: Change, rules: list[ChangeRule]) -> list[Change]:
    """Mark the repository's merged, undeployed changes up to this one as shipped with it.

    Only when the deployed change's own merge time is known: without it, which merges the
    deployed commit contains cannot be told apart from later ones.
    """
    if deployed.merged_at is None:
        return []
    earlier = session.scalar(select(func.max(Change.deployed_at)).where(
        Change.repository == deployed.repository, Change.id != deployed.id,
        Change.deployed_at < deployed.deployed_at))
    since = earlier or deployed.deployed_at - SHIPPED_WITH_LOOKBACK
    shipped = list(session.scalars(
        select(Change).where(Change.repository == deployed.repository,
                             Change.id != deployed.id, Change.deployed_at.is_(None),
                             Change.merged_at.is_not(None), Change.merged_at > since,
                             Change.merged_at <= deployed.merged_at)
        .order_by(Change.id).limit(SHIPPED_WITH_LIMIT).with_for_update()))
    for change in shipped:
        change.deployed_at, change.environment = deployed.deployed_at, deployed.environment
        change.service = change.service or deployed.service
        if change.canary is None:
            change.canary = deployed.canary
        change.updated_at = utcnow()
    session.flush()
    return shipped


def _announce(session: Session, change: Change, window: timedelta) -> int:
    """A deploy entry on each open incident of the change's service that it concerns (deployed
    during it, or within the suspect window before it started), once per incident."""
    if not change.service:
        return 0
    open_incidents = list(session.scalars(select(Incident).where(
        Incident.service == change.service, Incident.status != Status.RESOLVED,
        Incident.started_at <= change.deployed_at + window)))
    what = change.title or change.short
    text_ = (f"Deployed {change.short} to {change.environment or 'production'}: {what} "
             f"— {attribution.LABELS[ChangeOrigin(change.origin)]}")
    added = 0
    for incident in open_incidents:
        added += timeline.add_events(session=session, incident=incident, events=[dict(
            text=text_, kind=EventKind.DEPLOY, occurred_at=change.deployed_at,
            author_name=change.sources[0] if change.sources else "changes",
            source=(change.sources[0] if change.sources else "changes")[:20],
            link=change.url, external_key=f"change:{change.id}")])
    return added


# --- approvals ------------------------------------------------------------------------------

def _approve(session: Session, fact: ApprovalFacts, rules: list[ChangeRule]) -> None:
    """Record the reviewer's latest word, then recount the merged change's approvals."""
    keys = dict(repository=fact.repository, number=fact.number, reviewer=fact.reviewer[:200])
    created = session.scalar(
        insert_once(session, ChangeApproval, "repository", "number", "reviewer",
                    returning=ChangeApproval.id),
        {**keys, "approved": fact.approved, "at": fact.at})
    if created is None:
        session.execute(update(ChangeApproval).where(
            *[getattr(ChangeApproval, k) == v for k, v in keys.items()],
            ChangeApproval.at <= fact.at).values(approved=fact.approved, at=fact.at))
    change = session.scalar(select(Change).where(
        Change.repository == fact.repository, Change.number == fact.number)
        .order_by(Change.id.desc()).limit(1).with_for_update())
    if change is not None:
        change.approvals = _count_approvals(session, change)
        change.updated_at = utcnow()
        session.flush()


def _count_approvals(session: Session, change: Change) -> int | None:
    """Approvals given before the merge; None while the repository has never sent a review
    event (then "no approval" would only mean "not told")."""
    if change.number is None:
        return None
    heard = session.scalar(select(ChangeApproval.id).where(
        ChangeApproval.repository == change.repository).limit(1))
    if heard is None:
        return None
    query = select(func.count()).select_from(ChangeApproval).where(
        ChangeApproval.repository == change.repository,
        ChangeApproval.number == change.number, ChangeApproval.approved.is_(True))
    if change.merged_at is not None:
        query = query.where(ChangeApproval.at <= change.merged_at)
    return session.scalar(query)


# --- attribution ----------------------------------------------------------------------------

def rule_list(*, session: Session) -> list[ChangeRule]:
    return list(session.scalars(select(ChangeRule).order_by(ChangeRule.position, ChangeRule.id)))


def classify(*, session: Session, change: Change, rules: list[ChangeRule]) -> bool:
    """Decide the change's origin; True when it moved. Incidents that took their origin from
    it follow (through the incident service), unless a reviewer set theirs differently."""
    decided = attribution.classify(change, rules)
    old = ChangeOrigin(change.origin)
    change.origin_reason, change.evidence = decided.reason, decided.evidence
    if decided.origin == old:
        return False
    change.origin = decided.origin
    session.flush()
    links = session.scalars(select(IncidentChange).where(IncidentChange.change_id == change.id)
                            .options(selectinload(IncidentChange.incident)))
    for link in links:
        if link.incident.change_origin == old:
            incidents.update(session=session, incident=link.incident,
                             changes=incidents.Changes(change_origin=str(decided.origin)),
                             author_name="change attribution", source="changes")
    return True


def reclassify_all(*, session: Session, batch: int = 500) -> int:
    """Classify every change again under the current rules; return how many moved."""
    rules = rule_list(session=session)
    moved, after = 0, 0
    while True:
        page = list(session.scalars(select(Change).where(Change.id > after)
                                    .order_by(Change.id).limit(batch)))
        if not page:
            return moved
        for change in page:
            moved += classify(session=session, change=change, rules=rules)
        session.flush()
        after = page[-1].id


# --- reading --------------------------------------------------------------------------------

def get(*, session: Session, change_id: int) -> Change:
    change = session.get(Change, change_id)
    if change is None:
        raise NotFound(f"no change {change_id}")
    return change


@dataclass
class ChangeFilter:
    service: str | None = None
    origin: str | None = None
    repository: str | None = None
    deployed: bool | None = None


def search(*, session: Session, filters: ChangeFilter, before: int | None = None,
           limit: int = 50) -> tuple[list[Change], int | None]:
    """Changes newest first, a page at a time (keyset on id)."""
    query = select(Change).order_by(Change.id.desc())
    if filters.service:
        query = query.where(Change.service == filters.service)
    if filters.origin:
        query = query.where(Change.origin == parse_choice(ChangeOrigin, filters.origin,
                                                          "origin"))
    if filters.repository:
        query = query.where(Change.repository == filters.repository)
    if filters.deployed is not None:
        query = query.where(Change.deployed_at.is_not(None) if filters.deployed
                            else Change.deployed_at.is_(None))
    if before is not None:
        query = query.where(Change.id < before)
    rows = list(session.scalars(query.limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def incidents_of(*, session: Session, change_id: int) -> list[Incident]:
    """Incidents this change was confirmed to have triggered."""
    return list(session.scalars(
        select(Incident).join(IncidentChange, IncidentChange.incident_id == Incident.id)
        .where(IncidentChange.change_id == change_id).order_by(Incident.started_at.desc())))


def services(*, session: Session) -> list[str]:
    return list(session.scalars(select(Change.service).where(Change.service.is_not(None))
                                .distinct().order_by(Change.service)))
