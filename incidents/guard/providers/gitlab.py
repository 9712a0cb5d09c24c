"""GitLab pipeline and job webhook events → completed runs.

Payload shapes from GitLab's "Webhook events" page (doc/user/project/integrations/
webhook_events.md: Pipeline events, `object_kind: pipeline`; Job events, `object_kind:
build`). Only final statuses report a run: success, failed, canceled, skipped; the others
(created, pending, running, manual, …) are not used.

- A job is named `build_name` (pipeline events list their jobs in `builds`, `name`); a job
  reported by its own event and by its pipeline's is one run (keyed by the job's id, which
  a retry changes).
- A pipeline is a run of its own only when it has a name (`workflow:name`,
  `object_attributes.name`); one pipeline retried is a new run per finish.
- The branch is `ref` unless the run is for a tag; the repository is the project's
  `path_with_namespace`. Times come as `2016-08-12 15:26:29 UTC` or ISO 8601.
"""

from __future__ import annotations

from datetime import datetime

from incidents.guard.models import RunResult
from incidents.guard.providers._read import an_id, branch, section, text
from incidents.guard.runs import RunReport
from incidents.hooks.events import BadPayload, link_or_none, obj, timestamp

SOURCE = "gitlab"
RESULTS = {"success": RunResult.PASSED, "failed": RunResult.FAILED,
           "canceled": RunResult.CANCELLED, "skipped": RunResult.SKIPPED}


def _time(value, where: str) -> datetime | None:
    """GitLab's `2016-08-12 15:26:29 UTC` or an ISO 8601 time."""
    if isinstance(value, str) and value.endswith(" UTC"):
        value = value[: -len(" UTC")] + "+00:00"
    return timestamp(value, where, required=False)


def _when(container: dict, names: tuple[str, ...], where: str) -> datetime:
    """The first of the named times present (finish, else creation): explicit times only."""
    for name in names:
        found = _time(container.get(name), f"{where}.{name}")
        if found is not None:
            return found
    raise BadPayload(f"{where}.{names[0]} is required for a finished run",
                     field=f"{where}.{names[0]}")


def _project(body: dict) -> tuple[str, str | None, str | None]:
    project = section(body, "project")
    return (text(project, "path_with_namespace", "project").lower(),
            branch(project, "default_branch", "project"), link_or_none(project.get("web_url")))


def _branch(container: dict, where: str) -> str | None:
    tag = container.get("tag")
    if tag is not None and not isinstance(tag, bool):
        raise BadPayload(f"{where}.tag must be true or false", field=f"{where}.tag")
    return None if tag else branch(container, "ref", where)


def _job(*, repository, default_branch, web_url, ref, job_id, name, result,
         completed_at) -> RunReport:
    return RunReport(
        source=SOURCE, kind="job", run_key=f"job:{job_id}", repository=repository, name=name,
        result=result, completed_at=completed_at, branch=ref, default_branch=default_branch,
        url=f"{web_url}/-/jobs/{job_id}" if web_url else None, external_id=str(job_id))


def build(body: dict) -> list[RunReport]:
    """A job event (`object_kind: build`)."""
    status = text(body, "build_status", "body")
    if status not in RESULTS:
        return []
    repository, default_branch, web_url = _project(body)
    return [_job(repository=repository, default_branch=default_branch, web_url=web_url,
                 ref=_branch(body, "body"), job_id=an_id(body, "build_id", "body"),
                 name=text(body, "build_name", "body"), result=RESULTS[status],
                 completed_at=_when(body, ("build_finished_at", "build_created_at"), "body"))]


def pipeline(body: dict) -> list[RunReport]:
    """A pipeline event: the named pipeline's run, and each of its finished jobs."""
    attributes = section(body, "object_attributes")
    status = text(attributes, "status", "object_attributes")
    if status not in RESULTS:
        return []
    repository, default_branch, web_url = _project(body)
    ref = _branch(attributes, "object_attributes")
    finished = _when(attributes, ("finished_at", "created_at"), "object_attributes")
    reports = []
    name = text(attributes, "name", "object_attributes", required=False)
    if name:
        pipeline_id = an_id(attributes, "id", "object_attributes")
        reports.append(RunReport(
            source=SOURCE, kind="pipeline",
            run_key=f"pipeline:{pipeline_id}:{status}:{finished.isoformat()}",
            repository=repository, name=name, result=RESULTS[status], completed_at=finished,
            branch=ref, default_branch=default_branch,
            url=link_or_none(attributes.get("url")), external_id=str(pipeline_id)))
    jobs = body.get("builds") or []
    if not isinstance(jobs, list):
        raise BadPayload("builds must be a list", field="builds")
    for index, job in enumerate(jobs):
        where = f"builds[{index}]"
        job = obj(job, where)
        job_status = text(job, "status", where)
        if job_status not in RESULTS:
            continue
        reports.append(_job(
            repository=repository, default_branch=default_branch, web_url=web_url, ref=ref,
            job_id=an_id(job, "id", where), name=text(job, "name", where),
            result=RESULTS[job_status],
            completed_at=_when(job, ("finished_at", "created_at"), where)))
    return reports
