"""Changes flowing in: GitHub and GitLab events in their documented shapes and `/hooks/changes`,
joined into one change per commit, exactly once under duplicates and concurrency, with deploy
entries on the timelines of open incidents of the service."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier

import pytest
import requests
from sqlalchemy import func, select

from incidents.change.models import Change, ChangeApproval
from incidents.inbox.models import Delivery
from incidents.incident import service as incidents
from incidents.timeline.models import TimelineEvent
from tests.change_payloads import (
    REPO,
    github_deployment_status,
    github_pull_request,
    github_push,
    github_review,
    gitlab_deployment,
    gitlab_merge_request,
    gitlab_push,
    sha,
)
from tests.conftest import GITHUB_SECRET, GITLAB_TOKEN
from tests.helpers import github_delivery, gitlab_delivery

MERGED = sha(f"{REPO}#2")
CLAUDE = "Co-Authored-By: Claude <noreply@anthropic.com>"


def gh(client, event, body, delivery=None):
    return client.post("/hooks/github", **github_delivery(event, body, secret=GITHUB_SECRET,
                                                          delivery=delivery))


def gl(client, event, body, key=None):
    return client.post("/hooks/gitlab", **gitlab_delivery(event, body, token=GITLAB_TOKEN,
                                                          idempotency_key=key))


def all_changes(session) -> list[Change]:
    session.expire_all()
    return list(session.scalars(select(Change).order_by(Change.id)))


def deploy_events(session, incident_id) -> list[TimelineEvent]:
    session.expire_all()
    return list(session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident_id, TimelineEvent.kind == "deploy")))


@pytest.fixture
def open_incident(session):
    incident = incidents.declare(session=session, title="Checkout 500s", service="checkout",
                                 started_at=datetime(2026, 3, 1, 11, 30, tzinfo=UTC))
    session.commit()
    return incident


@pytest.fixture
def hooks_token(make_token):
    return make_token("hooks")


# --- GitHub -----------------------------------------------------------------------------------

def test_a_merged_pull_request_and_its_deploy_join_into_one_change(client, session,
                                                                   open_incident):
    merged = gh(client, "pull_request", github_pull_request(labels=["payments"]))
    assert merged.status_code == 200 and merged.json["status"] == "applied"
    deployed = gh(client, "deployment_status", github_deployment_status(deployed_sha=MERGED))
    assert deployed.status_code == 200, deployed.json
    assert "1 timeline entry" in deployed.json["message"]
    [change] = all_changes(session)
    assert change.id in merged.json["changes"] and change.id in deployed.json["changes"]
    assert (change.repository, change.revision, change.number) == (REPO, MERGED, 2)
    assert change.title == "Update the payment client" and change.labels == ["payments"]
    assert change.service == "checkout" and change.environment == "production"
    assert change.deployed_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert change.merged_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert change.url == f"https://github.com/{REPO}/pull/2"
    assert change.canary is False  # production with no canary deploy before it
    assert change.approvals is None  # no review event ever: unknown, not zero
    assert change.sources == ["github"]
    [event] = deploy_events(session, open_incident.id)
    assert event.text.startswith(f"Deployed {MERGED[:8]} to production: Update the payment")
    assert event.external_key == f"change:{change.id}" and event.link == change.url


def test_the_deploy_may_arrive_before_the_pull_request(client, session):
    gh(client, "deployment_status", github_deployment_status(deployed_sha=MERGED))
    gh(client, "pull_request", github_pull_request())
    [change] = all_changes(session)
    assert change.title == "Update the payment client" and change.deployed_at is not None


def test_a_redelivery_is_a_duplicate_and_a_resent_event_lands_once(client, session,
                                                                   open_incident):
    delivery = str(uuid.uuid4())
    body = github_deployment_status(deployed_sha=MERGED)
    assert gh(client, "deployment_status", body, delivery).json["status"] == "applied"
    again = gh(client, "deployment_status", body, delivery)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    # The same facts under a new delivery id (a second status for the same deploy).
    assert gh(client, "deployment_status", body).json["status"] == "applied"
    assert len(all_changes(session)) == 1
    assert len(deploy_events(session, open_incident.id)) == 1


@pytest.mark.parametrize("event, body, why", [
    ("pull_request", github_pull_request(merged_at=None, action="closed"), "merged"),
    ("pull_request", github_pull_request(merged_at=None, action="opened"), "merged"),
    ("deployment_status", github_deployment_status(deployed_sha=MERGED, state="failure"),
     "merged or deployed"),
    ("deployment_status", github_deployment_status(deployed_sha=MERGED, environment="staging"),
     "staging"),
    ("push", github_push(after=MERGED, messages=["wip"], ref="refs/heads/feature"),
     "merged"),
    ("pull_request_review", github_review(state="commented"), "merged"),
])
def test_events_that_are_no_change_are_recorded_and_answered_202(client, session, event, body,
                                                                  why):
    response = gh(client, event, body)
    assert response.status_code == 202 and response.json["status"] == "ignored"
    assert why in response.json["message"]
    assert all_changes(session) == []
    assert session.scalar(select(func.count()).select_from(Delivery)) == 1


@pytest.mark.parametrize("event, body, field", [
    ("pull_request", {**github_pull_request(), "pull_request": "nope"}, "pull_request"),
    ("pull_request", github_pull_request(merge_commit_sha="not-a-sha"),
     "pull_request.merge_commit_sha"),
    ("deployment_status", {**github_deployment_status(deployed_sha="abc")}, "deployment.sha"),
    ("deployment_status", {k: v for k, v in github_deployment_status(
        deployed_sha=MERGED).items() if k != "repository"}, "repository"),
    ("pull_request_review", {**github_review(), "review": {"state": "approved"}},
     "review.user"),
])
def test_a_body_not_in_githubs_shape_is_400_and_writes_nothing(client, session, event, body,
                                                               field):
    response = gh(client, event, body)
    assert response.status_code == 400 and response.json["field"] == field
    assert all_changes(session) == []
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_approvals_come_from_review_events_before_the_merge(client, session):
    gh(client, "pull_request_review", github_review(reviewer="octocat"))
    gh(client, "pull_request_review", github_review(reviewer="hubot"))
    gh(client, "pull_request_review", github_review(reviewer="hubot", state="changes_requested",
                                                    submitted_at="2026-03-01T09:30:00Z"))
    # An approval after the merge did not review what was merged.
    gh(client, "pull_request_review", github_review(reviewer="late",
                                                    submitted_at="2026-03-01T12:00:00Z"))
    gh(client, "pull_request", github_pull_request())
    [change] = all_changes(session)
    assert change.approvals == 1
    # A dismissal reaches a merged change too; an older review redelivered changes nothing.
    gh(client, "pull_request_review", github_review(reviewer="octocat", action="dismissed",
                                                    state="dismissed",
                                                    submitted_at="2026-03-01T09:45:00Z"))
    gh(client, "pull_request_review", github_review(reviewer="octocat",
                                                    submitted_at="2026-03-01T08:00:00Z"))
    assert all_changes(session)[0].approvals == 0
    assert session.scalar(select(func.count()).select_from(ChangeApproval)) == 3


def test_a_push_to_the_default_branch_brings_the_trailers(client, session):
    gh(client, "pull_request", github_pull_request(labels=["payments"]))
    pushed = gh(client, "push", github_push(after=MERGED, messages=[
        "Retry on timeout", f"Update the payment client (#2)\n\n* Retry on timeout\n\n{CLAUDE}"]))
    assert pushed.status_code == 200
    [change] = all_changes(session)
    assert CLAUDE in change.trailers
    assert change.origin == "ai_assisted" and "Claude Code" in change.origin_reason
    assert change.title == "Update the payment client"  # the PR's title, not the subject


def test_a_deployment_payload_can_name_the_service(client, session, open_incident):
    gh(client, "deployment_status", github_deployment_status(
        deployed_sha=MERGED, environment="prod-eu", production_environment=True,
        payload={"service": "checkout"}, repo="acme/shop"))
    [change] = all_changes(session)
    assert (change.repository, change.service, change.environment) == (
        "acme/shop", "checkout", "prod-eu")
    assert len(deploy_events(session, open_incident.id)) == 1


def test_a_canary_deploy_before_production_marks_the_change(client, session):
    gh(client, "deployment_status", github_deployment_status(
        deployed_sha=MERGED, environment="canary", created_at="2026-03-01T10:40:00Z"))
    assert all_changes(session)[0].deployed_at is None
    gh(client, "deployment_status", github_deployment_status(deployed_sha=MERGED))
    [change] = all_changes(session)
    assert change.canary is True and change.deployed_at.hour == 11


def test_a_deploy_ships_the_changes_merged_before_it(client, session, open_incident):
    for number, merged_at in ((3, "2026-03-01T08:00:00Z"), (4, "2026-03-01T09:00:00Z"),
                              (5, "2026-03-01T10:30:00Z")):
        gh(client, "pull_request", github_pull_request(number=number, merged_at=merged_at))
    gh(client, "pull_request", github_pull_request(number=2))  # merged 10:00, then deployed
    gh(client, "deployment_status", github_deployment_status(deployed_sha=MERGED))
    by_number = {c.number: c for c in all_changes(session)}
    assert {n for n, c in by_number.items() if c.deployed_at} == {2, 3, 4}
    assert by_number[3].service == "checkout" and by_number[5].deployed_at is None
    assert len(deploy_events(session, open_incident.id)) == 3


def test_a_deploy_long_before_an_open_incident_stays_off_its_timeline(client, session,
                                                                       open_incident):
    gh(client, "deployment_status", github_deployment_status(
        deployed_sha=MERGED, created_at="2026-02-01T10:00:00Z"))
    assert len(all_changes(session)) == 1
    assert deploy_events(session, open_incident.id) == []


def test_no_deploy_entry_on_resolved_incidents_or_other_services(client, session):
    other = incidents.declare(session=session, title="Search down", service="search",
                              started_at=datetime(2026, 3, 1, 11, 30, tzinfo=UTC))
    done = incidents.declare(session=session, title="Earlier", service="checkout",
                             started_at=datetime(2026, 3, 1, 11, 0, tzinfo=UTC))
    incidents.resolve(session=session, incident=done)
    session.commit()
    gh(client, "deployment_status", github_deployment_status(deployed_sha=MERGED))
    assert deploy_events(session, other.id) == [] and deploy_events(session, done.id) == []


def _post_all(url: str, requests_: list[tuple[dict, bytes]]) -> list:
    barrier = Barrier(len(requests_))

    def post(item):
        headers, raw = item
        with requests.Session() as http:
            barrier.wait(timeout=30)
            return http.post(url, data=raw, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=len(requests_)) as pool:
        return list(pool.map(post, requests_))


def _github_request(event: str, body: dict, delivery: str | None = None):
    kwargs = github_delivery(event, body, secret=GITHUB_SECRET, delivery=delivery)
    return {**kwargs["headers"], "Content-Type": kwargs["content_type"]}, kwargs["data"]


def test_concurrent_pull_request_push_and_deploys_make_one_change(live_server, session,
                                                                  open_incident):
    """Different deliveries about one commit at once, each sent four times (two of them under
    one delivery id): one change, one deploy entry, every fact joined."""
    same_id = str(uuid.uuid4())
    items = []
    for _ in range(4):
        items.append(_github_request("pull_request", github_pull_request(labels=["payments"])))
        items.append(_github_request("push", github_push(after=MERGED, messages=[
            f"Update (#2)\n\n{CLAUDE}"])))
        items.append(_github_request("deployment_status",
                                     github_deployment_status(deployed_sha=MERGED), same_id))
        items.append(_github_request("deployment_status",
                                     github_deployment_status(deployed_sha=MERGED)))
    responses = _post_all(f"{live_server}/hooks/github", items)
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
    assert sum(r.json()["status"] == "duplicate" for r in responses) == 3
    [change] = all_changes(session)
    assert change.labels == ["payments"] and CLAUDE in change.trailers
    assert change.deployed_at is not None and change.origin == "ai_assisted"
    assert len(deploy_events(session, open_incident.id)) == 1


# --- GitLab -----------------------------------------------------------------------------------

GL_SHA = sha("gitlab-merge")


def test_gitlab_merge_request_and_deployment_join(client, session, open_incident):
    merged = gl(client, "Merge Request Hook", gitlab_merge_request(
        merge_commit_sha=GL_SHA, labels=["ai-assisted"],
        message=f"Add retries\n\n{CLAUDE}"))
    assert merged.status_code == 200, merged.json
    deployed = gl(client, "Deployment Hook", gitlab_deployment(deployed_sha=GL_SHA))
    assert deployed.status_code == 200, deployed.json
    [change] = all_changes(session)
    assert (change.repository, change.number, change.service) == ("acme/checkout", 1,
                                                                   "checkout")
    assert change.labels == ["ai-assisted"] and change.origin == "ai_assisted"
    assert change.merged_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert change.deployed_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)  # 13:00 +0200
    assert change.url == "http://example.com/acme/checkout/-/merge_requests/1"
    assert len(deploy_events(session, open_incident.id)) == 1


def test_gitlab_approvals_and_a_squash_merge_without_trailers(client, session):
    approver = {"id": 7, "name": "Kim", "username": "kim", "avatar_url": None,
                "email": "kim@example.com"}
    gl(client, "Merge Request Hook", gitlab_merge_request(
        action="approval", state="opened", user=approver, updated_at="2026-03-01 09:00:00 UTC"))
    gl(client, "Merge Request Hook", gitlab_merge_request(
        merge_commit_sha=GL_SHA, squash=True, message="Add retries"))
    [change] = all_changes(session)
    assert change.approvals == 1 and change.squashed is True
    assert change.origin == "unknown" and "squash merge" in change.origin_reason
    gl(client, "Merge Request Hook", gitlab_merge_request(
        action="unapproval", state="merged", user=approver,
        updated_at="2026-03-01 09:30:00 UTC"))
    assert all_changes(session)[0].approvals == 0


def test_gitlab_push_to_the_default_branch_adds_trailers(client, session):
    gl(client, "Merge Request Hook", gitlab_merge_request(merge_commit_sha=GL_SHA))
    gl(client, "Push Hook", gitlab_push(after=GL_SHA, messages=[
        "Merge branch 'ms-viewport'\n\nCo-authored-by: Cursor <cursoragent@cursor.com>"]))
    [change] = all_changes(session)
    assert change.origin == "ai_assisted" and change.title == "MS-Viewport"


@pytest.mark.parametrize("body", [
    gitlab_merge_request(action="open", state="opened"),
    gitlab_deployment(deployed_sha=GL_SHA, status="running"),
    gitlab_deployment(deployed_sha=GL_SHA, environment="review/x", tier="development"),
    gitlab_push(after=GL_SHA, messages=["x"], ref="refs/heads/feature"),
])
def test_gitlab_events_that_are_no_change_are_202(client, session, body):
    response = gl(client, "Some Hook", body)
    assert response.status_code == 202, response.json
    assert all_changes(session) == []


def test_gitlab_deployment_without_a_commit_url_sha_is_400(client, session):
    body = gitlab_deployment(deployed_sha=GL_SHA)
    body["commit_url"] = "http://example.com/acme/checkout/-/commit/279484c0"
    response = gl(client, "Deployment Hook", body)
    assert response.status_code == 400 and response.json["field"] == "commit_url"
    assert all_changes(session) == []


# --- /hooks/changes ---------------------------------------------------------------------------

GENERIC = {"service": "checkout", "commit": MERGED, "repository": REPO,
           "deployed_at": "2026-03-01T11:00:00Z", "title": "Raise the payment timeout",
           "approvals": 0, "checks_passed": False, "failing_checks": ["integration-tests"],
           "canary": False, "ai_assisted": True, "event_id": "deploy-1"}


def post_change(client, token, body):
    return client.post("/hooks/changes", json=body,
                       headers={"Authorization": f"Bearer {token}"})


def test_generic_change_records_every_fact(client, session, hooks_token, open_incident):
    response = post_change(client, hooks_token, GENERIC)
    assert response.status_code == 200, response.json
    [change] = all_changes(session)
    assert (change.approvals, change.checks_passed, change.failing_checks, change.canary) == (
        0, False, ["integration-tests"], False)
    assert change.origin == "ai_assisted" and change.origin_reason.startswith("declared")
    assert len(deploy_events(session, open_incident.id)) == 1
    again = post_change(client, hooks_token, {**GENERIC, "title": "edited, same event"})
    assert again.json["status"] == "duplicate"


def test_generic_facts_join_the_github_change_of_the_same_commit(client, session, hooks_token):
    gh(client, "pull_request", github_pull_request())
    post_change(client, hooks_token, {"service": "checkout", "repository": REPO,
                                      "commit": MERGED, "checks_passed": False,
                                      "failing_checks": ["contract-tests"]})
    [change] = all_changes(session)
    assert change.sources == ["github", "changes"] and change.checks_passed is False


def test_generic_change_by_version_only(client, session, hooks_token):
    response = post_change(client, hooks_token, {"service": "flags", "version": "2026.03.1",
                                                 "deployed_at": "2026-03-01T11:00:00+01:00"})
    assert response.status_code == 200
    [change] = all_changes(session)
    assert (change.repository, change.revision, change.short) == (
        "flags", "version:2026.03.1", "2026.03.1")
    assert change.origin == "unknown"


@pytest.mark.parametrize("body, field", [
    ({**GENERIC, "colour": "red"}, "colour"),
    ({k: v for k, v in GENERIC.items() if k != "service"}, "service"),
    ({k: v for k, v in GENERIC.items() if k != "commit"}, "commit"),
    ({**GENERIC, "commit": "abc123"}, "commit"),
    ({**GENERIC, "deployed_at": "2026-03-01T11:00:00"}, "deployed_at"),
    ({**GENERIC, "approvals": -1}, "approvals"),
    ({**GENERIC, "checks_passed": True}, "failing_checks"),
    ({**GENERIC, "origin": "human"}, "origin"),
    ({**GENERIC, "origin": "robot"}, "origin"),
    ({**GENERIC, "url": "javascript:alert(1)"}, "url"),
    ({**GENERIC, "labels": ["x" * 201]}, "labels"),
    ([GENERIC], "body"),
])
def test_generic_bad_input_is_400_and_writes_nothing(client, session, hooks_token, body,
                                                     field):
    response = post_change(client, hooks_token, body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert all_changes(session) == []
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_generic_hook_needs_a_hooks_token(client, make_token, session):
    assert client.post("/hooks/changes", json=GENERIC).status_code == 401
    wrong = make_token("api:write")
    assert post_change(client, wrong, GENERIC).status_code == 403
    raw = b"{" + b'"a":' * 10 + b"1"
    right = make_token("hooks")
    response = client.post("/hooks/changes", data=raw, content_type="application/json",
                           headers={"Authorization": f"Bearer {right}"})
    assert response.status_code == 400 and response.json["field"] == "body"
    assert all_changes(session) == []


def test_generic_deploy_to_staging_is_202(client, session, hooks_token):
    response = post_change(client, hooks_token, {**GENERIC, "environment": "staging"})
    assert response.status_code == 202 and "staging" in response.json["message"]
    assert all_changes(session) == []


def test_generic_concurrent_copies_are_one_change(live_server, session, hooks_token,
                                                  open_incident):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {hooks_token}"}
    bodies = [json.dumps({**GENERIC, "event_id": f"e{n % 3}"}).encode() for n in range(12)]
    responses = _post_all(f"{live_server}/hooks/changes", [(headers, b) for b in bodies])
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["status"] for r in responses).count("applied") == 3
    assert len(all_changes(session)) == 1
    assert len(deploy_events(session, open_incident.id)) == 1


def test_the_readme_curl_example_is_accepted(client, session, hooks_token):
    """The `/hooks/changes` example in the README, run as written (minus curl)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("### Changes: the generic JSON shape", 1)[1].split("```sh", 1)[1]
    body = json.loads(re.search(r"-d '(\{.*?\})'", block, re.S).group(1))
    assert "https://linecheck.example.com/hooks/changes" in block
    response = post_change(client, hooks_token, body)
    assert response.status_code == 200, response.json
    [change] = all_changes(session)
    assert change.deployed_at == datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
    assert change.origin == "ai_assisted"


def test_without_canary_environments_no_canary_is_not_inferred(app, client, session):
    app.config["CANARY_ENVIRONMENTS"] = ""
    gh(client, "deployment_status", github_deployment_status(deployed_sha=MERGED))
    assert all_changes(session)[0].canary is None
