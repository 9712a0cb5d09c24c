"""GitHub Issues over the REST API.

Docs: https://docs.github.com/en/rest/issues/issues — `POST /repos/{owner}/{repo}/issues`
(201 with the issue), `GET /repos/{owner}/{repo}/issues/{number}` (301 when the issue was
transferred, 410 when deleted, 404 when unknown or not visible to the token), and
`GET /repos/{owner}/{repo}/issues?state=all&sort=created&since=…` to find an issue an earlier
attempt created. A closed issue's `state_reason` is `completed`, `not_planned` or
`duplicate`; `reopened` marks an open issue that was closed before. Webhook `issues` events
carry the same issue object (https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues).
"""

from __future__ import annotations

import re

from incidents.hooks.events import BadPayload
from incidents.tracker.models import IssueState
from incidents.tracker.providers.base import (
    Conn,
    Draft,
    Event,
    Moved,
    Ref,
    Snapshot,
    call,
    day,
    marker,
    need,
    short,
    timestamp,
)

LABEL = "GitHub"
API_URL = "https://api.github.com"
_ISSUE_URL = re.compile(
    r"^https://(?:www\.)?github\.com/([A-Za-z0-9_.-]{1,100})/([A-Za-z0-9_.-]{1,100})"
    r"/issues/([0-9]{1,10})/?(?:[?#].*)?$")
_REPO_URL = re.compile(r"/repos/([^/]+)/([^/]+)/?$")
_MOVED = ("transferred",)


def _headers(conn: Conn) -> dict:
    return {"Authorization": f"Bearer {conn.credential}",
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def _base(conn: Conn) -> str:
    return conn.api_url.rstrip("/")


def _body_marker(draft: Draft) -> str:
    # An HTML comment: invisible on GitHub, and found again by a retried creation.
    return f"<!-- {marker(draft.creation_id)} -->"


def create(conn: Conn, draft: Draft) -> Snapshot:
    response = call("POST", f"{_base(conn)}/repos/{conn.project}/issues", vendor=LABEL,
                    headers=_headers(conn),
                    json={"title": draft.title,
                          "body": f"{draft.markdown()}\n\n{_body_marker(draft)}"})
    return snapshot(response.json())


def find_created(conn: Conn, draft: Draft, since) -> Snapshot | None:
    params = {"state": "all", "sort": "created", "direction": "desc", "per_page": 100,
              "since": since.isoformat()}
    response = call("GET", f"{_base(conn)}/repos/{conn.project}/issues", vendor=LABEL,
                    headers=_headers(conn), params=params)
    wanted = _body_marker(draft)
    for issue in response.json():
        if isinstance(issue, dict) and "pull_request" not in issue \
                and wanted in (issue.get("body") or ""):
            return snapshot(issue)
    return None


def fetch(conn: Conn, reference: str) -> Snapshot:
    repo, _, number = reference.rpartition("#")
    try:
        response = call("GET", f"{_base(conn)}/repos/{repo}/issues/{number}", vendor=LABEL,
                        headers=_headers(conn))
    except Moved as moved:  # transferred: follow GitHub's redirect once, on its own API only
        if not moved.location.startswith(_base(conn) + "/"):
            raise
        response = call("GET", moved.location, vendor=LABEL, headers=_headers(conn))
    return snapshot(response.json())


def recognise(url: str) -> Ref | None:
    found = _ISSUE_URL.match(url.strip())
    if not found:
        return None
    owner, repo, number = found.groups()
    reference = f"{owner}/{repo}#{int(number)}"
    return Ref(reference=reference, key=reference)


def _state(issue: dict) -> tuple[IssueState, str]:
    if issue.get("state") == "closed":
        reason = issue.get("state_reason") or "completed"  # closed before reasons existed
        state = IssueState.COMPLETED if reason == "completed" else IssueState.NOT_PLANNED
        return state, f"closed as {reason.replace('_', ' ')}"
    if issue.get("state") == "open":
        return IssueState.OPEN, "reopened" if issue.get("state_reason") == "reopened" else "open"
    raise BadPayload("issue.state must be open or closed", field="issue.state")


def _repository(issue: dict) -> str:
    found = _REPO_URL.search(need(issue, "repository_url", str, "issue."))
    if not found:
        raise BadPayload("issue.repository_url does not name a repository",
                         field="issue.repository_url")
    return f"{found.group(1)}/{found.group(2)}"


def snapshot(issue) -> Snapshot:
    """An issue object (REST answer or webhook `issue`) as a Snapshot."""
    if not isinstance(issue, dict):
        raise BadPayload("issue must be an object", field="issue")
    number = need(issue, "number", int, "issue.")
    reference = f"{_repository(issue)}#{number}"
    state, name = _state(issue)
    assignee = issue.get("assignee") if isinstance(issue.get("assignee"), dict) else {}
    milestone = issue.get("milestone") if isinstance(issue.get("milestone"), dict) else {}
    return Snapshot(
        reference=reference, key=reference, url=need(issue, "html_url", str, "issue."),
        state=state, state_name=name, assignee=short(assignee.get("login")) or None,
        due_date=day(milestone.get("due_on")), closed_at=timestamp(issue.get("closed_at")),
        updated_at=timestamp(issue.get("updated_at")))


def parse_event(body: dict) -> Event:
    """An `issues` webhook delivery."""
    action = need(body, "action", str, "")
    issue = snapshot(body.get("issue"))
    if action == "deleted":
        return Event(action, issue, deleted=True)
    if action in _MOVED:
        changes = body.get("changes") if isinstance(body.get("changes"), dict) else {}
        moved = snapshot(changes.get("new_issue"))
        return Event(action, moved, moved_from=issue.reference)
    return Event(action, issue)
