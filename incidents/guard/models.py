"""Guards: what runs to prove a prevention item's poka-yoke is still there, and what ran.

A guard names a check (provider, repository, check/job/workflow name, optional test id, the
branch that counts). CI hooks store every completed run they are told about; a run counts for
a guard when its repository, name and branch match — whether it arrived before or after the
guard was named. Manual guards (an alert, a schema constraint) are confirmed by a person
instead. Health is computed from these rows' explicit timestamps (see `health.py`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from incidents.prevention.models import PreventionItem

# N, the days a guard may go without a passing run (or a manual one without a confirmation)
# before it is stale, unless the owner team sets its own (GuardSettings).
DEFAULT_STALE_AFTER_DAYS = 14
DEFAULT_CONFIRM_EVERY_DAYS = 30
MAX_NAME = 300
MAX_TEST_ID = 500
MAX_BRANCH = 255


class Provider(StrEnum):
    GITHUB = "github"  # GitHub Actions workflows and jobs, or any app's check runs
    GITLAB = "gitlab"  # GitLab CI jobs and named pipelines
    GENERIC = "generic"  # any CI posting to /hooks/ci
    MANUAL = "manual"  # an alert, a constraint: a person confirms it periodically


class Health(StrEnum):
    ALIVE = "alive"  # its last run on the branch passed, within N days
    FAILING = "failing"  # its last run on the branch failed
    STALE = "stale"  # no run in N days: deleted, renamed, disabled or always skipped
    TEST_MISSING = "test_missing"  # the job ran, the named test did not
    UNVERIFIED = "unverified"  # never seen


# The states a done item is flagged for, and its owner team told about.
BROKEN = frozenset({Health.FAILING, Health.STALE, Health.TEST_MISSING})


class RunResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    # Did not run to a verdict: neither proves nor breaks a guard (a guard whose check is
    # always cancelled or skipped goes stale).
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


VERDICTS = (RunResult.PASSED, RunResult.FAILED)


class TestResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Guard(Base):
    """The check that fails if the item's defect comes back; one per prevention item."""

    __tablename__ = "guards"

    id: Mapped[int] = mapped_column(primary_key=True)
    prevention_item_id: Mapped[int] = mapped_column(
        ForeignKey("prevention_items.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[Provider] = mapped_column(String(20))
    repository: Mapped[str | None] = mapped_column(String(MAX_NAME))  # lower case
    name: Mapped[str | None] = mapped_column(String(MAX_NAME))
    test_id: Mapped[str | None] = mapped_column(String(MAX_TEST_ID))
    branch: Mapped[str | None] = mapped_column(String(MAX_BRANCH))  # None: the default branch
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The broken health the owner team was last told about, and how many times it was told:
    # a conditional UPDATE on these makes each transition announce once (see notices.py).
    announced_health: Mapped[str | None] = mapped_column(String(20))
    announcements: Mapped[int] = mapped_column(Integer, default=0)

    item: Mapped[PreventionItem] = relationship(back_populates="guard")

    @property
    def automatic(self) -> bool:
        return self.provider != Provider.MANUAL

    def describe(self) -> str:
        """One line naming what runs, for pages, history and Slack."""
        if not self.automatic:
            return self.name or self.url or "manual guard"
        where = f"{self.repository} · {self.name}"
        if self.test_id:
            where += f" · test {self.test_id}"
        return f"{where} on {self.branch or 'the default branch'}"


class GuardRun(Base):
    """One completed CI run of a check, job, workflow or pipeline, as its sender reported it."""

    __tablename__ = "guard_runs"
    __table_args__ = (
        UniqueConstraint("source", "repository", "run_key"),
        Index("ix_guard_runs_match", "repository", "name", "completed_at"),
        Index("ix_guard_runs_path", "repository", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # github | gitlab | generic
    kind: Mapped[str] = mapped_column(String(20))  # check_run | workflow_run | job | pipeline | run
    # The sender's identity of this run (and attempt), so a run reported twice lands once.
    run_key: Mapped[str] = mapped_column(String(255))
    repository: Mapped[str] = mapped_column(String(MAX_NAME))  # lower case
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    path: Mapped[str | None] = mapped_column(String(MAX_NAME))  # a workflow's file
    branch: Mapped[str | None] = mapped_column(String(MAX_BRANCH))
    on_default_branch: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[RunResult] = mapped_column(String(20))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str | None] = mapped_column(String(2000))
    external_id: Mapped[str | None] = mapped_column(String(64))  # the vendor's run/job id
    has_tests: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuardRunTest(Base):
    """A named test's result in a run that reported tests (kept only for tests guards name)."""

    __tablename__ = "guard_run_tests"

    run_id: Mapped[int] = mapped_column(ForeignKey("guard_runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    test_id: Mapped[str] = mapped_column(String(MAX_TEST_ID), primary_key=True)
    result: Mapped[TestResult] = mapped_column(String(10))


class GuardConfirmation(Base):
    """A person saying a manual guard is (or is no longer) in place."""

    __tablename__ = "guard_confirmations"
    __table_args__ = (Index("ix_guard_confirmations_guard", "guard_id", "confirmed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guard_id: Mapped[int] = mapped_column(ForeignKey("guards.id", ondelete="CASCADE"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    in_place: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(200), default="")


class GuardSettings(Base):
    """An owner team's own N: days without a passing run (or a confirmation) before stale."""

    __tablename__ = "guard_settings"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"),
                                         primary_key=True)
    stale_after_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_STALE_AFTER_DAYS)
    confirm_every_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_CONFIRM_EVERY_DAYS)
