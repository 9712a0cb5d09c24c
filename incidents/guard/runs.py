"""Storing CI runs: every provider's events become `RunReport`s, stored once each.

A run is recorded under its sender's identity (`run_key`: the check run, the workflow run
and its attempt, the job, the pipeline and its finish); a unique constraint on (source,
repository, run_key) keeps a run reported twice — in two deliveries, or by a job event and
its pipeline's event — to one row, however the deliveries race.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from incidents.db import utcnow
from incidents.guard.models import Guard, GuardRun, GuardRunTest, RunResult, TestResult
from incidents.once import insert_once


@dataclass(frozen=True)
class RunReport:
    """One completed run, in the product's words, whoever reported it."""

    source: str  # github | gitlab | generic
    kind: str  # check_run | workflow_run | job | pipeline | run
    run_key: str
    repository: str
    name: str
    result: RunResult
    completed_at: datetime
    branch: str | None
    default_branch: str | None
    path: str | None = None
    url: str | None = None
    external_id: str | None = None
    tests: dict[str, TestResult] | None = None  # None: the run reported no tests

    @property
    def on_default_branch(self) -> bool:
        return self.branch is not None and self.branch == self.default_branch


@dataclass
class Recorded:
    run_ids: list[int] = field(default_factory=list)  # runs stored now (not seen before)
    item_ids: list[int] = field(default_factory=list)  # items whose guard names these checks


def _named_tests(session: Session, run: RunReport) -> set[str]:
    """The test ids guards name for this run's check: the only results worth keeping."""
    names = [run.name] + ([run.path] if run.path else [])
    return set(session.scalars(
        select(Guard.test_id).where(Guard.repository == run.repository,
                                    Guard.name.in_(names), Guard.test_id.is_not(None))))


def record(*, session: Session, runs: list[RunReport]) -> Recorded:
    """Store each run once; say which were new and which items' guards they concern."""
    recorded = Recorded()
    for run in runs:
        run_id = session.scalar(
            insert_once(session, GuardRun, "source", "repository", "run_key",
                        returning=GuardRun.id),
            {"source": run.source, "kind": run.kind, "run_key": run.run_key,
             "repository": run.repository, "name": run.name, "path": run.path,
             "branch": run.branch, "on_default_branch": run.on_default_branch,
             "result": run.result.value, "completed_at": run.completed_at, "url": run.url,
             "external_id": run.external_id, "has_tests": run.tests is not None,
             "received_at": utcnow()})
        if run_id is None:
            continue
        recorded.run_ids.append(run_id)
        if run.tests:
            kept = [{"run_id": run_id, "test_id": test_id, "result": run.tests[test_id].value}
                    for test_id in sorted(_named_tests(session, run) & run.tests.keys())]
            if kept:
                session.execute(insert(GuardRunTest), kept)
    if recorded.run_ids:
        stored = select(GuardRun.repository, GuardRun.name, GuardRun.path).where(
            GuardRun.id.in_(recorded.run_ids)).subquery()
        recorded.item_ids = sorted(session.scalars(
            select(Guard.prevention_item_id).join(
                stored, (stored.c.repository == Guard.repository)
                & or_(stored.c.name == Guard.name, stored.c.path == Guard.name))
            .distinct()))
    return recorded
