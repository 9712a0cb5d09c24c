"""Change deliveries in the vendors' documented shapes, for the change tests.

GitHub: the `pull_request` (closed), `pull_request_review` (submitted, dismissed), `push` and
`deployment_status` examples GitHub publishes in github.com/octokit/webhooks
(`payload-examples/api.github.com/…`), with the example's values kept where they do not matter
and ours (repository, SHAs, times, labels) where they do. GitLab: the merge request, push and
deployment examples of docs.gitlab.com/user/project/integrations/webhook_events/ (plus
`merge_commit_sha`, one of the merge request's hook attributes). Trimmed of URL fields the
examples carry but nothing reads.
"""

from __future__ import annotations

import hashlib

REPO = "acme/checkout"


def sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def _user(login: str, kind: str = "User") -> dict:
    return {"login": login, "id": 21031067, "node_id": "MDQ6VXNlcjIxMDMxMDY3",
            "avatar_url": "https://avatars1.githubusercontent.com/u/21031067?v=4",
            "url": f"https://api.github.com/users/{login}",
            "html_url": f"https://github.com/{login}", "type": kind, "site_admin": False}


def _repository(full_name: str = REPO) -> dict:
    owner, name = full_name.split("/")
    return {"id": 186853002, "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=", "name": name,
            "full_name": full_name, "private": False, "owner": _user(owner),
            "html_url": f"https://github.com/{full_name}", "description": None, "fork": False,
            "url": f"https://api.github.com/repos/{full_name}",
            "created_at": "2019-05-15T15:19:25Z", "updated_at": "2019-05-15T15:21:14Z",
            "pushed_at": "2019-05-15T15:20:57Z", "default_branch": "main",
            "master_branch": "main"}


def github_pull_request(*, number: int = 2, merged_at: str | None = "2026-03-01T10:00:00Z",
                        merge_commit_sha: str | None = None, action: str = "closed",
                        labels=(), body: str | None = "This is a pretty simple change.",
                        author: str = "Codertocat", title: str = "Update the payment client",
                        repo: str = REPO) -> dict:
    merge_commit_sha = merge_commit_sha or sha(f"{repo}#{number}")
    return {
        "action": action, "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{repo}/pulls/{number}", "id": 279147437,
            "node_id": "MDExOlB1bGxSZXF1ZXN0Mjc5MTQ3NDM3",
            "html_url": f"https://github.com/{repo}/pull/{number}", "number": number,
            "state": "closed", "locked": False, "title": title, "user": _user(author),
            "body": body, "created_at": "2026-02-28T15:20:33Z",
            "updated_at": "2026-03-01T10:00:01Z", "closed_at": "2026-03-01T10:00:00Z",
            "merged_at": merged_at, "merge_commit_sha": merge_commit_sha,
            "assignee": None, "assignees": [], "requested_reviewers": [],
            "requested_teams": [],
            "labels": [{"id": 1362934389 + i, "node_id": "MDU6TGFiZWwxMzYyOTM0Mzg5",
                        "url": f"https://api.github.com/repos/{repo}/labels/{name}",
                        "name": name, "color": "d73a4a", "default": False,
                        "description": None} for i, name in enumerate(labels)],
            "milestone": None, "draft": False,
            "head": {"label": "Codertocat:changes", "ref": "changes", "sha": sha("head")},
            "base": {"label": "Codertocat:main", "ref": "main", "sha": sha("base")},
            "author_association": "OWNER", "auto_merge": None, "active_lock_reason": None,
            "merged": merged_at is not None, "mergeable": None, "rebaseable": None,
            "mergeable_state": "unknown", "merged_by": _user("octocat") if merged_at else None,
            "comments": 0, "review_comments": 1, "maintainer_can_modify": False,
            "commits": 1, "additions": 1, "deletions": 1, "changed_files": 1,
        },
        "repository": _repository(repo), "sender": _user("Codertocat"),
    }


def github_review(*, number: int = 2, reviewer: str = "octocat", state: str = "approved",
                  submitted_at: str = "2026-03-01T09:00:00Z", action: str = "submitted",
                  repo: str = REPO) -> dict:
    pr = github_pull_request(number=number, merged_at=None, repo=repo)["pull_request"]
    pr["state"] = "open"
    return {
        "action": action,
        "review": {"id": 237895671, "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3MjM3ODk1Njcx",
                   "user": _user(reviewer), "body": None, "commit_id": sha("head"),
                   "submitted_at": submitted_at, "state": state,
                   "html_url": f"https://github.com/{repo}/pull/{number}"
                               "#pullrequestreview-237895671",
                   "pull_request_url": f"https://api.github.com/repos/{repo}/pulls/{number}",
                   "author_association": "OWNER", "_links": {}},
        "pull_request": pr, "repository": _repository(repo), "sender": _user(reviewer),
    }


def github_push(*, after: str, messages: list[str], ref: str = "refs/heads/main",
                timestamp: str = "2026-03-01T10:00:00Z", repo: str = REPO) -> dict:
    def commit(index: int, message: str) -> dict:
        commit_id = after if index == len(messages) - 1 else sha(f"{after}:{index}")
        person = {"name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com",
                  "username": "Codertocat"}
        return {"id": commit_id, "tree_id": sha("tree"), "distinct": True,
                "message": message, "timestamp": timestamp,
                "url": f"https://github.com/{repo}/commit/{commit_id}", "author": person,
                "committer": person, "added": [], "removed": [], "modified": ["README.md"]}

    commits = [commit(i, m) for i, m in enumerate(messages)]
    return {"ref": ref, "before": sha("before"), "after": after, "created": False,
            "deleted": False, "forced": False, "base_ref": None,
            "compare": f"https://github.com/{repo}/compare/{sha('before')[:12]}...{after[:12]}",
            "commits": commits, "head_commit": commits[-1] if commits else None,
            "repository": _repository(repo), "pusher": {"name": "Codertocat",
                                                        "email": "x@example.com"},
            "sender": _user("Codertocat")}


def github_deployment_status(*, deployed_sha: str, state: str = "success",
                             environment: str = "production",
                             created_at: str = "2026-03-01T11:00:00Z",
                             production_environment: bool | None = None,
                             payload: dict | None = None, repo: str = REPO) -> dict:
    deployment = {
        "url": f"https://api.github.com/repos/{repo}/deployments/145988746", "id": 145988746,
        "node_id": "MDEwOkRlcGxveW1lbnQxNDU5ODg3NDY=", "sha": deployed_sha, "ref": "main",
        "task": "deploy", "payload": payload or {}, "original_environment": environment,
        "environment": environment, "description": None, "creator": _user("Codertocat"),
        "created_at": created_at, "updated_at": created_at,
        "statuses_url": f"https://api.github.com/repos/{repo}/deployments/145988746/statuses",
        "repository_url": f"https://api.github.com/repos/{repo}"}
    if production_environment is not None:
        deployment["production_environment"] = production_environment
    return {
        "action": "created",
        "deployment_status": {
            "url": f"https://api.github.com/repos/{repo}/deployments/145988746/statuses/1",
            "id": 209916254, "node_id": "MDE2OkRlcGxveW1lbnRTdGF0dXMyMDk5MTYyNTQ=",
            "state": state, "creator": _user("Codertocat"), "description": "",
            "environment": environment, "target_url": "", "created_at": created_at,
            "updated_at": created_at,
            "deployment_url": f"https://api.github.com/repos/{repo}/deployments/145988746",
            "repository_url": f"https://api.github.com/repos/{repo}"},
        "deployment": deployment, "repository": _repository(repo),
        "sender": _user("Codertocat"),
    }


# --- GitLab -----------------------------------------------------------------------------------

GITLAB_PROJECT = {"id": 15, "name": "Checkout", "description": "",
                  "web_url": "http://example.com/acme/checkout", "avatar_url": None,
                  "git_ssh_url": "git@example.com:acme/checkout.git",
                  "git_http_url": "http://example.com/acme/checkout.git", "namespace": "Acme",
                  "visibility_level": 0, "path_with_namespace": "acme/checkout",
                  "default_branch": "master", "ci_config_path": "",
                  "homepage": "http://example.com/acme/checkout",
                  "url": "git@example.com:acme/checkout.git",
                  "ssh_url": "git@example.com:acme/checkout.git",
                  "http_url": "http://example.com/acme/checkout.git"}
GITLAB_USER = {"id": 1, "name": "Administrator", "username": "root",
               "avatar_url": "http://www.gravatar.com/avatar/e64c7d89?s=40&d=identicon",
               "email": "admin@example.com"}


def gitlab_merge_request(*, iid: int = 1, action: str = "merge", state: str = "merged",
                         merge_commit_sha: str | None = None, labels=(),
                         message: str = "fixed readme", description: str = "",
                         squash: bool | None = None, user: dict | None = None,
                         updated_at: str = "2026-03-01 10:00:00 UTC") -> dict:
    attrs = {
        "id": 99, "iid": iid, "target_branch": "master", "source_branch": "ms-viewport",
        "source_project_id": 14, "author_id": 51, "assignee_ids": [6], "assignee_id": 6,
        "reviewer_ids": [6], "title": "MS-Viewport", "created_at": "2026-02-27T17:23:34Z",
        "updated_at": updated_at, "last_edited_at": None, "last_edited_by_id": None,
        "milestone_id": None, "state_id": 3, "state": state,
        "blocking_discussions_resolved": True, "work_in_progress": False, "draft": False,
        "first_contribution": False, "merge_status": "can_be_merged", "target_project_id": 14,
        "description": description, "merge_commit_sha": merge_commit_sha,
        "url": f"http://example.com/acme/checkout/-/merge_requests/{iid}",
        "source": GITLAB_PROJECT, "target": GITLAB_PROJECT,
        "last_commit": {"id": sha("gitlab-head"), "message": message,
                        "title": message.split("\n")[0], "timestamp": "2026-02-28T23:36:29+02:00",
                        "url": f"http://example.com/acme/checkout/commits/{sha('gitlab-head')}",
                        "author": {"name": "GitLab dev user", "email": "dev@example.com"}},
        "labels": [{"id": 206 + i, "title": name, "color": "#ffffff", "project_id": 14,
                    "created_at": "2013-12-03T17:15:43Z", "updated_at": "2013-12-03T17:15:43Z",
                    "template": False, "description": None, "type": "ProjectLabel",
                    "group_id": 41} for i, name in enumerate(labels)],
        "action": action, "detailed_merge_status": "not_open",
    }
    if squash is not None:
        attrs["squash"] = squash
    return {"object_kind": "merge_request", "event_type": "merge_request",
            "user": user or GITLAB_USER, "project": GITLAB_PROJECT,
            "repository": {"name": "Checkout", "url": "http://example.com/acme/checkout.git",
                           "description": "", "homepage": "http://example.com/acme/checkout"},
            "object_attributes": attrs, "labels": attrs["labels"], "changes": {},
            "assignees": [], "reviewers": []}


def gitlab_push(*, after: str, messages: list[str], ref: str = "refs/heads/master") -> dict:
    commits = [{"id": after if i == len(messages) - 1 else sha(f"{after}:{i}"), "message": m,
                "title": m.split("\n")[0], "timestamp": "2026-03-01T12:00:00+02:00",
                "url": f"http://example.com/acme/checkout/commit/{after}",
                "author": {"name": "Jordi Mallach", "email": "jordi@example.org"},
                "added": [], "modified": ["app.rb"], "removed": []}
               for i, m in enumerate(messages)]
    return {"object_kind": "push", "event_name": "push", "before": sha("before"),
            "after": after, "ref": ref, "ref_protected": True, "checkout_sha": after,
            "user_id": 4, "user_name": "John Smith", "user_username": "jsmith",
            "user_email": "john@example.com", "project_id": 15, "project": GITLAB_PROJECT,
            "repository": {"name": "Checkout", "url": "git@example.com:acme/checkout.git"},
            "commits": commits, "total_commits_count": len(commits)}


def gitlab_deployment(*, deployed_sha: str, status: str = "success",
                      environment: str = "production", tier: str | None = "production",
                      at: str = "2026-03-01 13:00:00 +0200") -> dict:
    body = {"object_kind": "deployment", "status": status, "status_changed_at": at,
            "deployment_id": 15, "deployable_id": 796,
            "deployable_url": "http://example.com/acme/checkout/-/jobs/796",
            "environment": environment, "environment_slug": environment,
            "environment_external_url": "https://checkout.example.com",
            "project": GITLAB_PROJECT, "short_sha": deployed_sha[:8], "user": GITLAB_USER,
            "user_url": "http://example.com/root",
            "commit_url": f"http://example.com/acme/checkout/-/commit/{deployed_sha}",
            "commit_title": "Add new file"}
    if tier is not None:
        body["environment_tier"] = tier
    return body
