"""`POST /hooks/ci`: any CI, in Linecheck's own JSON shape (documented in the README).

One completed run per post. Unknown fields are refused, like `/hooks/generic`, so a misspelt
field never goes unnoticed. The run's identity is (repository, name, run_id): a retry of the
same post is a duplicate, so a CI that re-runs a job must send a new run_id (add the attempt).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from incidents.guard.models import (
    MAX_BRANCH,
    MAX_NAME,
    MAX_TEST_ID,
    RunResult,
    TestResult,
)
from incidents.guard.runs import RunReport
from incidents.hooks.events import BadPayload, in_utc

SOURCE = "generic"
MAX_TESTS = 50_000
_STATUSES = [r.value for r in RunResult]


def _ids(description: str) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=MAX_TEST_ID)),
        load_default=list, metadata={"description": description})


class TestSummary(ma.Schema):
    """Which test ids ran, and how each ended (JUnit `classname.name`, or your runner's ids)."""

    passed = _ids("Test ids that passed")
    failed = _ids("Test ids that failed (a test listed here and elsewhere failed)")
    skipped = _ids("Test ids that were skipped (a guard naming one is *test missing*)")
    ran = _ids("Test ids that ran, without a result of their own: they take the run's status")

    @ma.validates_schema
    def _bounded(self, data, **_kwargs):
        if sum(len(ids) for ids in data.values()) > MAX_TESTS:
            raise ma.ValidationError(f"at most {MAX_TESTS} test ids in one summary", "tests")


class CiRun(ma.Schema):
    """One completed CI run of a check or job."""

    run_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200),
                              metadata={"description": "Your CI's id for this run (and "
                                                       "attempt): a repeat is a duplicate"})
    repository = ma.fields.String(required=True,
                                  validate=ma.validate.Length(min=1, max=MAX_NAME),
                                  metadata={"description": "owner/name, as guards name it "
                                                           "(compared without case)"})
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_NAME),
                            metadata={"description": "The check or job name"})
    branch = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_BRANCH))
    default_branch = ma.fields.String(
        validate=ma.validate.Length(min=1, max=MAX_BRANCH),
        metadata={"description": "The repository's default branch; without it only guards "
                                 "that name their branch count this run"})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(_STATUSES),
                              metadata={"description": " | ".join(_STATUSES)})
    completed_at = ma.fields.AwareDateTime(required=True,
                                           metadata={"description": "ISO 8601 with a zone"})
    url = ma.fields.Url(schemes={"http", "https"}, validate=ma.validate.Length(max=2000))
    tests = ma.fields.Nested(TestSummary)

    @ma.validates_schema
    def _no_nul(self, data, **_kwargs):
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail at the INSERT.
        tests = data.get("tests") or {}
        values = [v for v in data.values() if isinstance(v, str)]
        values += [test_id for ids in tests.values() for test_id in ids]
        if any("\x00" in value for value in values):
            raise ma.ValidationError("text must not contain NUL characters", "body")


SCHEMA = CiRun


def _load(body: Any) -> dict:
    if not isinstance(body, dict):
        raise BadPayload("body must be a JSON object", field="body")
    try:
        return CiRun().load(body)
    except ma.ValidationError as exc:
        fields = exc.normalized_messages()
        first = sorted(fields)[0]
        detail = fields[first]
        while isinstance(detail, dict):  # a nested field: name the innermost message
            inner = sorted(detail)[0]
            first, detail = f"{first}.{inner}", detail[inner]
        detail = detail[0] if isinstance(detail, list) else detail
        raise BadPayload(f"invalid field(s): {', '.join(sorted(fields))} ({first}: {detail})",
                         field=first, fields=fields) from None


def delivery_key(data: dict) -> str:
    return f"ci:{data['repository'].lower()}:{data['name']}:{data['run_id']}"


def _tests(summary: dict, status: RunResult) -> dict[str, TestResult]:
    ran_as = {RunResult.PASSED: TestResult.PASSED,
              RunResult.FAILED: TestResult.FAILED}.get(status, TestResult.SKIPPED)
    results: dict[str, TestResult] = {}
    # Later lists win: a test reported failed anywhere is failed.
    for ids, result in ((summary["skipped"], TestResult.SKIPPED), (summary["ran"], ran_as),
                        (summary["passed"], TestResult.PASSED),
                        (summary["failed"], TestResult.FAILED)):
        for test_id in ids:
            results[test_id] = result
    return results


def parse(body: Any) -> tuple[str, list[RunReport]]:
    """The delivery key and the run a post reports."""
    data = _load(body)
    status = RunResult(data["status"])
    report = RunReport(
        source=SOURCE, kind="run", run_key=f"run:{data['name']}:{data['run_id']}",
        repository=data["repository"].strip().lower(), name=data["name"].strip(), result=status,
        completed_at=in_utc(data["completed_at"], "completed_at"), branch=data["branch"],
        default_branch=data.get("default_branch"), url=data.get("url"),
        external_id=data["run_id"][:64],
        tests=_tests(data["tests"], status) if "tests" in data else None)
    return delivery_key(data), [report]
