"""Jira Cloud over REST API v3.

Docs: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/ —
`POST /rest/api/3/issue` (201 `{"id", "key", "self"}`; the description is an Atlassian
Document Format document), `GET /rest/api/3/issue/{idOrKey}` (an issue moved to another
project keeps its id and answers with its new key), and `POST /rest/api/3/search/jql`
(api-group-issue-search) to find an issue an earlier attempt created by its label.
Done is the status category `done`; the resolution says how (e.g. "Done", "Won't Do").
Webhooks (https://developer.atlassian.com/cloud/jira/platform/webhooks/) post
`{"webhookEvent": "jira:issue_updated", "timestamp", "issue", "changelog"}` with the same
issue object.
"""

from __future__ import annotations

import base64
import re

from incidents.tracker.models import IssueState
from incidents.tracker.providers.base import (
    Conn,
    Draft,
    Event,
    Ref,
    Snapshot,
    call,
    day,
    marker,
    need,
    short,
    timestamp,
)

LABEL = "Jira"
FIELDS = ["summary", "status", "resolution", "assignee", "duedate", "resolutiondate", "updated"]
# Resolutions that close an issue without doing it (Jira's defaults and common additions).
NOT_DONE = frozenset({"won't do", "won't fix", "duplicate", "cannot reproduce", "declined",
                      "not planned", "incomplete", "obsolete"})
_BROWSE_URL = re.compile(r"^(https://[A-Za-z0-9.-]{1,200}(?::[0-9]{1,5})?)/browse/"
                         r"([A-Z][A-Z0-9_]{0,30}-[0-9]{1,10})/?(?:[?#].*)?$")
_SITE = re.compile(r"^(https?://[^/]+)/rest/api/")
_ISSUE_EVENTS = {"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"}


def _headers(conn: Conn) -> dict:
    # Cloud API tokens go with the account's email: Basic base64(email:token).
    return {"Authorization": "Basic " + base64.b64encode(conn.credential.encode()).decode()}


def _base(conn: Conn) -> str:
    return conn.api_url.rstrip("/")


def _adf(draft: Draft) -> dict:
    """The description as an ADF document: one paragraph per fact, then the link back."""
    def text(value: str, **marks) -> dict:
        node = {"type": "text", "text": value}
        if marks:
            node["marks"] = [{"type": name, **({"attrs": attrs} if attrs else {})}
                             for name, attrs in marks.items()]
        return node

    paragraphs = [{"type": "paragraph", "content": [text(f"{label}: ", strong=None),
                                                     text(value)]}
                  for label, value in draft.facts if value]
    paragraphs.append({"type": "paragraph", "content": [
        text("Prevention item in Linecheck: "), text(draft.link, link={"href": draft.link})]})
    return {"type": "doc", "version": 1, "content": paragraphs}


def create(conn: Conn, draft: Draft) -> Snapshot:
    fields = {"project": {"key": conn.project}, "issuetype": {"name": conn.issue_type or "Task"},
              "summary": draft.title, "labels": [marker(draft.creation_id)],
              "description": _adf(draft)}
    created = call("POST", f"{_base(conn)}/rest/api/3/issue", vendor=LABEL,
                   headers=_headers(conn), json={"fields": fields}).json()
    return fetch(conn, need(created, "id", str, ""))


def find_created(conn: Conn, draft: Draft, since) -> Snapshot | None:
    jql = f'project = "{conn.project}" AND labels = "{marker(draft.creation_id)}"'
    found = call("POST", f"{_base(conn)}/rest/api/3/search/jql", vendor=LABEL,
                 headers=_headers(conn),
                 json={"jql": jql, "fields": FIELDS, "maxResults": 1}).json()
    issues = found.get("issues") if isinstance(found, dict) else None
    return snapshot(issues[0], conn.site_url) if issues else None


def fetch(conn: Conn, reference: str) -> Snapshot:
    issue = call("GET", f"{_base(conn)}/rest/api/3/issue/{reference}", vendor=LABEL,
                 headers=_headers(conn), params={"fields": ",".join(FIELDS)}).json()
    return snapshot(issue, conn.site_url)


def recognise(url: str) -> Ref | None:
    found = _BROWSE_URL.match(url.strip())
    if not found:
        return None
    site, key = found.groups()
    # The issue id (stable across moves) is learned on the first fetch; until then the key.
    return Ref(reference=key, key=key, site_url=site)


def _state(fields: dict) -> tuple[IssueState, str]:
    status = need(fields, "status", dict, "issue.fields.")
    name = short(status.get("name")) or "?"
    category = status.get("statusCategory") if isinstance(status.get("statusCategory"),
                                                          dict) else {}
    resolution = fields.get("resolution") if isinstance(fields.get("resolution"), dict) else {}
    how = short(resolution.get("name"))
    if category.get("key") == "done":
        state = IssueState.NOT_PLANNED if how.lower() in NOT_DONE else IssueState.COMPLETED
        return state, f"{name} ({how})" if how and how != name else name
    if category.get("key") == "indeterminate":
        return IssueState.IN_PROGRESS, name
    return IssueState.OPEN, name


def snapshot(issue, site_url: str = "") -> Snapshot:
    """An issue object (REST answer or webhook `issue`) as a Snapshot."""
    issue_id = need(issue, "id", str, "issue.")
    key = need(issue, "key", str, "issue.")
    fields = need(issue, "fields", dict, "issue.")
    if not site_url:
        found = _SITE.match(short(issue.get("self"), 2000))
        site_url = found.group(1) if found else ""
    state, name = _state(fields)
    assignee = fields.get("assignee") if isinstance(fields.get("assignee"), dict) else {}
    return Snapshot(
        reference=issue_id, key=key, url=f"{site_url.rstrip('/')}/browse/{key}",
        state=state, state_name=name, assignee=short(assignee.get("displayName")) or None,
        due_date=day(fields.get("duedate")), closed_at=timestamp(fields.get("resolutiondate")),
        updated_at=timestamp(fields.get("updated")))


def parse_event(body: dict) -> Event:
    event = need(body, "webhookEvent", str, "")
    if event not in _ISSUE_EVENTS:
        return Event(event)
    issue = snapshot(body.get("issue"))
    return Event(event.removeprefix("jira:"), issue, deleted=event == "jira:issue_deleted")
