"""The calls to trackers: open an item's issue, fetch an issue's state, reconcile them all.

Each job is idempotent and runs in a transaction of its own. Creation looks at the stored
reference first, then asks the tracker for the issue an earlier attempt made (by the
creation id it carries: a body marker on GitHub, a label on Jira, the issue's own id on
Linear) before creating, so a crash between the tracker's answer and the commit, or a
retry after a timeout, still opens the issue once. A tracker that is down or rate limiting
raises `Unavailable` (with Retry-After when the tracker gave one): the job is retried later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.appdb import new_session
from incidents.db import utcnow
from incidents.errors import DomainError
from incidents.outbox import service as outbox
from incidents.prevention.models import PreventionItem, PreventionStatus
from incidents.tracker import service
from incidents.tracker.models import TrackerLink, Vendor
from incidents.tracker.providers import provider
from incidents.tracker.providers.base import (
    Conn,
    Gone,
    Moved,
    NoAccess,
    Rejected,
    TrackerError,
    Unavailable,
)

log = logging.getLogger(__name__)
# GitHub lists issues updated since a time: look a little before the request, for clock skew.
_SKEW = timedelta(minutes=10)


def _conn(session: Session, link: TrackerLink) -> Conn:
    item = session.get(PreventionItem, link.prevention_item_id)
    tracker = link.tracker or service.tracker_of_team(session=session,
                                                      team_id=item.owner_team_id)
    return service.connection(vendor=link.vendor, tracker=tracker, site_url=link.site_url,
                              settings=current_app.config)


def create_issue(*, session: Session, link_id: int) -> str:
    """Open the item's issue unless it exists; the caller commits."""
    link = session.get(TrackerLink, link_id)
    if link is None:
        return "the link is gone"
    if link.reference:
        return f"already created: {link.key}"
    module, conn = provider(link.vendor), _conn(session, link)
    label = Vendor(link.vendor).label
    item = session.get(PreventionItem, link.prevention_item_id)
    draft = service.draft(item, link, current_app.config["PUBLIC_BASE_URL"])
    snap = module.find_created(conn, draft, link.requested_at - _SKEW)
    source = f"{label} (found the issue an earlier attempt created)" if snap else label
    snap = snap or module.create(conn, draft)
    service.apply_snapshot(session=session, link=link, snap=snap, source=source)
    service.history_line(session, item, source, action="prevention.tracker_created",
                     note=f"{label} {snap.key}")
    return f"created {snap.key}"


def fetch_state(*, session: Session, link_id: int, source: str = "") -> str:
    """Fetch the issue's state and apply it, or record the drift it shows; caller commits."""
    link = session.get(TrackerLink, link_id)
    if link is None or not link.reference:
        return "nothing to fetch"
    module, label = provider(link.vendor), Vendor(link.vendor).label
    source = source or f"{label} sync"
    try:
        snap = module.fetch(_conn(session, link), link.reference)
    except Moved as moved:
        problem = f"the issue moved away in {label} and cannot be followed"
        if moved.location:
            problem += f" ({moved.location[:300]})"
        service.record_drift(session=session, link=link, problem=problem, source=source)
        return problem
    except Gone:
        problem = f"the issue is not found in {label}: deleted, or never was"
        service.record_drift(session=session, link=link, problem=problem, source=source)
        return problem
    except NoAccess as exc:
        service.record_drift(session=session, link=link, problem=f"no access: {exc.message}",
                             source=source)
        return exc.message
    # Locked only now, after the tracker answered: a webhook about the same issue waits for
    # this transaction (or this one for it) instead of both moving the item.
    session.refresh(link, with_for_update=True)
    service.apply_snapshot(session=session, link=link, snap=snap, source=source)
    return f"{snap.key}: {snap.state_name}"


@dataclass
class SyncSummary:
    checked: int = 0
    created: int = 0
    drift: dict[int, str] = field(default_factory=dict)  # item id → what cannot be resolved
    failed: dict[int, str] = field(default_factory=dict)  # item id → why (will retry)


def open_links(*, session: Session) -> list[int]:
    """Links of items not yet done or dropped, and of issues still to be created."""
    return list(session.scalars(
        select(TrackerLink.id).join(PreventionItem,
                                    PreventionItem.id == TrackerLink.prevention_item_id)
        .where((PreventionItem.status.not_in([PreventionStatus.DONE, PreventionStatus.DROPPED]))
               | TrackerLink.reference.is_(None))
        .order_by(TrackerLink.id)))


def sync_all() -> SyncSummary:
    """Reconcile every open item's issue, one transaction each (the webhook that never came).

    A tracker that is down or rate limiting is left alone for the rest of the run; its items
    are reconciled on the next one.
    """
    summary = SyncSummary()
    resting: dict[str, str] = {}  # vendor → why it is skipped this run
    with new_session() as session:
        link_ids = open_links(session=session)
    for link_id in link_ids:
        with new_session() as session:
            link = session.get(TrackerLink, link_id)
            item_id = link.prevention_item_id
            if link.vendor in resting:
                summary.failed[item_id] = resting[link.vendor]
                continue
            try:
                if link.reference:
                    fetch_state(session=session, link_id=link_id)
                else:
                    create_issue(session=session, link_id=link_id)
                    summary.created += 1
                if link.drift:
                    summary.drift[item_id] = link.drift
                session.commit()
            except Unavailable as exc:
                session.rollback()
                summary.failed[item_id] = resting[link.vendor] = exc.message
            except (Rejected, NoAccess) as exc:
                session.rollback()
                summary.failed[item_id] = exc.message
            except (TrackerError, DomainError) as exc:  # an answer not in the documented shape
                session.rollback()
                summary.failed[item_id] = getattr(exc, "message", str(exc))
            summary.checked += 1
    stamp = utcnow().isoformat(timespec="seconds")
    log.info("tracker sync at %s: %s checked, %s created, %s drifting, %s failed", stamp,
             summary.checked, summary.created, len(summary.drift), len(summary.failed))
    return summary


# --- outbox handlers (the worker runs them; see incidents/outbox/registry.py) -----------------

def _carried_out(work, job: outbox.Job) -> None:
    """Run one tracker call in its own transaction; the tracker's answer as Retry or Dead."""
    with new_session() as session:
        try:
            work(session=session, link_id=int(job.payload["link_id"]))
        except Unavailable as exc:
            raise outbox.Retry(exc.message, after=exc.retry_after) from None
        except (NoAccess, Rejected, TrackerError, DomainError) as exc:
            session.rollback()
            reason = getattr(exc, "message", str(exc))
            _note_failure(int(job.payload["link_id"]), reason)
            raise outbox.Dead(reason) from None
        session.commit()


def _note_failure(link_id: int, reason: str) -> None:
    """Show on the item why its tracker call gave up (the dead job keeps the details)."""
    with new_session() as session:
        link = session.get(TrackerLink, link_id)
        if link is not None:
            service.record_drift(session=session, link=link, problem=reason,
                                 source=f"{Vendor(link.vendor).label} call")
            session.commit()


@outbox.handler(service.CREATE_ISSUE, failure="The tracker issue could not be created")
def run_create_issue(job: outbox.Job) -> None:
    _carried_out(create_issue, job)


@outbox.handler(service.FETCH_STATE, failure="The tracker issue's state could not be fetched")
def run_fetch_state(job: outbox.Job) -> None:
    _carried_out(fetch_state, job)


@outbox.handler(service.SYNC, failure="Trackers could not be reconciled")
def run_sync(job: outbox.Job) -> None:
    """The scheduled reconcile: run it, then queue the next one."""
    summary = sync_all()
    for item_id, problem in summary.drift.items():
        log.warning("tracker drift on item %s: %s", item_id, problem)
    # The next slot after this one, even when this one ran early (or late).
    this_slot = datetime.fromtimestamp(int(job.key.removeprefix("slot:")), UTC)
    with new_session() as session:
        service.schedule_sync(session=session, now=max(utcnow(), this_slot),
                              every_minutes=int(job.payload.get("every_minutes") or 60))
        session.commit()
