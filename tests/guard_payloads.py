"""CI webhook payloads for the guard tests, shaped after the vendors' documented examples and
trimmed to the fields those examples carry that matter here.

- GitHub: "Webhook events and payloads" — check_run and workflow_run; the examples in
  octokit/webhooks `payload-examples/api.github.com/check_run/completed.payload.json`,
  `check_run/rerequested.payload.json` and `workflow_run/completed.payload.json`.
- GitLab: doc/user/project/integrations/webhook_events.md — "Pipeline events"
  (`object_kind: pipeline`, times like `2016-08-12 15:26:29 UTC`) and "Job events"
  (`object_kind: build`, ISO times with milliseconds).
- /hooks/ci: Linecheck's own shape (README, "Guards").
"""

from __future__ import annotations

from datetime import datetime

REPO = "acme/checkout"
DEFAULT = "main"


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _repository(default_branch: str = DEFAULT) -> dict:
    return {"id": 186853002, "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=", "name": "checkout",
            "full_name": "Acme/Checkout", "private": False,
            "html_url": "https://github.com/Acme/Checkout",
            "url": "https://api.github.com/repos/Acme/Checkout",
            "default_branch": default_branch, "visibility": "public"}


SENDER = {"login": "Codertocat", "id": 21031067, "type": "User"}


def check_run(*, run_id: int, name: str, conclusion: str | None, at: datetime,
              branch: str = DEFAULT, action: str = "completed") -> dict:
    """A `check_run` event (a GitHub Actions job, or any app's check)."""
    return {
        "action": action,
        "check_run": {
            "id": run_id, "node_id": "MDg6Q2hlY2tSdW4xMjg2MjAyMjg=",
            "head_sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "external_id": "",
            "url": f"https://api.github.com/repos/Acme/Checkout/check-runs/{run_id}",
            "html_url": f"https://github.com/Acme/Checkout/runs/{run_id}",
            "details_url": "https://octocoders.io",
            "status": "completed" if action == "completed" else "queued",
            "conclusion": conclusion, "started_at": _iso(at), "completed_at": _iso(at),
            "output": {"title": None, "summary": None, "text": None, "annotations_count": 0},
            "name": name,
            "check_suite": {"id": 118578147, "head_branch": branch,
                            "head_sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
                            "status": "completed", "conclusion": conclusion,
                            "pull_requests": [], "created_at": _iso(at),
                            "updated_at": _iso(at)},
            "app": {"id": 29310, "name": "octocoders-linter"},
            "pull_requests": [],
        },
        "repository": _repository(),
        "sender": SENDER,
    }


def workflow_run(*, run_id: int, name: str, conclusion: str | None, at: datetime,
                 branch: str = DEFAULT, attempt: int = 1, action: str = "completed",
                 path: str = ".github/workflows/ci.yml", event: str = "push") -> dict:
    """A `workflow_run` event. As in GitHub's example, `workflow_run.name` may be empty: the
    workflow's name is then `workflow.name`."""
    return {
        "action": action,
        "repository": _repository(),
        "sender": SENDER,
        "workflow": {"id": 2823525, "name": name, "path": path, "state": "active",
                     "html_url": f"https://github.com/Acme/Checkout/blob/main/{path}"},
        "workflow_run": {
            "id": run_id, "name": "", "node_id": "MDExOldvcmtmbG93UnVuMjg5NzgyNDUx",
            "check_suite_id": 1291536064, "head_branch": branch,
            "head_sha": "3484a3fb816e0859fd6e1cea078d76385ff50625", "path": path,
            "display_title": "Update checkout", "run_number": 163, "event": event,
            "status": "completed" if action == "completed" else "queued",
            "conclusion": conclusion, "workflow_id": 2823525, "run_attempt": attempt,
            "html_url": f"https://github.com/Acme/Checkout/actions/runs/{run_id}",
            "created_at": _iso(at), "updated_at": _iso(at), "run_started_at": _iso(at),
            "pull_requests": [],
        },
    }


def _gitlab_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


PROJECT = {"id": 380, "name": "Checkout", "description": "",
           "web_url": "https://gitlab.example.com/acme/checkout", "avatar_url": None,
           "git_ssh_url": "git@gitlab.example.com:acme/checkout.git",
           "git_http_url": "https://gitlab.example.com/acme/checkout.git",
           "namespace": "Acme", "visibility_level": 20,
           "path_with_namespace": "acme/checkout", "default_branch": DEFAULT}


def gitlab_build(*, build_id: int, name: str, status: str, at: datetime | None,
                 ref: str = DEFAULT, tag: bool = False) -> dict:
    """A job event (`X-Gitlab-Event: Job Hook`)."""
    finished = at.strftime("%Y-%m-%dT%H:%M:%S.000Z") if at else None
    return {
        "object_kind": "build", "ref": ref, "tag": tag,
        "before_sha": "2293ada6b400935a1378653304eaf6221e0fdb8f",
        "sha": "2293ada6b400935a1378653304eaf6221e0fdb8f",
        "build_id": build_id, "build_name": name, "build_stage": "test",
        "build_status": status,
        "build_created_at": "2021-02-23T02:41:37.886Z",
        "build_created_at_iso": "2021-02-23T02:41:37Z",
        "build_started_at": finished, "build_finished_at": finished,
        "build_duration": None, "build_queued_duration": 1095.588715,
        "build_allow_failure": False, "build_failure_reason": "script_failure",
        "retries_count": 0, "pipeline_id": 2366, "project_id": 380,
        "project_name": "Acme / Checkout",
        "user": {"id": 3, "name": "User", "email": "user@gitlab.com"},
        "commit": {"id": 2366, "name": "Build pipeline",
                   "sha": "2293ada6b400935a1378653304eaf6221e0fdb8f", "message": "test\n",
                   "author_name": "User", "author_email": "user@gitlab.com",
                   "status": status},
        "repository": {"name": "checkout",
                       "homepage": "https://gitlab.example.com/acme/checkout"},
        "project": PROJECT,
        "runner": None, "environment": None,
    }


def gitlab_pipeline(*, pipeline_id: int, status: str, at: datetime,
                    builds: list[tuple[int, str, str]], ref: str = DEFAULT,
                    name: str | None = None) -> dict:
    """A pipeline event (`X-Gitlab-Event: Pipeline Hook`); builds are (id, name, status)."""
    when = _gitlab_time(at)
    return {
        "object_kind": "pipeline",
        "object_attributes": {
            "id": pipeline_id, "iid": 3, "name": name, "ref": ref, "tag": False,
            "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "before_sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "source": "push",
            "status": status, "stages": ["build", "test"], "created_at": when,
            "finished_at": when if status in ("success", "failed", "canceled") else None,
            "duration": 63, "variables": [],
            "url": f"https://gitlab.example.com/acme/checkout/-/pipelines/{pipeline_id}",
        },
        "merge_request": None,
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": PROJECT,
        "commit": {"id": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "message": "test\n",
                   "timestamp": "2016-08-12T17:23:21+02:00"},
        "builds": [
            {"id": build_id, "stage": "test", "name": build_name, "status": build_status,
             "created_at": when, "started_at": when,
             "finished_at": when if build_status in ("success", "failed", "canceled") else None,
             "duration": 17.0, "queued_duration": 196.0, "failure_reason": None,
             "when": "on_success", "manual": False, "allow_failure": False,
             "user": {"id": 1, "name": "Administrator", "username": "root"},
             "runner": None, "artifacts_file": {"filename": None, "size": None},
             "environment": None}
            for build_id, build_name, build_status in builds
        ],
    }


def ci_run(*, run_id: str, name: str, status: str, at: datetime, branch: str = DEFAULT,
           repository: str = REPO, tests: dict | None = None, **extra) -> dict:
    body = {"run_id": run_id, "repository": repository, "name": name, "branch": branch,
            "default_branch": DEFAULT, "status": status, "completed_at": at.isoformat(),
            "url": f"https://ci.example.com/{repository}/runs/{run_id}", **extra}
    if tests is not None:
        body["tests"] = tests
    return body
