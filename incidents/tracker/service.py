"""Tracker sync: a team's tracker, an item's issue, and the issue's state flowing into the item.

The rules of what a tracker's state does to a prevention item live here, once, for webhooks
and reconcile alike:

- closed as completed: a contain / local-fix / advice item (or one whose guard is given) is
  done; an eliminate / detect / fail-loudly item without its guard stays *in progress* with
  the issue closed — "done in tracker, guard needed" — and its owners are asked for the guard;
- closed as not planned / won't do / canceled: the item is dropped with that reason;
- reopened: the item is back in progress;
- started (Jira "In Progress", Linear `started`): a proposed or committed item is in progress.

"Guard needed" is derived (`guard_needed`), not a status: the API's `status` enum stays as
SPEC.md fixes it, and the item simply cannot be done until the guard is given.
Every change is a line in the item's history naming where it came from.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth import service as auth
from incidents.auth.models import Team, User
from incidents.db import utcnow
from incidents.errors import Conflict, InvalidInput, NotFound, Refused, parse_choice
from incidents.outbox import service as outbox
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionItem, PreventionKind, PreventionStatus
from incidents.tracker import vault
from incidents.tracker.models import IssueState, Tracker, TrackerLink, Vendor
from incidents.tracker.providers import recognise
from incidents.tracker.providers.base import Conn, Draft, Event, NoAccess, Snapshot

ENTITY = {"entity_type": "prevention_item"}
# Outbox job kinds: the tracker calls (incidents.tracker.jobs) and the Slack ask for a guard
# (slackbot.guard_requests).
CREATE_ISSUE, FETCH_STATE, SYNC = "tracker.create_issue", "tracker.fetch_state", "tracker.sync"
GUARD_REQUEST = "slack.guard_request"
_PROJECT = {Vendor.GITHUB: "owner/repository", Vendor.JIRA: "project key",
            Vendor.LINEAR: "team id"}


# -- a team's tracker --------------------------------------------------------------------------

def trackers(*, session: Session) -> dict[int, Tracker]:
    """Every team's tracker, by team id."""
    return {t.team_id: t for t in session.scalars(select(Tracker))}


def tracker_of_team(*, session: Session, team_id: int | None) -> Tracker | None:
    if team_id is None:
        return None
    return session.scalar(select(Tracker).where(Tracker.team_id == team_id))


def save_tracker(*, session: Session, team: str, vendor: Vendor | str, project: str,
                 site_url: str | None = None, issue_type: str | None = None,
                 credential: str | None = None, actor: User | None = None) -> Tracker:
    """Set a team's tracker. `credential` None keeps the stored one; "" clears it."""
    vendor = parse_choice(Vendor, vendor, "vendor")
    owner = auth.team_named(session=session, name=(team or "").strip())
    if owner is None:
        raise InvalidInput("a tracker belongs to a team", field="team")
    project = (project or "").strip()
    _check_project(vendor, project)
    site_url = (site_url or "").strip().rstrip("/") or None
    if vendor == Vendor.JIRA and not (site_url or "").startswith("https://"):
        raise InvalidInput("a Jira tracker needs its site, https://<yours>.atlassian.net",
                           field="site_url")
    tracker = tracker_of_team(session=session, team_id=owner.id) or Tracker(team_id=owner.id)
    tracker.vendor, tracker.project = vendor, project
    tracker.site_url = site_url if vendor == Vendor.JIRA else None
    tracker.issue_type = ((issue_type or "").strip() or "Task") if vendor == Vendor.JIRA \
        else None
    if credential is not None:
        credential = credential.strip()
        if credential and vendor == Vendor.JIRA and ":" not in credential:
            raise InvalidInput("a Jira token is entered as email:api-token", field="credential")
        tracker.credential = vault.seal(credential) if credential else None
        tracker.credential_hint = vault.hint(credential) if credential else None
    session.add(tracker)
    session.flush()
    # Never the credential itself, not even its hint: the audit log is widely readable.
    audit.record(session=session, action="tracker.saved", entity_type="team",
                 entity_id=owner.id, actor=actor, vendor=str(vendor), project=project,
                 credential="changed" if credential is not None else "kept")
    return tracker


def _check_project(vendor: Vendor, project: str) -> None:
    ok = {Vendor.GITHUB: lambda p: p.count("/") == 1 and all(p.split("/")),
          Vendor.JIRA: lambda p: p.replace("_", "").isalnum() and p.isupper(),
          Vendor.LINEAR: lambda p: 0 < len(p) <= 100}[vendor]
    if not project or len(project) > 200 or not ok(project):
        raise InvalidInput(f"a {vendor.label} tracker needs its {_PROJECT[vendor]}",
                           field="project")


def schedule_sync(*, session: Session, every_minutes: int, now: datetime | None = None) -> bool:
    """Queue the next reconcile at the next slot of the schedule; False if already queued.

    Slots are fixed multiples of the interval, so whoever queues it (saving a tracker, the
    CLI, the previous run) names the same job and the chain never forks.
    """
    step = max(1, every_minutes) * 60
    slot = int((now or utcnow()).timestamp() // step + 1) * step
    return outbox.enqueue(session=session, kind=SYNC, key=f"slot:{slot}",
                          payload={"every_minutes": every_minutes},
                          available_at=datetime.fromtimestamp(slot, UTC))


def remove_tracker(*, session: Session, team_id: int, actor: User | None = None) -> None:
    tracker = tracker_of_team(session=session, team_id=team_id)
    if tracker is not None:
        session.delete(tracker)
        session.flush()
        audit.record(session=session, action="tracker.removed", entity_type="team",
                     entity_id=team_id, actor=actor)


def connection(*, vendor: Vendor | str, tracker: Tracker | None, site_url: str | None,
               settings) -> Conn:
    """Where and as whom to call the vendor: the team's stored credential, else the
    environment's; the API base from the settings (tests point them at fakes)."""
    vendor = Vendor(vendor)
    if tracker is not None and Vendor(tracker.vendor) != vendor:
        tracker = None
    stored = vault.open_(tracker.credential) if tracker and tracker.credential else None
    if vendor == Vendor.GITHUB:
        credential, api_url = stored or settings.get("GITHUB_TOKEN"), settings["GITHUB_API_URL"]
    elif vendor == Vendor.LINEAR:
        credential, api_url = stored or settings.get("LINEAR_API_KEY"), settings["LINEAR_API_URL"]
    else:
        env = (f"{settings.get('JIRA_EMAIL')}:{settings.get('JIRA_API_TOKEN')}"
               if settings.get("JIRA_EMAIL") and settings.get("JIRA_API_TOKEN") else None)
        credential = stored or env
        site_url = (tracker.site_url if tracker else None) or site_url or ""
        api_url = settings.get("JIRA_API_URL") or site_url
    if not credential:
        raise NoAccess(f"no {vendor.label} credential: store one for the team's tracker "
                       "or set it in the environment")
    return Conn(api_url=api_url, credential=credential,
                project=tracker.project if tracker else "",
                issue_type=(tracker.issue_type if tracker else None) or "Task",
                site_url=site_url or "")


# -- an item's issue ---------------------------------------------------------------------------

def link_of(*, session: Session, item_id: int) -> TrackerLink | None:
    return session.scalar(select(TrackerLink).where(TrackerLink.prevention_item_id == item_id))


def _new_link(session: Session, item: PreventionItem, link: TrackerLink) -> TrackerLink:
    if link_of(session=session, item_id=item.id) is not None:
        raise Conflict("this item already has a tracker issue", field="tracker")
    try:
        with session.begin_nested():
            session.add(link)
    except IntegrityError:
        raise Conflict("that issue, or a tracker issue for this item, is already linked",
                       field="tracker") from None
    return link


def request_issue(*, session: Session, item: PreventionItem, actor: User | None = None,
                  actor_label: str = "") -> TrackerLink:
    """Ask for the item's issue in its owner team's tracker; a worker job opens it."""
    tracker = tracker_of_team(session=session, team_id=item.owner_team_id)
    if tracker is None:
        raise Refused("the item's owner team has no tracker; an admin sets one on the "
                      "Trackers page", field="tracker")
    link = _new_link(session, item, TrackerLink(
        prevention_item_id=item.id, tracker_id=tracker.id, vendor=tracker.vendor,
        site_url=tracker.site_url, creation_id=str(uuid.uuid4()), state=IssueState.PENDING,
        requested_at=utcnow()))
    audit.record(session=session, action="prevention.tracker_requested", entity_id=item.id,
                 actor=actor, actor_label=actor_label,
                 note=f"issue asked for in {Vendor(tracker.vendor).label} {tracker.project}",
                 **ENTITY)
    session.flush()
    outbox.enqueue(session=session, kind=CREATE_ISSUE, key=f"link:{link.id}",
                   payload={"link_id": link.id})
    return link


def link_issue(*, session: Session, item: PreventionItem, url: str, actor: User | None = None,
               actor_label: str = "") -> TrackerLink:
    """Link an existing issue by its URL; a worker job fetches its state."""
    url = (url or "").strip()
    found = recognise(url) if len(url) <= 2000 else None
    if found is None:
        raise InvalidInput("not a GitHub, Jira or Linear issue URL (…/owner/repo/issues/12, "
                           "…/browse/KEY-12, linear.app/…/issue/KEY-12)", field="url")
    vendor, ref = found
    tracker = tracker_of_team(session=session, team_id=item.owner_team_id)
    link = _new_link(session, item, TrackerLink(
        prevention_item_id=item.id, vendor=vendor, reference=ref.reference, key=ref.key,
        url=url, site_url=ref.site_url or None, state=IssueState.PENDING,
        tracker_id=tracker.id if tracker and Vendor(tracker.vendor) == vendor else None,
        requested_at=utcnow()))
    item.tracker_url = url
    audit.record(session=session, action="prevention.tracker_linked", entity_id=item.id,
                 actor=actor, actor_label=actor_label, note=f"{vendor.label} {ref.key}",
                 **ENTITY)
    session.flush()
    outbox.enqueue(session=session, kind=FETCH_STATE, key=f"link:{link.id}:linked",
                   payload={"link_id": link.id})
    return link


def draft(item: PreventionItem, link: TrackerLink, base_url: str) -> Draft:
    """The issue to open for an item: its title, strength, station, guard, link back."""
    kind = PreventionKind(item.kind)
    guard = ("a guard (the check, test, constraint or alert that fails if the defect comes "
             "back) before it counts as done" if kind.needs_guard else "none required")
    facts = (("Strength", f"{kind.value.replace('_', ' ')} ({kind.strength} of 5)"),
             ("Station", item.station.name if item.station else "—"),
             ("Owner team", item.owner_team.name if item.owner_team else "—"),
             ("Due", item.due_date.isoformat() if item.due_date else "—"),
             ("Guard expected", guard),
             ("What it changes", item.description or "—"),
             ("Incidents", ", ".join(f"#{i}" for i in item.incident_ids) or "—"))
    return Draft(item_id=item.id, creation_id=link.creation_id or "", title=item.title,
                 facts=facts, link=f"{base_url.rstrip('/')}/prevention/{item.id}")


def find_link(*, session: Session, vendor: Vendor, snap: Snapshot) -> TrackerLink | None:
    """The link an issue feeds (by its stable id, or by the key a pasted URL gave), locked
    until the caller commits: two deliveries about one issue apply one after the other."""
    return session.scalar(
        select(TrackerLink).where(TrackerLink.vendor == vendor,
                                  or_(TrackerLink.reference == snap.reference,
                                      TrackerLink.reference == snap.key))
        .order_by(TrackerLink.id).limit(1).with_for_update())


# -- the issue's state flowing in ----------------------------------------------------------------

def apply_snapshot(*, session: Session, link: TrackerLink, snap: Snapshot, source: str,
                   now: datetime | None = None) -> bool:
    """Record the issue's state and move the item by the rules above; False when stale."""
    now = now or utcnow()
    if snap.updated_at and link.vendor_updated_at and snap.updated_at < link.vendor_updated_at:
        return False  # an older event arriving late: what is stored is newer
    item = session.get(PreventionItem, link.prevention_item_id)
    label = Vendor(link.vendor).label
    other = session.scalar(select(TrackerLink.prevention_item_id).where(
        TrackerLink.vendor == link.vendor, TrackerLink.reference == snap.reference,
        TrackerLink.id != link.id))
    if other is not None:  # the same issue reached through another URL or key
        record_drift(session=session, link=link, source=source,
                     problem=f"{label} {snap.key} is already linked to item {other}")
        return False
    old_state, old_assignee = IssueState(link.state), link.assignee
    if link.key and snap.key != link.key and link.state != IssueState.PENDING:
        history_line(session, item, source, note=f"moved in {label}: {link.key} → {snap.key}")
    link.reference, link.key, link.url = snap.reference, snap.key, snap.url
    link.state, link.state_name = snap.state, snap.state_name
    link.assignee, link.due_date, link.closed_at = snap.assignee, snap.due_date, snap.closed_at
    link.vendor_updated_at = snap.updated_at or link.vendor_updated_at
    link.synced_at, link.drift = now, None
    item.tracker_url = snap.url
    if snap.state != old_state or snap.assignee != old_assignee:
        history_line(session, item, source, old=f"{label}: {old_state.value}",
                 new=f"{label}: {snap.state_name}",
                 note=f"assigned to {snap.assignee}" if snap.assignee != old_assignee
                 and snap.assignee else "")
    if snap.state != old_state:
        _move_item(session, item, link, old_state, snap, source, now)
    session.flush()
    return True


def _move_item(session: Session, item: PreventionItem, link: TrackerLink, old: IssueState,
               snap: Snapshot, source: str, now: datetime) -> None:
    status = PreventionStatus(item.status)
    label = Vendor(link.vendor).label
    closed = (PreventionStatus.DONE, PreventionStatus.DROPPED)

    def move(target: PreventionStatus, **extra) -> None:
        prevention.update(session=session, item=item, status=target, actor_label=source,
                          now=extra.pop("at", now), **extra)

    if snap.state == IssueState.COMPLETED and status not in closed:
        if not PreventionKind(item.kind).needs_guard or item.guard_url:
            move(PreventionStatus.DONE, at=snap.closed_at or now)
            return
        if status != PreventionStatus.IN_PROGRESS:
            move(PreventionStatus.IN_PROGRESS)
        ask_for_guard(session=session, item=item, link=link, source=source)
    elif snap.state == IssueState.NOT_PLANNED and status not in closed:
        move(PreventionStatus.DROPPED, dropped_reason=f"{label}: {snap.state_name}")
    elif not snap.state.closed and old.closed:  # reopened
        if status == PreventionStatus.DROPPED:
            move(PreventionStatus.PROPOSED)
        if PreventionStatus(item.status) != PreventionStatus.IN_PROGRESS:
            move(PreventionStatus.IN_PROGRESS)
    elif snap.state == IssueState.IN_PROGRESS and status in (PreventionStatus.PROPOSED,
                                                             PreventionStatus.COMMITTED):
        move(PreventionStatus.IN_PROGRESS)


def ask_for_guard(*, session: Session, item: PreventionItem, link: TrackerLink,
                  source: str) -> None:
    """The issue is done but the item needs its guard: say so in its history, and ask its
    owner team in Slack (once per closure of the issue)."""
    history_line(session, item, source, action="prevention.guard_requested",
                 note=f"done in {Vendor(link.vendor).label} ({link.key}); the guard is needed "
                      "before the item is done")
    closure = (link.vendor_updated_at or utcnow()).isoformat()
    outbox.enqueue(session=session, kind=GUARD_REQUEST,
                   key=f"item:{item.id}:guard-needed:{closure}",
                   payload={"item_id": item.id, "tracker": Vendor(link.vendor).label,
                            "issue": link.key or "", "issue_url": link.url or ""})


def record_drift(*, session: Session, link: TrackerLink, problem: str, source: str,
                 now: datetime | None = None) -> bool:
    """Note what sync cannot resolve (deleted, moved away, no access); False if unchanged."""
    link.synced_at = now or utcnow()
    if link.drift == problem:
        return False
    link.drift = problem
    item = session.get(PreventionItem, link.prevention_item_id)
    history_line(session, item, source, action="prevention.tracker_drift", note=problem)
    session.flush()
    return True


def apply_event(*, session: Session, vendor: Vendor, event: Event,
                source: str) -> tuple[int, str] | None:
    """Apply a webhook event: (the item it moved, what happened), or None when no item is
    linked to the issue."""
    snap = event.snapshot
    if snap is None:
        return None
    link = None
    if event.moved_from is not None:
        link = session.scalar(select(TrackerLink).where(
            TrackerLink.vendor == vendor, TrackerLink.reference == event.moved_from)
            .with_for_update())
    link = link or find_link(session=session, vendor=vendor, snap=snap)
    if link is None:
        return None
    item_id = link.prevention_item_id
    if event.deleted:
        record_drift(session=session, link=link, source=source,
                     problem=f"the issue was deleted in {vendor.label}")
        return item_id, f"item {item_id}: its issue was deleted"
    if not apply_snapshot(session=session, link=link, snap=snap, source=source):
        return item_id, (f"item {item_id}: nothing changed (an older state than the one "
                         "stored, or drift noted on the item)")
    return item_id, f"item {item_id}: {vendor.label} {snap.key} is {snap.state_name}"


def history_line(session: Session, item: PreventionItem, source: str, *,
             action: str = "prevention.tracker_state", **detail) -> None:
    audit.record(session=session, action=action, entity_id=item.id, actor_label=source,
                 **{k: v for k, v in detail.items() if v}, **ENTITY)


# -- what people see ---------------------------------------------------------------------------

def guard_needed(item: PreventionItem) -> bool:
    """Done in the tracker, not here: the item waits for its guard."""
    link = item.tracker_link
    return (link is not None and link.state == IssueState.COMPLETED
            and item.status == PreventionStatus.IN_PROGRESS
            and PreventionKind(item.kind).needs_guard and not item.guard_url)


def disagreement(item: PreventionItem, now: datetime) -> str | None:
    """Where the tracker and Linecheck disagree, in words ("closed in Jira 12 days ago,
    still in progress here"); None when they agree or the guard is what is missing."""
    link = item.tracker_link
    if link is None or link.state == IssueState.PENDING or guard_needed(item):
        return None
    label, status = Vendor(link.vendor).label, PreventionStatus(item.status)
    here = status.value.replace("_", " ")
    state = IssueState(link.state)
    if state.closed and status not in (PreventionStatus.DONE, PreventionStatus.DROPPED):
        return f"closed in {label} {_ago(link.closed_at, now)}, still {here} here"
    if state == IssueState.COMPLETED and status == PreventionStatus.DROPPED:
        return f"done in {label}, dropped here"
    if state == IssueState.NOT_PLANNED and status == PreventionStatus.DONE:
        return f"closed as {link.state_name} in {label}, done here"
    if not state.closed and status in (PreventionStatus.DONE, PreventionStatus.DROPPED):
        return f"open in {label}, {here} here"
    return None


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "at some point"
    days = (now - when).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def get_item(*, session: Session, item_id: int) -> PreventionItem:
    item = session.get(PreventionItem, item_id)
    if item is None:
        raise NotFound(f"no prevention item {item_id}", field="id")
    return item


def team_names(*, session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))
