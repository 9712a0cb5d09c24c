"""The worker: claim a due job, run its handler, mark it done, retried later or dead.

Claims are short transactions. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets workers on many
hosts claim side by side without waiting on each other; on SQLite the claim runs in a
`BEGIN IMMEDIATE` transaction, which serialises claims. A claim writes a lease (until when,
and a token naming this claim); a heartbeat renews it while the handler runs, and the job is
finished only under the same token. A worker killed mid-job stops renewing: once its lease
runs out another worker claims the job again, and the handler (idempotent) resumes it.

Jobs of one incident run in order: a job is not claimed while an earlier job of its incident
is still queued (waiting, running or retrying). Dead jobs do not hold the others back.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import bindparam, case, exists, func, or_, select, type_coerce, update
from sqlalchemy.orm import aliased

from incidents.db import UTCDateTime, utcnow
from incidents.outbox.models import JobState, OutboxJob
from incidents.outbox.service import Dead, Job, Retry, handler_for, load_handlers, prune_done

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0  # seconds between purges of old done jobs

_earlier = aliased(OutboxJob)
_CLAIM = (
    select(OutboxJob)
    .where(OutboxJob.state == JobState.QUEUED,
           OutboxJob.available_at <= bindparam("now"),
           or_(OutboxJob.leased_until.is_(None), OutboxJob.leased_until < bindparam("now")),
           ~exists().where(_earlier.incident_id == OutboxJob.incident_id,
                           _earlier.state == JobState.QUEUED, _earlier.id < OutboxJob.id))
    .order_by(OutboxJob.available_at, OutboxJob.id)
    .limit(1)
    .with_for_update(skip_locked=True)  # PostgreSQL; SQLite's BEGIN IMMEDIATE serialises
    .execution_options(populate_existing=True)
)


@dataclass(frozen=True)
class Settings:
    lease: float  # seconds a claim holds a job without a heartbeat
    backoff: float  # the first retry's delay; doubled per attempt
    max_backoff: float
    max_attempts: int
    poll: float  # how often an idle worker looks for new jobs
    keep_done: float  # days a done job is kept (its key refuses repeats); 0 keeps them all

    @classmethod
    def from_config(cls, config) -> Settings:
        return cls(lease=float(config["OUTBOX_LEASE_SECONDS"]),
                   backoff=float(config["OUTBOX_BACKOFF_SECONDS"]),
                   max_backoff=float(config["OUTBOX_MAX_BACKOFF_SECONDS"]),
                   max_attempts=int(config["OUTBOX_MAX_ATTEMPTS"]),
                   poll=float(config["OUTBOX_POLL_SECONDS"]),
                   keep_done=float(config["OUTBOX_KEEP_DONE_DAYS"]))


@dataclass(frozen=True)
class Outcome:
    state: JobState
    error: str | None = None
    delay: float = 0.0


class Worker:
    def __init__(self, app: Flask, *, name: str | None = None) -> None:
        self.app = app
        self.sessions = app.extensions["linecheck.database"].session
        self.settings = Settings.from_config(app.config)
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}")[:80]
        self.handlers = load_handlers()
        self._stop = threading.Event()
        self._pruned_at: float | None = None

    def stop(self) -> None:
        """Finish the job in hand, then return from `run` (SIGTERM, SIGINT)."""
        self._stop.set()

    # -- the loop ----------------------------------------------------------------------------
    def run(self, *, drain: bool = False, wait: bool = False,
            timeout: float | None = None) -> int:
        """Run jobs until stopped; with `drain`, until none is due (with `wait`, none queued).

        Returns how many jobs ran.
        """
        ran = 0
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._stop.is_set():
            claimed = self.claim()
            if claimed is not None:
                self.execute(*claimed)
                ran += 1
                continue
            self.prune()
            if drain and not wait:
                break
            due_in = self._next_due_in()
            if drain and due_in is None:
                break
            pause = self.settings.poll if due_in is None else min(max(due_in, 0.05),
                                                                   self.settings.poll)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    if drain:
                        raise TimeoutError(f"outbox jobs still queued after {timeout} s")
                    break
                pause = min(pause, left)
            self._stop.wait(pause)
        return ran

    def prune(self, *, every: float = PRUNE_EVERY) -> int:
        """Delete old done jobs, at most once per `every` seconds; return how many went."""
        now = time.monotonic()
        if not self.settings.keep_done or (
                self._pruned_at is not None and now - self._pruned_at < every):
            return 0
        self._pruned_at = now
        before = utcnow() - timedelta(days=self.settings.keep_done)
        pruned = 0
        with self.sessions() as session:
            # In batches, each its own short transaction, so claims never wait behind a purge.
            while batch := prune_done(session=session, before=before):
                session.commit()
                pruned += batch
            session.commit()
        if pruned:
            log.info("pruned %s done job%s older than %s days", pruned, "s" * (pruned != 1),
                     self.settings.keep_done)
        return pruned

    def claim(self) -> tuple[Job, str] | None:
        """Lease the next due job; None when nothing is due."""
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        with self.sessions() as session:
            while True:
                now = utcnow()
                row = session.scalars(_CLAIM, {"now": now}).first()
                if row is None:
                    session.commit()
                    return None
                if row.attempts >= self.settings.max_attempts:
                    # Claimed this often without finishing: each run was cut off (the worker
                    # died). Stop here rather than kill workers forever.
                    row.state = JobState.DEAD
                    row.last_error = (f"gave up after {row.attempts} attempts; last: "
                                      f"{row.last_error or 'the worker stopped while running it'}")
                    row.leased_until = row.leased_by = None
                    session.flush()
                    log.error("job %s (%s) dead: %s", row.id, row.kind, row.last_error)
                    continue
                row.attempts += 1
                row.leased_until = now + timedelta(seconds=self.settings.lease)
                row.leased_by = token
                job = Job(id=row.id, kind=row.kind, key=row.key, payload=dict(row.payload or {}),
                          incident_id=row.incident_id, attempts=row.attempts)
                session.commit()
                return job, token

    def execute(self, job: Job, token: str) -> Outcome:
        """Run the job's handler under a renewed lease and record how it went."""
        beating = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(job.id, token, beating),
                                     name=f"outbox-lease-{job.id}", daemon=True)
        heartbeat.start()
        try:
            outcome = self._outcome(job)
        finally:
            beating.set()
            heartbeat.join()
        self._finish(job, token, outcome)
        return outcome

    # -- pieces ------------------------------------------------------------------------------
    def _outcome(self, job: Job) -> Outcome:
        known = self.handlers.get(job.kind) or handler_for(job.kind)
        try:
            if known is None:
                # Perhaps a newer release queued it during a rolling deploy: wait for a worker
                # that knows the kind rather than drop it.
                raise Retry(f"no handler for job kind {job.kind!r} in this worker", after=60)
            known.run(job)
        except Retry as exc:
            delay = exc.after if exc.after is not None else self._backoff(job.attempts)
            return self._retry(job, exc.reason, delay)
        except Dead as exc:
            return Outcome(JobState.DEAD, exc.reason)
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            return self._retry(job, f"{type(exc).__name__}: {exc}", self._backoff(job.attempts))
        return Outcome(JobState.DONE)

    def _retry(self, job: Job, reason: str, delay: float) -> Outcome:
        if job.attempts >= self.settings.max_attempts:
            return Outcome(JobState.DEAD, f"gave up after {job.attempts} attempts; last: {reason}")
        return Outcome(JobState.QUEUED, reason, max(0.0, delay))

    def _backoff(self, attempts: int) -> float:
        """Exponential, capped, with jitter so a vendor's recovery is not met by a stampede."""
        delay = min(self.settings.max_backoff, self.settings.backoff * 2 ** max(0, attempts - 1))
        return delay * random.uniform(0.5, 1.0)

    def _finish(self, job: Job, token: str, outcome: Outcome) -> None:
        now = utcnow()
        values: dict = {"state": outcome.state, "leased_until": None, "leased_by": None,
                        "last_error": outcome.error[:2000] if outcome.error else None}
        if outcome.state == JobState.DONE:
            values["done_at"] = now
        elif outcome.state == JobState.QUEUED:
            values["available_at"] = now + timedelta(seconds=outcome.delay)
        with self.sessions() as session:
            finished = session.execute(
                update(OutboxJob).where(OutboxJob.id == job.id, OutboxJob.leased_by == token)
                .values(**values)).rowcount
            session.commit()
        if not finished:
            log.warning("job %s (%s): lease lost before it finished; another worker owns it",
                        job.id, job.kind)
        elif outcome.state == JobState.DONE:
            log.info("job %s (%s) done", job.id, job.kind)
        elif outcome.state == JobState.QUEUED:
            log.warning("job %s (%s) retries in %.1f s: %s", job.id, job.kind, outcome.delay,
                        outcome.error)
        else:
            log.error("job %s (%s) dead: %s", job.id, job.kind, outcome.error)

    def _heartbeat(self, job_id: int, token: str, done: threading.Event) -> None:
        while not done.wait(self.settings.lease / 3):
            try:
                with self.sessions() as session:
                    session.execute(
                        update(OutboxJob)
                        .where(OutboxJob.id == job_id, OutboxJob.leased_by == token)
                        .values(leased_until=utcnow() + timedelta(seconds=self.settings.lease)))
                    session.commit()
            except Exception:  # the next beat tries again; the lease has slack for one miss
                log.warning("could not renew the lease of job %s", job_id, exc_info=True)

    def _next_due_in(self) -> float | None:
        """Seconds until a queued job may be claimed; None when nothing is queued."""
        due = case((OutboxJob.leased_until > OutboxJob.available_at, OutboxJob.leased_until),
                   else_=OutboxJob.available_at)
        with self.sessions() as session:
            earliest = session.scalar(select(func.min(type_coerce(due, UTCDateTime)))
                                      .where(OutboxJob.state == JobState.QUEUED))
            session.commit()
        return None if earliest is None else (earliest - utcnow()).total_seconds()
