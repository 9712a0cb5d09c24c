"""Linear over its GraphQL API.

Docs: https://linear.app/developers/graphql — one endpoint (`https://api.linear.app/graphql`),
a personal API key sent as `Authorization: <key>`, errors in the standard GraphQL `errors`
list (rate limits as `extensions.code` `RATELIMITED`). `issueCreate(input: {id, teamId,
title, description})` takes a client-chosen UUID v4 as the issue's id, so a retried creation
asks `issue(id:)` for that id before creating again. A workflow state's `type` is `triage`,
`backlog`, `unstarted`, `started`, `completed` or `canceled`. Webhooks
(https://linear.app/developers/webhooks) post `{"action", "type": "Issue", "data",
"updatedFrom", "url", "webhookTimestamp", …}` with the issue's fields in `data`.
"""

from __future__ import annotations

import re

from incidents.hooks.events import BadPayload
from incidents.tracker.models import IssueState
from incidents.tracker.providers.base import (
    Conn,
    Draft,
    Event,
    Gone,
    NoAccess,
    Ref,
    Rejected,
    Snapshot,
    Unavailable,
    call,
    day,
    need,
    short,
    timestamp,
)

LABEL = "Linear"
API_URL = "https://api.linear.app/graphql"
ISSUE_FIELDS = ("id identifier url updatedAt completedAt canceledAt dueDate "
                "state { name type } assignee { name }")
CREATE = ("mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) "
          f"{{ success issue {{ {ISSUE_FIELDS} }} }} }}")
ISSUE = f"query Issue($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} }} }}"
_ISSUE_URL = re.compile(r"^https://linear\.app/[A-Za-z0-9_-]{1,100}/issue/"
                        r"([A-Za-z][A-Za-z0-9]{0,20}-[0-9]{1,10})(?:/[^?#]*)?/?(?:[?#].*)?$")
_STATES = {"triage": IssueState.OPEN, "backlog": IssueState.OPEN,
           "unstarted": IssueState.OPEN, "started": IssueState.IN_PROGRESS,
           "completed": IssueState.COMPLETED, "canceled": IssueState.NOT_PLANNED,
           "duplicate": IssueState.NOT_PLANNED}


def _graphql(conn: Conn, query: str, variables: dict) -> dict:
    """The `data` of a GraphQL answer; GraphQL errors become the matching tracker errors."""
    response = call("POST", conn.api_url, vendor=LABEL, ok=(400,),
                    headers={"Authorization": conn.credential},
                    json={"query": query, "variables": variables})
    try:
        answer = response.json()
    except ValueError:
        raise Rejected(f"Linear answered {response.status_code} without JSON") from None
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        code = (first.get("extensions") or {}).get("code", "")
        message = short(first.get("message")) or "error"
        if code == "RATELIMITED":
            raise Unavailable(f"Linear is rate limiting ({message})")
        if code in ("AUTHENTICATION_ERROR", "FORBIDDEN"):
            raise NoAccess(f"Linear refused access: {message}")
        if "not found" in message.lower():
            raise Gone(f"Linear has no such issue: {message}")
        raise Rejected(f"Linear refused the request: {message}")
    if response.status_code != 200 or not isinstance(answer.get("data"), dict):
        raise Rejected(f"Linear answered {response.status_code} without data")
    return answer["data"]


def create(conn: Conn, draft: Draft) -> Snapshot:
    data = _graphql(conn, CREATE, {"input": {
        "id": draft.creation_id, "teamId": conn.project, "title": draft.title,
        "description": draft.markdown()}})
    created = data.get("issueCreate") or {}
    if not created.get("success") or not isinstance(created.get("issue"), dict):
        raise Rejected("Linear did not create the issue")
    return snapshot(created["issue"])


def find_created(conn: Conn, draft: Draft, since) -> Snapshot | None:
    try:
        return fetch(conn, draft.creation_id)
    except Gone:
        return None


def fetch(conn: Conn, reference: str) -> Snapshot:
    issue = _graphql(conn, ISSUE, {"id": reference}).get("issue")
    if issue is None:
        raise Gone("Linear has no such issue")
    return snapshot(issue)


def recognise(url: str) -> Ref | None:
    found = _ISSUE_URL.match(url.strip())
    if not found:
        return None
    # The issue's UUID (stable when the issue moves team) is learned on the first fetch.
    return Ref(reference=found.group(1), key=found.group(1))


def snapshot(issue) -> Snapshot:
    """An issue (GraphQL answer or webhook `data`) as a Snapshot."""
    issue_id = need(issue, "id", str, "data.")
    state = need(issue, "state", dict, "data.")
    kind = state.get("type")
    if kind not in _STATES:
        raise BadPayload(f"data.state.type {short(kind)!r} is not a Linear state type",
                         field="data.state.type")
    assignee = issue.get("assignee") if isinstance(issue.get("assignee"), dict) else {}
    closed = issue.get("completedAt") or issue.get("canceledAt")
    return Snapshot(
        reference=issue_id, key=need(issue, "identifier", str, "data."),
        url=need(issue, "url", str, "data."), state=_STATES[kind],
        state_name=short(state.get("name")) or kind, assignee=short(assignee.get("name")) or None,
        due_date=day(issue.get("dueDate")), closed_at=timestamp(closed),
        updated_at=timestamp(issue.get("updatedAt")))


def parse_event(body: dict) -> Event:
    kind = need(body, "type", str, "")
    action = need(body, "action", str, "")
    if kind != "Issue":
        return Event(f"{kind} {action}")
    issue = need(body, "data", dict, "")
    if action == "remove":
        return Event(action, _removed(issue), deleted=True)
    return Event(action, snapshot(issue))


def _removed(issue: dict) -> Snapshot:
    # A removed issue's data may be partial: the id is what finds the link.
    return Snapshot(reference=need(issue, "id", str, "data."),
                    key=short(issue.get("identifier")), url=short(issue.get("url"), 2000),
                    state=IssueState.NOT_PLANNED, state_name="removed")
