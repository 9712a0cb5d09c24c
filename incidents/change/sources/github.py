"""GitHub: merged pull requests, their reviews, pushes to the default branch, deployments.

Shapes from GitHub's "Webhook events and payloads" (docs.github.com/en/webhooks/webhook-events-
and-payloads) and the example payloads GitHub publishes in github.com/octokit/webhooks
(`payload-examples/api.github.com/{pull_request,pull_request_review,push,deployment_status}`).

What each event gives, and what it cannot: a merged `pull_request` carries the merge commit,
title, author, labels and body but neither approvals nor check results; approvals come from
`pull_request_review` events, commit messages (and their trailers) from the `push` to the
default branch, the production deploy from `deployment_status`. A change's required-check
results are not in any of these payloads; send them through `/hooks/changes` (README).
"""

from __future__ import annotations

from incidents.change.sources import (
    ApprovalFacts,
    ChangeFacts,
    repository,
    sha,
    texts,
)
from incidents.hooks.events import BadPayload, link_or_none, obj, string, timestamp

NAME = "github"
ZERO_SHA = "0" * 40


def _repository(body: dict) -> dict:
    return obj(body.get("repository"), "repository")


def _login(user, where: str) -> str | None:
    if user is None:
        return None
    return string(obj(user, where), "login", where, required=False)


def pull_request(body: dict) -> list[ChangeFacts]:
    """A merged pull request (closed + merged, or labelled / edited after the merge)."""
    pr = obj(body.get("pull_request"), "pull_request")
    repo = repository(_repository(body).get("full_name"), "repository.full_name")
    merged_at = timestamp(pr.get("merged_at"), "pull_request.merged_at", required=False)
    if merged_at is None or pr.get("merged") is False:
        return []  # opened, closed unmerged, …: not a change yet
    number = pr.get("number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise BadPayload("pull_request.number must be an integer", field="pull_request.number")
    body_text = pr.get("body")
    if body_text is not None and not isinstance(body_text, str):
        raise BadPayload("pull_request.body must be a string", field="pull_request.body")
    return [ChangeFacts(
        source=NAME, repository=repo,
        revision=sha(pr.get("merge_commit_sha"), "pull_request.merge_commit_sha"),
        number=number,
        title=string(pr, "title", "pull_request", required=False),
        url=link_or_none(pr.get("html_url")),
        author=_login(pr.get("user"), "pull_request.user"),
        merged_at=merged_at,
        labels=texts(pr.get("labels"), "pull_request.labels", key="name"),
        # GitHub writes a squash commit from the PR's body when so configured, and assistants
        # sign pull request bodies ("Generated with Claude Code").
        commit_messages=(body_text,) if body_text else (),
    )]


# review.state → approved? ("commented" leaves the reviewer's standing as it was)
_REVIEW_STATES = {"approved": True, "changes_requested": False, "dismissed": False}


def pull_request_review(body: dict) -> list[ApprovalFacts]:
    review = obj(body.get("review"), "review")
    pr = obj(body.get("pull_request"), "pull_request")
    repo = repository(_repository(body).get("full_name"), "repository.full_name")
    state = string(review, "state", "review")
    if body.get("action") == "dismissed":
        state = "dismissed"
    if state not in _REVIEW_STATES:
        return []
    reviewer = _login(review.get("user"), "review.user")
    number = pr.get("number")
    if not reviewer or not isinstance(number, int) or isinstance(number, bool):
        raise BadPayload("review.user.login and pull_request.number are required",
                         field="review.user")
    at = timestamp(review.get("submitted_at"), "review.submitted_at", required=False) or \
        timestamp(pr.get("updated_at"), "pull_request.updated_at")
    return [ApprovalFacts(source=NAME, repository=repo, number=number, reviewer=reviewer,
                          approved=_REVIEW_STATES[state], at=at)]


def push(body: dict) -> list[ChangeFacts]:
    """A push to the default branch: the commit it landed as, and its commit messages."""
    repo_obj = _repository(body)
    repo = repository(repo_obj.get("full_name"), "repository.full_name")
    ref = string(body, "ref", "body")
    default = repo_obj.get("default_branch") or repo_obj.get("master_branch")
    after = string(body, "after", "body")
    if body.get("deleted") or after == ZERO_SHA or ref != f"refs/heads/{default}":
        return []  # a branch or tag push, or a deletion: no change landed on the line
    commits = body.get("commits") or []
    if not isinstance(commits, list):
        raise BadPayload("commits must be a list", field="commits")
    messages = tuple(c["message"] for c in commits
                     if isinstance(c, dict) and isinstance(c.get("message"), str))
    head = body.get("head_commit")
    head = obj(head, "head_commit") if head is not None else {}
    message = head.get("message") if isinstance(head.get("message"), str) else ""
    author = obj(head.get("author") or {}, "head_commit.author")
    return [ChangeFacts(
        source=NAME, repository=repo, revision=sha(after, "after"),
        title=message.split("\n", 1)[0] or None,
        url=link_or_none(head.get("url")),
        author=author.get("username") or author.get("name"),
        merged_at=timestamp(head.get("timestamp"), "head_commit.timestamp", required=False),
        commit_messages=messages or ((message,) if message else ()),
    )]


def deployment_status(body: dict) -> list[ChangeFacts]:
    """A deployment that succeeded; others (pending, failure, …) say nothing yet."""
    status = obj(body.get("deployment_status"), "deployment_status")
    deployment = obj(body.get("deployment"), "deployment")
    repo = repository(_repository(body).get("full_name"), "repository.full_name")
    if string(status, "state", "deployment_status") != "success":
        return []
    environment = string(status, "environment", "deployment_status", required=False) or \
        string(deployment, "environment", "deployment")
    payload = deployment.get("payload")
    service = payload.get("service") if isinstance(payload, dict) else None
    production = deployment.get("production_environment")
    ref = deployment.get("ref")
    revision = sha(deployment.get("sha"), "deployment.sha")
    return [ChangeFacts(
        source=NAME, repository=repo, revision=revision,
        service=service.strip()[:200] if isinstance(service, str) and service.strip()
        else repo.rsplit("/", 1)[-1],
        environment=environment[:100],
        production=production if isinstance(production, bool) else None,
        deployed_at=timestamp(status.get("created_at"), "deployment_status.created_at"),
        url=link_or_none(status.get("environment_url")) or link_or_none(
            status.get("target_url")) or link_or_none(status.get("log_url")),
        # A tag or release ref names the version; a branch name or the SHA itself does not.
        version=ref[:200] if isinstance(ref, str) and ref.startswith("v") else None,
    )]


EVENTS = {"pull_request": pull_request, "pull_request_review": pull_request_review,
          "push": push, "deployment_status": deployment_status}
