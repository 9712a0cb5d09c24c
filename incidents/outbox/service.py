"""Queue side effects in the caller's transaction, name who carries each kind out, and show
operators what is queued, retrying and dead.

    from incidents.outbox import service as outbox

    outbox.enqueue(session=session, kind="slack.notice", key=f"change:{entry.id}",
                   payload={...}, incident_id=incident.id)       # in the change's transaction

    @outbox.handler("slack.notice", failure="A Slack notice could not be posted")
    def post_notice(job: outbox.Job) -> None: ...                 # beside its adapter

A handler returns when the work is done, raises `Retry(reason, after=seconds)` to be run again
later, `Dead(reason)` to give up; any other exception is retried with exponential backoff.
`vendor_failure(exc)` turns an HTTP client's exception into the right one of those.
"""

from __future__ import annotations

import email.utils
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.db import utcnow
from incidents.errors import NotFound, Refused
from incidents.inbox.service import fit_key
from incidents.once import insert_once
from incidents.outbox.models import JobState, OutboxJob

MAX_KIND = 60


# --- what a handler may say -------------------------------------------------------------------

class Retry(Exception):  # noqa: N818  (an outcome, read as `raise outbox.Retry(...)`)
    """Run the job again later: after `after` seconds, else after the backoff."""

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class Dead(Exception):  # noqa: N818
    """Give the job up: retrying cannot help (a refused credential, a channel that is gone)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a `Retry-After` header (seconds or an HTTP date); None without one."""
    value = None
    for name, header in (headers or {}).items():
        if name.lower() == "retry-after":
            value = header[0] if isinstance(header, list | tuple) else header
    if value is None:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def answer_failure(status: int, headers: Mapping[str, str] | None = None,
                   reason: str = "") -> Retry | Dead | None:
    """What a vendor's HTTP status means for the job: None when it succeeded.

    429 (and 503 with a Retry-After) → Retry after the wait it asks for; 408 and 5xx → Retry
    with backoff; any other 4xx → Dead, since sending the same request again cannot help.
    """
    if status < 400:
        return None
    why = reason or f"HTTP {status}"
    if status == 429 or status >= 500 or status == 408:
        return Retry(why, after=retry_after(headers))
    return Dead(why)


def vendor_failure(exc: BaseException, reason: str = "") -> Retry | Dead:
    """The outcome of an exception from an HTTP client (slack_sdk, httpx, requests, urllib).

    An exception carrying a response is judged by its status (`answer_failure`); anything else
    (a refused connection, a timeout, a reset) is a network failure and retried.
    """
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(exc, "code", None)
    if isinstance(status, int):
        headers = getattr(response, "headers", None) or getattr(exc, "headers", None)
        return answer_failure(status, headers, reason or f"HTTP {status}") or Retry(
            reason or f"{type(exc).__name__}: {exc}")
    return Retry(reason or f"network error ({type(exc).__name__}: {exc})")


# --- handlers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """What a handler is given: the job as it was claimed."""

    id: int
    kind: str
    key: str
    payload: dict
    incident_id: int | None
    attempts: int  # including this one


@dataclass(frozen=True)
class Handler:
    kind: str
    run: Callable[[Job], None]
    failure: str  # what a dead job means, for people: "The Slack channel could not be created"


_HANDLERS: dict[str, Handler] = {}


def handler(kind: str, *, failure: str = ""):
    """Register the decorated function as the one that carries out jobs of `kind`."""
    if not kind or len(kind) > MAX_KIND:
        raise ValueError(f"a job kind is 1 to {MAX_KIND} characters: {kind!r}")

    def register(run: Callable[[Job], None]) -> Callable[[Job], None]:
        known = _HANDLERS.get(kind)
        if known is not None and known.run is not run:
            qualified = f"{known.run.__module__}.{known.run.__qualname__}"
            raise ValueError(f"job kind {kind!r} already has a handler: {qualified}")
        _HANDLERS[kind] = Handler(kind, run, failure or f"{kind} could not be carried out")
        return run

    return register


def load_handlers() -> dict[str, Handler]:
    """Import every module of the registry, so their handlers are known; return them by kind."""
    from incidents.outbox.registry import HANDLER_MODULES

    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return dict(_HANDLERS)


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


# --- queueing ---------------------------------------------------------------------------------

def enqueue(*, session: Session, kind: str, key: str, payload: dict,
            incident_id: int | None = None, available_at: datetime | None = None) -> bool:
    """Queue a job in the caller's transaction; False when this (kind, key) was queued before.

    Nothing runs until the caller commits: a rolled-back change queues nothing. The payload
    must be JSON; it is checked here, where the mistake is made, not in the worker.
    """
    if not kind or len(kind) > MAX_KIND:
        raise ValueError(f"a job kind is 1 to {MAX_KIND} characters: {kind!r}")
    json.dumps(payload)
    now = utcnow()
    return session.scalar(
        insert_once(session, OutboxJob, "kind", "key", returning=OutboxJob.id),
        {"kind": kind, "key": fit_key(key), "payload": payload, "incident_id": incident_id,
         "state": str(JobState.QUEUED), "available_at": available_at or now, "attempts": 0,
         "created_at": now}) is not None


def prune_done(*, session: Session, before: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` jobs done before `before`, oldest first; return how many.

    A done job's key is what keeps a repeated intent from running twice, so keep done jobs
    far longer than any sender retries (Slack retries for minutes; the default keeps 30 days).
    """
    oldest = (select(OutboxJob.id)
              .where(OutboxJob.state == JobState.DONE, OutboxJob.done_at < before)
              .order_by(OutboxJob.done_at).limit(limit))
    return session.execute(
        delete(OutboxJob).where(OutboxJob.id.in_(oldest.scalar_subquery()))).rowcount


def drain(app, *, wait: bool = False, timeout: float = 30.0) -> int:
    """Run every due job in this process and return how many ran (tests; cron uses the CLI).

    With `wait`, also wait for jobs scheduled later (retries) until none is queued.
    """
    from incidents.outbox.worker import Worker  # the worker runs handlers; this module queues

    with app.app_context():
        return Worker(app).run(drain=True, wait=wait, timeout=timeout)


# --- what operators see -----------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    queued: int
    retrying: int
    dead: int
    done: int


def counts(*, session: Session) -> Counts:
    rows = dict(session.execute(
        select(OutboxJob.state, func.count()).group_by(OutboxJob.state)).all())
    retrying = session.scalar(select(func.count()).where(
        OutboxJob.state == JobState.QUEUED, OutboxJob.attempts > 0,
        OutboxJob.last_error.is_not(None))) or 0
    return Counts(queued=rows.get(JobState.QUEUED, 0) - retrying, retrying=retrying,
                  dead=rows.get(JobState.DEAD, 0), done=rows.get(JobState.DONE, 0))


def pending(*, session: Session, limit: int = 200) -> list[OutboxJob]:
    """Queued jobs (waiting, running or retrying), the longest waiting first."""
    return list(session.scalars(
        select(OutboxJob).where(OutboxJob.state == JobState.QUEUED)
        .order_by(OutboxJob.id).limit(limit)))


def dead(*, session: Session, incident_id: int | None = None, limit: int = 200) -> list[OutboxJob]:
    """Dead jobs, newest first; of one incident when `incident_id` is given."""
    query = select(OutboxJob).where(OutboxJob.state == JobState.DEAD)
    if incident_id is not None:
        query = query.where(OutboxJob.incident_id == incident_id)
    return list(session.scalars(query.order_by(OutboxJob.id.desc()).limit(limit)))


def failure_text(job: OutboxJob) -> str:
    """What a dead job means, for people: "The Slack channel could not be created: <why>"."""
    known = _HANDLERS.get(job.kind)
    what = known.failure if known else f"{job.kind} could not be carried out"
    return f"{what}: {job.last_error or 'no reason recorded'}"


def _dead_job(session: Session, job_id: int) -> OutboxJob:
    job = session.get(OutboxJob, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.state != JobState.DEAD:
        raise Refused(f"job {job_id} is {job.state}, not dead", field="state")
    return job


def retry_dead(*, session: Session, job_id: int, actor=None) -> OutboxJob:
    """Queue a dead job again, due now, with a fresh count of attempts."""
    job = _dead_job(session, job_id)
    session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(
        state=JobState.QUEUED, attempts=0, available_at=utcnow(), leased_until=None,
        leased_by=None))
    audit.record(session=session, action="outbox.retried", entity_type="outbox_job",
                 entity_id=job.id, actor=actor, kind=job.kind, last_error=job.last_error or "")
    session.refresh(job)
    return job


def discard(*, session: Session, job_id: int, actor=None) -> OutboxJob:
    """Drop a dead job for good; the row stays, so the same intent is never queued again."""
    job = _dead_job(session, job_id)
    job.state = JobState.DISCARDED
    session.flush()
    audit.record(session=session, action="outbox.discarded", entity_type="outbox_job",
                 entity_id=job.id, actor=actor, kind=job.kind, last_error=job.last_error or "")
    return job
