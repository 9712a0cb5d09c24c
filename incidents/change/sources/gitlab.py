"""GitLab: merged merge requests and their approvals, pushes to the default branch, deployments.

Shapes from GitLab's "Webhook events" page (docs.gitlab.com/user/project/integrations/
webhook_events/, in github.com/gitlabhq/gitlabhq `doc/user/project/integrations/
webhook_events.md`): merge request events (actions `merge`, `approval`/`approved`,
`unapproval`/`unapproved`, `update`), push events and deployment events. `merge_commit_sha`
is one of the merge request's hook attributes (`lib/gitlab/hook_data/merge_request_builder.rb`)
though the page's example omits it; a deployment names its commit only in `commit_url`.

GitLab writes times three ways ("2013-12-03T17:23:34Z", "2017-09-15 16:52:00 UTC",
"2021-04-28 21:50:00 +0200"); all are read as the same instant.
"""

from __future__ import annotations

from incidents.change.sources import (
    ApprovalFacts,
    ChangeFacts,
    repository,
    sha,
    sha_in_url,
    texts,
)
from incidents.hooks.events import BadPayload, link_or_none, obj, string, timestamp

NAME = "gitlab"
ZERO_SHA = "0" * 40


def when(value, where: str, *, required: bool = True):
    """A GitLab time in any of its three spellings, in UTC."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(" UTC"):
            text = text[:-4] + "+00:00"
        elif len(text) > 6 and text[-6] == " " and text[-5] in "+-":
            text = text[:-6] + text[-5:]
        value = text
    return timestamp(value, where, required=required)


def _project(body: dict) -> tuple[dict, str]:
    project = obj(body.get("project"), "project")
    return project, repository(project.get("path_with_namespace"),
                               "project.path_with_namespace")


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


_APPROVALS = {"approval": True, "approved": True, "unapproval": False, "unapproved": False}


def merge_request(body: dict) -> list[ChangeFacts | ApprovalFacts]:
    attrs = obj(body.get("object_attributes"), "object_attributes")
    _, repo = _project(body)
    action = attrs.get("action")
    number = attrs.get("iid")
    if not isinstance(number, int) or isinstance(number, bool):
        raise BadPayload("object_attributes.iid must be an integer",
                         field="object_attributes.iid")
    if action in _APPROVALS:
        user = obj(body.get("user"), "user")
        return [ApprovalFacts(
            source=NAME, repository=repo, number=number,
            reviewer=string(user, "username", "user"), approved=_APPROVALS[action],
            at=when(attrs.get("updated_at"), "object_attributes.updated_at"))]
    if action != "merge" and attrs.get("state") != "merged":
        return []  # opened, updated before the merge, closed unmerged: not a change yet
    last = obj(attrs.get("last_commit") or {}, "object_attributes.last_commit")
    landed = attrs.get("squash_commit_sha") or attrs.get("merge_commit_sha") or last.get("id")
    squashed = attrs.get("squash") if isinstance(attrs.get("squash"), bool) else (
        True if attrs.get("squash_commit_sha") else None)
    description = attrs.get("description")
    messages = tuple(m for m in (last.get("message"), description)
                     if isinstance(m, str) and m)
    author = obj(last.get("author") or {}, "object_attributes.last_commit.author")
    labels = attrs.get("labels") if attrs.get("labels") is not None else body.get("labels")
    return [ChangeFacts(
        source=NAME, repository=repo,
        revision=sha(landed, "object_attributes.merge_commit_sha"),
        number=number,
        title=string(attrs, "title", "object_attributes", required=False),
        url=link_or_none(attrs.get("url")),
        author=author.get("name") if isinstance(author.get("name"), str) else None,
        merged_at=when(attrs.get("merged_at") or attrs.get("updated_at"),
                       "object_attributes.updated_at", required=False),
        labels=texts(labels, "object_attributes.labels", key="title"),
        squashed=squashed,
        commit_messages=messages,
    )]


def push(body: dict) -> list[ChangeFacts]:
    project, repo = _project(body)
    ref = string(body, "ref", "body")
    after = string(body, "checkout_sha", "body", required=False) or string(body, "after", "body")
    if after == ZERO_SHA or ref != f"refs/heads/{project.get('default_branch')}":
        return []
    commits = body.get("commits") or []
    if not isinstance(commits, list):
        raise BadPayload("commits must be a list", field="commits")
    commits = [c for c in commits if isinstance(c, dict)]
    head = next((c for c in commits if c.get("id") == after), {})
    author = head.get("author") if isinstance(head.get("author"), dict) else {}
    return [ChangeFacts(
        source=NAME, repository=repo, revision=sha(after, "after"),
        title=head.get("title") if isinstance(head.get("title"), str) else None,
        url=link_or_none(head.get("url")),
        author=author.get("name") if isinstance(author.get("name"), str) else None,
        merged_at=when(head.get("timestamp"), "commits.timestamp", required=False),
        commit_messages=tuple(c["message"] for c in commits
                              if isinstance(c.get("message"), str)),
    )]


def deployment(body: dict) -> list[ChangeFacts]:
    _, repo = _project(body)
    if string(body, "status", "body") != "success":
        return []  # running, failed, canceled: nothing reached the environment
    commit_url = body.get("commit_url")
    revision = sha_in_url(commit_url)
    if revision is None:
        raise BadPayload("commit_url must end with the deployed commit's SHA",
                         field="commit_url")
    tier = body.get("environment_tier")
    return [ChangeFacts(
        source=NAME, repository=repo, revision=sha(revision, "commit_url"),
        service=_name(repo),
        environment=string(body, "environment", "body")[:100],
        production=(tier == "production") if isinstance(tier, str) else None,
        deployed_at=when(body.get("status_changed_at"), "status_changed_at"),
        url=link_or_none(body.get("deployable_url")) or link_or_none(commit_url),
    )]


EVENTS = {"merge_request": merge_request, "push": push, "deployment": deployment}
