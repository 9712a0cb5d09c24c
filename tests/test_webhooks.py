"""The signed code-host hooks (`/hooks/github`, `/hooks/gitlab`): authentication, bad input,
events Linecheck does not use, and exactly-once recording of every delivery."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from incidents.inbox.models import Delivery
from tests.conftest import GITHUB_SECRET, GITLAB_TOKEN
from tests.helpers import github_delivery, gitlab_delivery

# Shapes from GitHub's "Webhook events and payloads" page (ping, star) and GitLab's
# "Webhook events" page (push); trimmed to the fields the docs list as always present.
REPOSITORY = {"id": 1296269, "name": "checkout", "full_name": "acme/checkout",
              "html_url": "https://github.com/acme/checkout", "default_branch": "main"}
SENDER = {"login": "octocat", "id": 1, "type": "User"}
PING = {"zen": "Keep it logically awesome.", "hook_id": 30,
        "hook": {"type": "Repository", "id": 30, "name": "web", "active": True,
                 "events": ["issues", "check_run"], "config": {"content_type": "json",
                                                               "url": "https://x/hooks/github"}},
        "repository": REPOSITORY, "sender": SENDER}
STAR = {"action": "created", "starred_at": "2026-11-20T10:00:00Z", "repository": REPOSITORY,
        "sender": SENDER}
GITLAB_PUSH = {"object_kind": "push", "event_name": "push", "before": "95790bf8",
               "after": "da1560886", "ref": "refs/heads/main", "user_username": "jsmith",
               "project_id": 15, "project": {"id": 15, "name": "checkout",
                                             "path_with_namespace": "acme/checkout"},
               "commits": [], "total_commits_count": 0}


def deliveries(session, sender):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Delivery)
                          .where(Delivery.sender == sender))


# --- GitHub -----------------------------------------------------------------------------------

def test_github_ping_answers_pong(client):
    response = client.post("/hooks/github", **github_delivery("ping", PING, secret=GITHUB_SECRET))
    assert response.status_code == 200
    assert response.json["status"] == "pong"


def test_github_event_not_used_is_recorded_and_answered_202(client, session):
    delivery = str(uuid.uuid4())
    first = client.post("/hooks/github", **github_delivery("star", STAR, secret=GITHUB_SECRET,
                                                           delivery=delivery))
    assert first.status_code == 202 and first.json["status"] == "ignored"
    assert "star" in first.json["message"]
    again = client.post("/hooks/github", **github_delivery("star", STAR, secret=GITHUB_SECRET,
                                                           delivery=delivery))
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert deliveries(session, "github") == 1


@pytest.mark.parametrize("headers, reason", [
    ({"X-Hub-Signature-256": None}, "missing X-Hub-Signature-256"),
    ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, "does not match"),
    ({"X-Hub-Signature-256": "sha1=abc"}, "does not match"),
    ({"X-Hub-Signature-256": "sha256=ünïcödé"}, "does not match"),
])
def test_github_refuses_a_missing_or_wrong_signature(client, session, headers, reason):
    kwargs = github_delivery("star", STAR, secret=GITHUB_SECRET)
    kwargs["headers"].update(headers)
    kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if v is not None}
    response = client.post("/hooks/github", **kwargs)
    assert response.status_code == 401
    assert reason in response.json["error"]
    assert deliveries(session, "github") == 0


def test_github_signed_with_another_secret_is_refused(client, session):
    response = client.post("/hooks/github", **github_delivery("star", STAR, secret="not-ours"))
    assert response.status_code == 401


def test_github_accepts_either_secret_during_rotation(app, client):
    app.config["GITHUB_WEBHOOK_SECRET"] = f"old-secret, {GITHUB_SECRET}"
    for secret in ("old-secret", GITHUB_SECRET):
        response = client.post("/hooks/github", **github_delivery("star", STAR, secret=secret))
        assert response.status_code == 202, secret


def test_github_without_a_configured_secret_refuses_everything(app, client):
    app.config["GITHUB_WEBHOOK_SECRET"] = ""
    response = client.post("/hooks/github", **github_delivery("ping", PING, secret=""))
    assert response.status_code == 401
    assert "GITHUB_WEBHOOK_SECRET" in response.json["error"]


@pytest.mark.parametrize("raw, field", [
    (b"{not json", "body"),
    (b"", "body"),
    (b"\xff\xfe", "body"),
    (b"[1, 2]", "body"),
])
def test_github_bad_body_is_400_and_writes_nothing(client, session, raw, field):
    response = client.post("/hooks/github", **github_delivery("star", raw, secret=GITHUB_SECRET))
    assert response.status_code == 400
    assert response.json["field"] == field
    assert deliveries(session, "github") == 0


def test_github_missing_event_header_is_400(client):
    kwargs = github_delivery("star", STAR, secret=GITHUB_SECRET)
    del kwargs["headers"]["X-GitHub-Event"]
    response = client.post("/hooks/github", **kwargs)
    assert response.status_code == 400
    assert "X-GitHub-Event" in response.json["error"]


def test_github_oversized_body_is_413(client):
    body = {"padding": "x" * (1024 * 1024)}
    response = client.post("/hooks/github", **github_delivery("star", body, secret=GITHUB_SECRET))
    assert response.status_code == 413


def test_github_concurrent_copies_of_one_delivery_are_recorded_once(live_server, session):
    delivery = str(uuid.uuid4())
    kwargs = github_delivery("star", STAR, secret=GITHUB_SECRET, delivery=delivery)
    headers = dict(kwargs["headers"], **{"Content-Type": kwargs["content_type"]})

    def send(_):
        return requests.post(f"{live_server}/hooks/github", data=kwargs["data"],
                             headers=headers, timeout=30).json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(24)))
    statuses = sorted(answer["status"] for answer in answers)
    assert statuses.count("ignored") == 1
    assert statuses.count("duplicate") == 23
    assert deliveries(session, "github") == 1


# --- GitLab -----------------------------------------------------------------------------------

def test_gitlab_event_not_used_is_202_and_a_retry_is_a_duplicate(client, session):
    key = str(uuid.uuid4())
    first = client.post("/hooks/gitlab", **gitlab_delivery("Push Hook", GITLAB_PUSH,
                                                           token=GITLAB_TOKEN,
                                                           idempotency_key=key))
    assert first.status_code == 202 and first.json["status"] == "ignored"
    again = client.post("/hooks/gitlab", **gitlab_delivery("Push Hook", GITLAB_PUSH,
                                                           token=GITLAB_TOKEN,
                                                           idempotency_key=key))
    assert again.json["status"] == "duplicate"
    assert deliveries(session, "gitlab") == 1


def test_gitlab_without_idempotency_key_deduplicates_by_body(client, session):
    for _ in range(2):
        client.post("/hooks/gitlab", **gitlab_delivery("Push Hook", GITLAB_PUSH,
                                                       token=GITLAB_TOKEN))
    changed = dict(GITLAB_PUSH, after="ffff")
    client.post("/hooks/gitlab", **gitlab_delivery("Push Hook", changed, token=GITLAB_TOKEN))
    assert deliveries(session, "gitlab") == 2


@pytest.mark.parametrize("token", [None, "wrong-token", "gitlab-test-token-but-longer", "ü"])
def test_gitlab_refuses_a_missing_or_wrong_token(client, session, token):
    kwargs = gitlab_delivery("Push Hook", GITLAB_PUSH, token=token or "")
    if token is None:
        del kwargs["headers"]["X-Gitlab-Token"]
    response = client.post("/hooks/gitlab", **kwargs)
    assert response.status_code == 401
    assert deliveries(session, "gitlab") == 0


def test_gitlab_without_a_configured_token_refuses_everything(app, client):
    app.config["GITLAB_WEBHOOK_TOKEN"] = ""
    response = client.post("/hooks/gitlab", **gitlab_delivery("Push Hook", GITLAB_PUSH,
                                                              token=""))
    assert response.status_code == 401


@pytest.mark.parametrize("body, field", [
    (json.dumps({"event_name": "push"}).encode(), "object_kind"),
    (json.dumps({"object_kind": 7}).encode(), "object_kind"),
    (b"nope", "body"),
])
def test_gitlab_bad_body_is_400(client, session, body, field):
    response = client.post("/hooks/gitlab", **gitlab_delivery("Push Hook", body,
                                                              token=GITLAB_TOKEN))
    assert response.status_code == 400
    assert response.json["field"] == field
    assert deliveries(session, "gitlab") == 0
