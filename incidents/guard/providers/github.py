"""GitHub `check_run` and `workflow_run` webhook events → completed runs.

Payload shapes from GitHub's "Webhook events and payloads" (check_run, workflow_run), as in
octokit/webhooks `payload-examples/api.github.com/check_run/completed.payload.json` and
`workflow_run/completed.payload.json`. Only the `completed` action reports a verdict; the
others (created, requested, in_progress, rerequested, requested_action) are not used.

- A check run (one GitHub Actions job, or any app's check) is named `check_run.name`, its
  branch is `check_run.check_suite.head_branch`, its time `check_run.completed_at`.
- A workflow run is named by the workflow's `name` (and known by its file, `path`), its
  branch is `head_branch`; it has no completion time of its own, so `updated_at` of the
  completed event is when it finished. A re-run keeps the id with a new `run_attempt`.
"""

from __future__ import annotations

from incidents.guard.models import RunResult
from incidents.guard.providers._read import an_id, branch, optional_section, section, text
from incidents.guard.runs import RunReport
from incidents.hooks.events import BadPayload, link_or_none, timestamp

SOURCE = "github"
# GitHub's conclusions: success, failure, neutral, cancelled, timed_out, action_required,
# stale, skipped (and startup_failure for workflow runs). Only success and the failures are
# verdicts; the rest never ran the check to its end.
RESULTS = {"success": RunResult.PASSED, "failure": RunResult.FAILED,
           "timed_out": RunResult.FAILED, "startup_failure": RunResult.FAILED,
           "skipped": RunResult.SKIPPED, "neutral": RunResult.SKIPPED}


def _result(conclusion, where: str) -> RunResult:
    if conclusion is not None and not isinstance(conclusion, str):
        raise BadPayload(f"{where} must be a string", field=where)
    return RESULTS.get(conclusion or "", RunResult.CANCELLED)


def _completed(body: dict) -> bool:
    action = text(body, "action", "body")
    return action == "completed"


def _repository(body: dict) -> tuple[str, str | None]:
    repository = section(body, "repository")
    return (text(repository, "full_name", "repository").lower(),
            branch(repository, "default_branch", "repository"))


def check_run(body: dict) -> list[RunReport]:
    if not _completed(body):
        return []
    run = section(body, "check_run")
    suite = optional_section(run, "check_suite")
    repository, default_branch = _repository(body)
    run_id = an_id(run, "id", "check_run")
    completed_at = timestamp(run.get("completed_at"), "check_run.completed_at")
    return [RunReport(
        source=SOURCE, kind="check_run", run_key=f"check_run:{run_id}:{completed_at.isoformat()}",
        repository=repository, name=text(run, "name", "check_run"),
        result=_result(run.get("conclusion"), "check_run.conclusion"),
        completed_at=completed_at, branch=branch(suite, "head_branch", "check_run.check_suite"),
        default_branch=default_branch, url=link_or_none(run.get("html_url")),
        external_id=str(run_id))]


def workflow_run(body: dict) -> list[RunReport]:
    if not _completed(body):
        return []
    run = section(body, "workflow_run")
    workflow = optional_section(body, "workflow")
    repository, default_branch = _repository(body)
    run_id = an_id(run, "id", "workflow_run")
    attempt = an_id(run, "run_attempt", "workflow_run") if "run_attempt" in run else 1
    name = (text(run, "name", "workflow_run", required=False)
            or text(workflow, "name", "workflow"))
    path = (text(run, "path", "workflow_run", required=False)
            or text(workflow, "path", "workflow", required=False))
    return [RunReport(
        source=SOURCE, kind="workflow_run", run_key=f"workflow_run:{run_id}:{attempt}",
        repository=repository, name=name, path=path,
        result=_result(run.get("conclusion"), "workflow_run.conclusion"),
        completed_at=timestamp(run.get("updated_at"), "workflow_run.updated_at"),
        branch=branch(run, "head_branch", "workflow_run"), default_branch=default_branch,
        url=link_or_none(run.get("html_url")), external_id=str(run_id))]
