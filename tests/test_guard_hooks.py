"""CI hooks: GitHub check_run/workflow_run, GitLab pipeline/job, and POST /hooks/ci — each
vendor's documented payloads (success, failure, cancelled, skipped, re-run), signatures and
tokens, bad input that writes nothing, and every run stored exactly once under duplicate and
concurrent deliveries, on both databases."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import func, select

from incidents.guard.models import GuardRun, GuardRunTest
from incidents.guard.service import spec
from incidents.inbox.models import Delivery
from incidents.prevention import service as prevention
from tests import guard_payloads as payloads
from tests.conftest import GITHUB_SECRET, GITLAB_TOKEN
from tests.helpers import github_delivery, gitlab_delivery

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def runs(session) -> list[tuple]:
    session.rollback()
    return [(r.source, r.kind, r.repository, r.name, r.branch, r.on_default_branch, r.result)
            for r in session.scalars(select(GuardRun).order_by(GuardRun.id))]


def count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def github(client, event, body, **kwargs):
    return client.post("/hooks/github", **github_delivery(event, body, secret=GITHUB_SECRET,
                                                          **kwargs))


def gitlab(client, event, body, **kwargs):
    return client.post("/hooks/gitlab", **gitlab_delivery(event, body, token=GITLAB_TOKEN,
                                                          **kwargs))


# --- GitHub -----------------------------------------------------------------------------------

@pytest.mark.parametrize("conclusion, result", [
    ("success", "passed"), ("failure", "failed"), ("timed_out", "failed"),
    ("cancelled", "cancelled"), ("skipped", "skipped"), ("neutral", "skipped"),
    ("action_required", "cancelled"), ("stale", "cancelled"),
])
def test_github_check_run_conclusions(client, session, conclusion, result):
    body = payloads.check_run(run_id=128620228, name="contract-tests", conclusion=conclusion,
                              at=AT)
    response = github(client, "check_run", body)
    assert response.status_code == 200 and response.json["status"] == "applied"
    assert runs(session) == [("github", "check_run", "acme/checkout", "contract-tests", "main",
                              True, result)]


def test_github_check_run_on_a_pull_request_branch_is_stored_off_the_default(client, session):
    github(client, "check_run", payloads.check_run(
        run_id=1, name="contract-tests", conclusion="failure", at=AT, branch="changes"))
    assert runs(session)[0][4:6] == ("changes", False)


def test_github_workflow_run_and_its_rerun_are_two_runs(client, session):
    first = payloads.workflow_run(run_id=289782451, name="CI", conclusion="failure", at=AT)
    rerun = payloads.workflow_run(run_id=289782451, name="CI", conclusion="success", at=AT,
                                  attempt=2)
    assert github(client, "workflow_run", first).json["guard_runs"] == [1]
    assert github(client, "workflow_run", rerun).json["guard_runs"] == [2]
    assert [r[6] for r in runs(session)] == ["failed", "passed"]
    stored = session.scalars(select(GuardRun)).all()
    assert {r.path for r in stored} == {".github/workflows/ci.yml"}


@pytest.mark.parametrize("event, body", [
    ("check_run", payloads.check_run(run_id=4, name="x", conclusion=None, at=AT,
                                     action="created")),
    ("check_run", payloads.check_run(run_id=4, name="x", conclusion="neutral", at=AT,
                                     action="rerequested")),
    ("workflow_run", payloads.workflow_run(run_id=5, name="CI", conclusion=None, at=AT,
                                           action="requested")),
    ("workflow_run", payloads.workflow_run(run_id=5, name="CI", conclusion=None, at=AT,
                                           action="in_progress")),
])
def test_github_runs_not_yet_completed_are_202_and_store_nothing(client, session, event, body):
    response = github(client, event, body)
    assert response.status_code == 202 and response.json["status"] == "ignored"
    assert runs(session) == []
    assert count(session, Delivery) == 1  # recorded, so a replay is a duplicate


def _broken(path: str, value):
    body = payloads.check_run(run_id=9, name="contract-tests", conclusion="success", at=AT)
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target[name]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize("path, value, field", [
    ("check_run", KeyError, "check_run"),
    ("check_run", [], "check_run"),
    ("check_run.id", "128620228", "check_run.id"),
    ("check_run.id", True, "check_run.id"),
    ("check_run.name", KeyError, "check_run.name"),
    ("check_run.name", "x" * 301, "check_run.name"),
    ("check_run.name", "lint\u0000", "check_run.name"),
    ("check_run.completed_at", "yesterday", "check_run.completed_at"),
    ("check_run.completed_at", "2026-11-20T09:30:00", "check_run.completed_at"),
    ("check_run.conclusion", 7, "check_run.conclusion"),
    ("repository", KeyError, "repository"),
    ("repository.full_name", None, "repository.full_name"),
    ("action", KeyError, "body.action"),
])
def test_github_malformed_run_is_400_and_writes_nothing(client, session, path, value, field):
    response = github(client, "check_run", _broken(path, value))
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert runs(session) == [] and count(session, Delivery) == 0


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc"])
def test_github_run_with_a_bad_or_missing_signature_is_refused(client, session, signature):
    kwargs = github_delivery("check_run", payloads.check_run(
        run_id=1, name="contract-tests", conclusion="success", at=AT), secret=GITHUB_SECRET)
    if signature is None:
        del kwargs["headers"]["X-Hub-Signature-256"]
    else:
        kwargs["headers"]["X-Hub-Signature-256"] = signature
    assert client.post("/hooks/github", **kwargs).status_code == 401
    assert runs(session) == []


def test_github_redelivery_and_a_second_delivery_of_one_run_store_it_once(client, session):
    body = payloads.check_run(run_id=77, name="contract-tests", conclusion="success", at=AT)
    delivery = str(uuid.uuid4())
    assert github(client, "check_run", body, delivery=delivery).json["status"] == "applied"
    assert github(client, "check_run", body, delivery=delivery).json["status"] == "duplicate"
    # The same run reported again under another delivery id: applied, but nothing new.
    again = github(client, "check_run", body)
    assert again.json["status"] == "applied" and again.json["guard_runs"] == []
    assert len(runs(session)) == 1


def test_concurrent_copies_of_one_github_run_store_it_once(live_server, session):
    body = payloads.check_run(run_id=99, name="contract-tests", conclusion="success", at=AT)
    same = github_delivery("check_run", body, secret=GITHUB_SECRET,
                           delivery=str(uuid.uuid4()))

    def send(i):
        # Half the copies are redeliveries (one delivery id), half new deliveries of the run.
        kwargs = same if i % 2 else github_delivery("check_run", body, secret=GITHUB_SECRET)
        headers = dict(kwargs["headers"], **{"Content-Type": "application/json"})
        return requests.post(f"{live_server}/hooks/github", data=kwargs["data"],
                             headers=headers, timeout=30).json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(24)))
    assert sum(len(a.get("guard_runs", [])) for a in answers) == 1
    assert sorted({a["status"] for a in answers}) == ["applied", "duplicate"]
    assert len(runs(session)) == 1


# --- GitLab -----------------------------------------------------------------------------------

@pytest.mark.parametrize("status, result", [
    ("success", "passed"), ("failed", "failed"), ("canceled", "cancelled"),
    ("skipped", "skipped"),
])
def test_gitlab_job_statuses(client, session, status, result):
    body = payloads.gitlab_build(build_id=1977, name="contract-tests", status=status, at=AT)
    assert gitlab(client, "Job Hook", body).status_code == 200
    assert runs(session) == [("gitlab", "job", "acme/checkout", "contract-tests", "main", True,
                              result)]
    stored = session.scalar(select(GuardRun))
    assert stored.url == "https://gitlab.example.com/acme/checkout/-/jobs/1977"
    assert stored.completed_at == AT


@pytest.mark.parametrize("status", ["created", "pending", "running", "manual"])
def test_gitlab_jobs_not_finished_are_202(client, session, status):
    body = payloads.gitlab_build(build_id=1977, name="contract-tests", status=status, at=None)
    response = gitlab(client, "Job Hook", body)
    assert response.status_code == 202 and runs(session) == []


def test_gitlab_pipeline_reports_its_finished_jobs_once_with_their_job_events(client, session):
    body = payloads.gitlab_pipeline(pipeline_id=31, status="failed", at=AT, builds=[
        (377, "test-image", "success"), (378, "contract-tests", "failed"),
        (379, "staging", "created"), (380, "production", "skipped")], name="Checkout CI")
    response = gitlab(client, "Pipeline Hook", body)
    assert response.status_code == 200 and len(response.json["guard_runs"]) == 4
    # The job event of one of those jobs is the same run.
    job = payloads.gitlab_build(build_id=378, name="contract-tests", status="failed", at=AT)
    assert gitlab(client, "Job Hook", job).json["guard_runs"] == []
    assert sorted(r[1:4] + r[6:] for r in runs(session)) == [
        ("job", "acme/checkout", "contract-tests", "failed"),
        ("job", "acme/checkout", "production", "skipped"),
        ("job", "acme/checkout", "test-image", "passed"),
        ("pipeline", "acme/checkout", "Checkout CI", "failed")]


def test_gitlab_retried_pipeline_is_a_new_run(client, session):
    first = payloads.gitlab_pipeline(pipeline_id=31, status="failed", at=AT, builds=[],
                                     name="Checkout CI")
    retried = payloads.gitlab_pipeline(pipeline_id=31, status="success",
                                       at=AT.replace(hour=11), builds=[], name="Checkout CI")
    gitlab(client, "Pipeline Hook", first)
    gitlab(client, "Pipeline Hook", retried)
    assert [r[6] for r in runs(session)] == ["failed", "passed"]


def test_gitlab_tag_pipelines_are_on_no_branch(client, session):
    job = payloads.gitlab_build(build_id=5, name="contract-tests", status="success", at=AT,
                                ref="v1.2.0", tag=True)
    gitlab(client, "Job Hook", job)
    assert runs(session)[0][4:6] == (None, False)


@pytest.mark.parametrize("change, field", [
    ({"project": None}, "project"),
    ({"build_id": "1977"}, "body.build_id"),
    ({"build_name": None}, "body.build_name"),
    ({"build_finished_at": "last tuesday"}, "body.build_finished_at"),
    ({"build_finished_at": None, "build_created_at": None}, "body.build_finished_at"),
    ({"tag": "no"}, "body.tag"),
])
def test_gitlab_malformed_job_is_400_and_writes_nothing(client, session, change, field):
    body = payloads.gitlab_build(build_id=1977, name="contract-tests", status="success", at=AT)
    body.update(change)
    response = gitlab(client, "Job Hook", body)
    assert response.status_code == 400 and response.json["field"] == field
    assert runs(session) == [] and count(session, Delivery) == 0


def test_gitlab_wrong_token_is_refused(client, session):
    body = payloads.gitlab_build(build_id=1, name="x", status="success", at=AT)
    response = client.post("/hooks/gitlab", **gitlab_delivery("Job Hook", body,
                                                              token="not-it"))
    assert response.status_code == 401 and runs(session) == []


def test_gitlab_concurrent_copies_without_an_idempotency_key_store_one_run(live_server,
                                                                          session):
    body = payloads.gitlab_build(build_id=4242, name="contract-tests", status="success", at=AT)
    kwargs = gitlab_delivery("Job Hook", body, token=GITLAB_TOKEN)
    headers = dict(kwargs["headers"], **{"Content-Type": "application/json"})

    def send(_):
        return requests.post(f"{live_server}/hooks/gitlab", data=kwargs["data"],
                             headers=headers, timeout=30).json()["status"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(16)))
    assert statuses.count("applied") == 1 and statuses.count("duplicate") == 15
    assert len(runs(session)) == 1


# --- POST /hooks/ci ---------------------------------------------------------------------------

@pytest.fixture
def ci(client, make_token):
    token = make_token("hooks")

    def post(body, *, raw=None, token=token):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        return client.post("/hooks/ci", data=data, headers=headers)

    return post


def test_ci_run_with_a_test_summary_keeps_only_the_tests_guards_name(ci, session):
    item = prevention.create_item(session=session, title="Cents", kind="detect")
    prevention.update(session=session, item=item, guard=spec(
        provider="generic", repository="acme/checkout", name="unit", test_id="AmountTest.cents"))
    session.commit()
    body = payloads.ci_run(run_id="8812", name="unit", status="failed", at=AT, tests={
        "passed": ["AmountTest.cents"], "failed": ["OtherTest.flaky"],
        "skipped": ["SlowTest.everything"]})
    response = ci(body)
    assert response.status_code == 200, response.json
    assert response.json["prevention_items"] == [item.id]
    stored = session.scalars(select(GuardRunTest)).all()
    assert [(t.test_id, t.result) for t in stored] == [("AmountTest.cents", "passed")]
    assert ci(body).json["status"] == "duplicate"


@pytest.mark.parametrize("change, field", [
    ({"statuz": "passed"}, "statuz"),  # unknown fields are refused, like /hooks/generic
    ({"status": "green"}, "status"),
    ({"completed_at": "2026-11-20T09:30:00"}, "completed_at"),
    ({"run_id": ""}, "run_id"),
    ({"repository": None}, "repository"),
    ({"branch": "b" * 256}, "branch"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"tests": {"passed": "AmountTest.cents"}}, "tests.passed"),
    ({"tests": {"passed": [7]}}, "tests.passed.0"),
    ({"tests": {"ok": []}}, "tests.ok"),
    ({"tests": {"passed": ["x" * 501]}}, "tests.passed.0"),
    ({"name": "unit\u0000"}, "body"),
])
def test_ci_refuses_a_body_not_of_its_shape(ci, session, change, field):
    body = payloads.ci_run(run_id="1", name="unit", status="passed", at=AT)
    body.update(change)
    response = ci(body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert count(session, GuardRun) == 0 and count(session, Delivery) == 0


def test_ci_refuses_a_summary_of_too_many_tests(ci, session):
    body = payloads.ci_run(run_id="1", name="unit", status="passed", at=AT,
                           tests={"passed": [f"T{i}" for i in range(50_001)]})
    response = ci(body)
    assert response.status_code == 400 and response.json["field"] == "tests.tests"


@pytest.mark.parametrize("raw, status", [(b"{nope", 400), (b"[]", 400), (b"", 400)])
def test_ci_bad_json(ci, raw, status):
    assert ci(None, raw=raw).status_code == status


def test_ci_oversized_body_is_413(ci):
    assert ci(None, raw=b'{"run_id": "' + b"x" * (1024 * 1024) + b'"}').status_code == 413


def test_ci_needs_a_hooks_token(ci, make_token, session):
    body = payloads.ci_run(run_id="1", name="unit", status="passed", at=AT)
    assert ci(body, token=None).status_code == 401
    assert ci(body, token="lc_not-a-token").status_code == 401
    assert ci(body, token=make_token("api:write")).status_code == 403
    assert count(session, GuardRun) == 0


def test_ci_concurrent_duplicates_store_one_run(live_server, make_token, session):
    token = make_token("hooks")
    body = json.dumps(payloads.ci_run(run_id="77", name="unit", status="passed", at=AT))

    def send(_):
        return requests.post(f"{live_server}/hooks/ci", data=body, timeout=30, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"}).json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(a["status"] for a in pool.map(send, range(16)))
    assert statuses.count("applied") == 1 and statuses.count("duplicate") == 15
    assert count(session, GuardRun) == 1
