"""Fake GitHub, Jira and Linear APIs on loopback, answering in each vendor's documented shape.

The app's real tracker clients talk to them through GITHUB_API_URL, JIRA_API_URL and
LINEAR_API_URL; nothing is patched. Each fake checks the credential, records every call,
can fail the next calls (5xx, 429 with Retry-After, optionally after doing the work, as a
gateway timing out behind a vendor does), and lets a test change issues the way a person
in the tracker would (close as completed or not planned, reopen, assign, delete, move).
It also builds that vendor's webhook bodies for the same issues.

Shapes: GitHub REST "Issues" (https://docs.github.com/en/rest/issues/issues) and the
`issues` webhook (https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues;
octokit/webhooks payload-examples/api.github.com/issues/*.json); Jira Cloud REST v3 issue,
create and JQL search (https://developer.atlassian.com/cloud/jira/platform/rest/v3/) and its
webhooks (https://developer.atlassian.com/cloud/jira/platform/webhooks/); Linear GraphQL
(https://linear.app/developers/graphql) and its webhooks
(https://linear.app/developers/webhooks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Call:
    method: str
    path: str
    query: dict
    body: object
    headers: dict
    at: float = field(default_factory=time.monotonic)


class FakeTracker:
    """An HTTP server on loopback dispatching to `route(method, path, query, body)`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: list[tuple[int, dict, bool]] = []  # status, headers, after the work
        self.lock = threading.RLock()
        self._clock = time.time()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def stamp(self) -> datetime:
        """The time of the next change: a second after the last, as payloads count seconds."""
        with self.lock:
            self._clock = max(self._clock + 1, time.time())
            return datetime.fromtimestamp(int(self._clock), UTC)

    def fail(self, status: int, *, times: int = 1, retry_after: int | None = None,
             after_work: bool = False) -> None:
        """The next `times` calls answer `status`; with `after_work`, after doing the work."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self.lock:
            self.failures.extend([(status, headers, after_work)] * times)

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]

    def authorised(self, headers: dict) -> bool:
        raise NotImplementedError

    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object, dict]:
        raise NotImplementedError

    def unauthorised(self) -> tuple[int, object, dict]:
        return 401, {"message": "Bad credentials"}, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                query = dict(parse_qsl(parts.query))
                with fake.lock:
                    fake.calls.append(Call(self.command, parts.path, query, body,
                                           dict(self.headers)))
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure and not failure[2]:
                    status, answer, headers = failure[0], {"message": "Server Error"}, failure[1]
                elif not fake.authorised(dict(self.headers)):
                    status, answer, headers = fake.unauthorised()
                else:
                    with fake.lock:
                        status, answer, headers = fake.route(self.command, parts.path, query,
                                                             body)
                    if failure:
                        status, answer, headers = failure[0], {"message": "Bad Gateway"}, \
                            failure[1]
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _serve

        return Handler


# --- GitHub -----------------------------------------------------------------------------------

class FakeGitHub(FakeTracker):
    TOKEN = "ghp_fake_token_0123456789"

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[str, dict] = {}  # "owner/repo#n" → REST issue object
        self.deleted: set[str] = set()
        self.moved: dict[str, str] = {}  # old reference → new reference
        self._numbers: dict[str, int] = {}

    def authorised(self, headers):
        return headers.get("Authorization") == f"Bearer {self.TOKEN}"

    def _new_issue(self, repo: str, title: str, body: str) -> dict:
        number = self._numbers[repo] = self._numbers.get(repo, 0) + 1
        owner, name = repo.split("/")
        api = f"{self.url}/repos/{repo}"
        stamp = iso(self.stamp())
        issue = {
            "url": f"{api}/issues/{number}", "repository_url": api,
            "labels_url": f"{api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "events_url": f"{api}/issues/{number}/events",
            "html_url": f"https://github.com/{repo}/issues/{number}",
            "id": 444500000 + len(self.issues) + 1, "node_id": "MDU6SXNzdWU0NDQ1MDAwNDE=",
            "number": number, "title": title, "body": body,
            "user": {"login": "linecheck-bot", "id": 21031067, "type": "Bot"},
            "labels": [], "state": "open", "locked": False, "assignee": None, "assignees": [],
            "milestone": None, "comments": 0, "created_at": stamp, "updated_at": stamp,
            "closed_at": None, "author_association": "NONE", "active_lock_reason": None,
            "state_reason": None,
            "reactions": {"url": f"{api}/issues/{number}/reactions", "total_count": 0},
        }
        self.issues[f"{owner}/{name}#{number}"] = issue
        return issue

    def route(self, method, path, query, body):
        found = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues(?:/(\d+))?", path)
        if not found:
            return 404, {"message": "Not Found"}, {}
        repo, number = found.groups()
        if method == "POST" and number is None:
            if not isinstance(body, dict) or not body.get("title"):
                return 422, {"message": "Validation Failed"}, {}
            return 201, self._new_issue(repo, body["title"], body.get("body") or ""), {}
        if method == "GET" and number is None:
            listed = [i for ref, i in self.issues.items() if ref.startswith(repo + "#")
                      and ref not in self.deleted and i["updated_at"] >= query.get("since", "")]
            listed.sort(key=lambda i: i["number"], reverse=True)
            return 200, listed[: int(query.get("per_page", 30))], {}
        reference = f"{repo}#{number}"
        if reference in self.moved:
            new = self.issues[self.moved[reference]]
            return 301, {"message": "Moved Permanently", "url": new["url"]}, {
                "Location": new["url"]}
        if reference in self.deleted:
            return 410, {"message": "This issue was deleted"}, {}
        if reference not in self.issues:
            return 404, {"message": "Not Found"}, {}
        return 200, self.issues[reference], {}

    # -- a person in GitHub --------------------------------------------------------------------
    def close(self, reference: str, reason: str = "completed") -> dict:
        with self.lock:
            issue = self.issues[reference]
            issue.update(state="closed", state_reason=reason, closed_at=iso(self.stamp()),
                         updated_at=iso(self.stamp()))
            return issue

    def reopen(self, reference: str) -> dict:
        with self.lock:
            issue = self.issues[reference]
            issue.update(state="open", state_reason="reopened", closed_at=None,
                         updated_at=iso(self.stamp()))
            return issue

    def assign(self, reference: str, login: str) -> dict:
        with self.lock:
            issue = self.issues[reference]
            person = {"login": login, "id": 583231, "type": "User"}
            issue.update(assignee=person, assignees=[person], updated_at=iso(self.stamp()))
            return issue

    def event(self, action: str, reference: str, **extra) -> dict:
        """An `issues` webhook body for the issue as it is now."""
        issue = self.issues[reference]
        repo = reference.split("#")[0]
        return {"action": action, "issue": json.loads(json.dumps(issue)),
                "repository": {"id": 186853002, "name": repo.split("/")[1],
                               "full_name": repo, "private": False,
                               "html_url": f"https://github.com/{repo}"},
                "sender": {"login": "Codertocat", "id": 21031067, "type": "User"}, **extra}


# --- Jira -------------------------------------------------------------------------------------

JIRA_CATEGORIES = {"new": (2, "To Do", "blue-gray"), "indeterminate": (4, "In Progress", "yellow"),
                   "done": (3, "Done", "green")}


class FakeJira(FakeTracker):
    EMAIL = "bot@acme.test"
    TOKEN = "ATATT3xFfGF0-fake"
    SITE = "https://acme.atlassian.net"

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[str, dict] = {}  # id → REST issue
        self.deleted: set[str] = set()
        self.created_fields: list[dict] = []

    def authorised(self, headers):
        expected = base64.b64encode(f"{self.EMAIL}:{self.TOKEN}".encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def unauthorised(self):
        return 401, {"errorMessages": ["Client must be authenticated to access this resource."]}, {}

    def _find(self, id_or_key: str) -> dict | None:
        for issue in self.issues.values():
            if id_or_key in (issue["id"], issue["key"], *issue.get("_old_keys", [])):
                return issue
        return None

    @staticmethod
    def _public(issue: dict) -> dict:
        return {k: v for k, v in issue.items() if not k.startswith("_")}

    def route(self, method, path, query, body):
        if method == "POST" and path == "/rest/api/3/issue":
            fields = (body or {}).get("fields") or {}
            if not (fields.get("summary") and (fields.get("project") or {}).get("key")
                    and (fields.get("description") or {}).get("type") == "doc"):
                return 400, {"errorMessages": [], "errors": {"summary": "required"}}, {}
            self.created_fields.append(fields)
            project = fields["project"]["key"]
            issue_id = str(10000 + len(self.issues) + 1)
            number = sum(1 for i in self.issues.values() if i["key"].startswith(project)) + 1
            key = f"{project}-{number}"
            self.issues[issue_id] = {
                "expand": "renderedFields,names,schema", "id": issue_id,
                "self": f"{self.SITE}/rest/api/3/issue/{issue_id}", "key": key,
                "fields": {"summary": fields["summary"], "labels": fields.get("labels", []),
                           "status": self._status("new"), "resolution": None, "assignee": None,
                           "duedate": None, "resolutiondate": None, "updated": self._now()}}
            return 201, {"id": issue_id, "key": key,
                         "self": f"{self.SITE}/rest/api/3/issue/{issue_id}"}, {}
        if method == "POST" and path == "/rest/api/3/search/jql":
            jql = (body or {}).get("jql", "")
            label = re.search(r'labels = "([^"]+)"', jql)
            found = [self._public(i) for i in self.issues.values() if i["id"] not in self.deleted
                     and label and label.group(1) in i["fields"]["labels"]]
            return 200, {"issues": found[: (body or {}).get("maxResults", 50)],
                         "isLast": True}, {}
        found = re.fullmatch(r"/rest/api/3/issue/([^/]+)", path)
        if method == "GET" and found:
            issue = self._find(found.group(1))
            if issue is None or issue["id"] in self.deleted:
                return 404, {"errorMessages": ["Issue does not exist or you do not have "
                                               "permission to see it."], "errors": {}}, {}
            return 200, self._public(issue), {}
        return 404, {"errorMessages": ["not found"]}, {}

    def _now(self) -> str:
        return self.stamp().strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    @staticmethod
    def _status(category: str, name: str | None = None) -> dict:
        cat_id, cat_name, colour = JIRA_CATEGORIES[category]
        name = name or cat_name
        return {"self": "https://acme.atlassian.net/rest/api/3/status/10001",
                "description": "", "iconUrl": "https://acme.atlassian.net/", "name": name,
                "id": str(10000 + cat_id),
                "statusCategory": {"self": "https://acme.atlassian.net/rest/api/3/statuscategory/"
                                           f"{cat_id}", "id": cat_id, "key": category,
                                   "colorName": colour, "name": cat_name}}

    # -- a person in Jira ----------------------------------------------------------------------
    def transition(self, key: str, category: str, *, name: str | None = None,
                   resolution: str | None = None) -> dict:
        """Move the issue to a status of that category; returns the webhook changelog."""
        with self.lock:
            issue = self._find(key)
            fields = issue["fields"]
            before = fields["status"]["name"]
            fields["status"] = self._status(category, name)
            fields["resolution"] = {"self": "https://acme.atlassian.net/rest/api/3/resolution/1",
                                    "id": "10000", "description": "", "name": resolution} \
                if resolution else None
            fields["resolutiondate"] = self._now() if category == "done" else None
            fields["updated"] = self._now()
            return {"id": "10125", "items": [{
                "field": "status", "fieldtype": "jira", "fieldId": "status",
                "from": "10000", "fromString": before, "to": "10001",
                "toString": fields["status"]["name"]}]}

    def assign(self, key: str, name: str) -> None:
        with self.lock:
            fields = self._find(key)["fields"]
            fields["assignee"] = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": name,
                                  "active": True}
            fields["updated"] = self._now()

    def move(self, key: str, project: str) -> str:
        with self.lock:
            issue = self._find(key)
            issue.setdefault("_old_keys", []).append(issue["key"])
            issue["key"] = f"{project}-{len(self.issues) + 40}"
            issue["fields"]["updated"] = self._now()
            return issue["key"]

    def event(self, webhook_event: str, key: str, changelog: dict | None = None) -> dict:
        """A Jira webhook body (`jira:issue_updated` with its changelog, …)."""
        issue = self._public(self._find(key))
        body = {"timestamp": int(time.time() * 1000), "webhookEvent": webhook_event,
                "issue_event_type_name": "issue_generic",
                "user": {"self": f"{self.SITE}/rest/api/2/user?accountId=5b10a2844c20165700ede21g",
                         "accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof",
                         "active": True},
                "issue": json.loads(json.dumps(issue))}
        if changelog is not None:
            body["changelog"] = changelog
        return body


# --- Linear -----------------------------------------------------------------------------------

LINEAR_STATES = {"backlog": "Backlog", "unstarted": "Todo", "started": "In Progress",
                 "completed": "Done", "canceled": "Canceled"}


class FakeLinear(FakeTracker):
    KEY = "lin_api_fake0123456789"
    TEAM = "9cfb482a-81e3-4154-b5b9-2c805e70a02d"

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[str, dict] = {}  # uuid → issue

    def authorised(self, headers):
        return headers.get("Authorization") == self.KEY

    def unauthorised(self):
        return 400, {"errors": [{"message": "Authentication required, not authenticated",
                                 "extensions": {"code": "AUTHENTICATION_ERROR",
                                                "type": "authentication error"}}]}, {}

    def route(self, method, path, query, body):
        text = (body or {}).get("query", "")
        variables = (body or {}).get("variables") or {}
        if "issueCreate" in text:
            data = variables.get("input") or {}
            if data.get("teamId") != self.TEAM or not data.get("title"):
                return 200, {"errors": [{"message": "Argument Validation Error",
                                         "extensions": {"code": "INVALID_INPUT"}}],
                             "data": None}, {}
            issue_id = data.get("id") or str(uuid.uuid4())
            if issue_id in self.issues:
                return 200, {"errors": [{"message": "Entity already exists",
                                         "extensions": {"code": "INVALID_INPUT"}}],
                             "data": None}, {}
            number = len(self.issues) + 1
            stamp = iso(self.stamp())
            self.issues[issue_id] = {
                "id": issue_id, "identifier": f"ENG-{number}", "title": data["title"],
                "description": data.get("description", ""),
                "url": f"https://linear.app/acme/issue/ENG-{number}/x", "createdAt": stamp,
                "updatedAt": stamp, "completedAt": None, "canceledAt": None, "dueDate": None,
                "state": {"id": "s-unstarted", "name": "Todo", "type": "unstarted",
                          "color": "#e2e2e2"},
                "assignee": None, "team": {"id": self.TEAM, "key": "ENG", "name": "Engineering"}}
            return 200, {"data": {"issueCreate": {"success": True,
                                                  "issue": self._out(self.issues[issue_id])}}}, {}
        if re.search(r"\bissue\(id:", text):
            wanted = variables.get("id")
            issue = self.issues.get(wanted) or next(
                (i for i in self.issues.values() if i["identifier"] == wanted), None)
            if issue is None:
                return 200, {"errors": [{"message": "Entity not found: Issue",
                                         "extensions": {"code": "INVALID_INPUT"}}],
                             "data": None}, {}
            return 200, {"data": {"issue": self._out(issue)}}, {}
        return 400, {"errors": [{"message": "Unknown query",
                                 "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}, {}

    @staticmethod
    def _out(issue: dict) -> dict:
        wanted = ("id", "identifier", "url", "updatedAt", "completedAt", "canceledAt", "dueDate",
                  "state", "assignee")
        return {k: ({"name": v["name"], "type": v["type"]} if k == "state" else
                    {"name": v["name"]} if k == "assignee" and v else v)
                for k, v in issue.items() if k in wanted}

    # -- a person in Linear --------------------------------------------------------------------
    def set_state(self, issue_id: str, kind: str) -> dict:
        """Move the issue to a workflow state of that type; returns `updatedFrom`."""
        with self.lock:
            issue = self.issues[issue_id]
            before = {"stateId": issue["state"]["id"], "updatedAt": issue["updatedAt"]}
            issue["state"] = {"id": f"s-{kind}", "name": LINEAR_STATES[kind], "type": kind,
                              "color": "#5e6ad2"}
            issue["completedAt"] = iso(self.stamp()) if kind == "completed" else None
            issue["canceledAt"] = iso(self.stamp()) if kind == "canceled" else None
            issue["updatedAt"] = iso(self.stamp())
            return before

    def event(self, action: str, issue_id: str, updated_from: dict | None = None,
              timestamp_ms: int | None = None) -> dict:
        """A Linear data-change webhook body for the issue as it is now."""
        issue = json.loads(json.dumps(self.issues[issue_id]))
        body = {"action": action, "type": "Issue",
                "actor": {"id": "2e6eea91-1111-0000-9999-000000000000", "name": "Mia",
                          "type": "user"},
                "createdAt": issue["updatedAt"], "data": issue, "url": issue["url"],
                "organizationId": "0f1ab9c1-0000-4000-8000-000000000001",
                "webhookTimestamp": timestamp_ms if timestamp_ms is not None
                else int(time.time() * 1000),
                "webhookId": "000042e3-d123-4980-b49f-8e140eef9329"}
        if updated_from is not None:
            body["updatedFrom"] = updated_from
        return body


# --- signing deliveries as each vendor does -------------------------------------------------

def jira_delivery(body, *, secret: str | None, identifier: str | None = None) -> dict:
    """`client.post` keyword arguments for a Jira admin webhook delivery (X-Hub-Signature)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"X-Atlassian-Webhook-Identifier": identifier or str(uuid.uuid4()),
               "User-Agent": "Atlassian Webhook HTTP Client"}
    if secret is not None:
        digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature"] = f"sha256={digest}"
    return {"data": raw, "content_type": "application/json", "headers": headers}


def linear_delivery(body, *, secret: str | None, delivery: str | None = None) -> dict:
    """`client.post` keyword arguments for a Linear webhook delivery (Linear-Signature)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Linear-Delivery": delivery or str(uuid.uuid4()), "Linear-Event": "Issue",
               "User-Agent": "Linear-Webhook"}
    if secret is not None:
        headers["Linear-Signature"] = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"data": raw, "content_type": "application/json; charset=utf-8", "headers": headers}


# --- fixtures ---------------------------------------------------------------------------------

JIRA_SECRET = "jira-test-webhook-secret"
LINEAR_SECRET = "linear-test-webhook-secret"


@pytest.fixture(name="fake_github")
def _fake_github_fixture():
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


@pytest.fixture(name="fake_jira")
def _fake_jira_fixture():
    fake = FakeJira().start()
    yield fake
    fake.stop()


@pytest.fixture(name="fake_linear")
def _fake_linear_fixture():
    fake = FakeLinear().start()
    yield fake
    fake.stop()


def tracker_settings(fake_github, fake_jira, fake_linear) -> dict:
    """Settings pointing every tracker API at its fake, with the fakes' credentials."""
    return {"GITHUB_API_URL": fake_github.url, "GITHUB_TOKEN": FakeGitHub.TOKEN,
            "JIRA_API_URL": fake_jira.url, "JIRA_EMAIL": FakeJira.EMAIL,
            "JIRA_API_TOKEN": FakeJira.TOKEN, "JIRA_WEBHOOK_SECRET": JIRA_SECRET,
            "LINEAR_API_URL": f"{fake_linear.url}/graphql", "LINEAR_API_KEY": FakeLinear.KEY,
            "LINEAR_WEBHOOK_SECRET": LINEAR_SECRET}


@pytest.fixture(name="app_config")
def _tracker_app_config_fixture(app_config, fake_github, fake_jira, fake_linear):
    """The shared test settings, with every tracker API pointed at its fake."""
    return {**app_config, **tracker_settings(fake_github, fake_jira, fake_linear)}


# --- arranging tracked items ------------------------------------------------------------------

PROJECTS = {"github": ("payments", "acme/checkout"), "jira": ("platform", "OPS"),
            "linear": ("search", FakeLinear.TEAM)}


def configure_tracker(app, vendor: str, *, credential: str | None = None):
    """Give the vendor's team (payments / platform / search) its tracker; returns the team."""
    from incidents.appdb import new_session
    from incidents.tracker import service as trackers

    team, project = PROJECTS[vendor]
    with app.app_context(), new_session() as session:
        trackers.save_tracker(session=session, team=team, vendor=vendor, project=project,
                              site_url=FakeJira.SITE if vendor == "jira" else None,
                              credential=credential)
        session.commit()
    return team


def make_item(session, team: str, *, kind: str = "detect", title: str = "Contract test for "
              "the payments API", incident_id: int | None = None):
    from incidents.prevention import service as prevention

    item = prevention.create_item(session=session, title=title, kind=kind, owner_team=team)
    if incident_id is not None:
        from incidents.incident.models import Incident

        prevention.link(session=session, incident=session.get(Incident, incident_id), item=item)
    session.commit()
    return item


def run_job(app, job, **kwargs):
    """Run one tracker job in a transaction of its own, as the worker does; its result."""
    from incidents.appdb import new_session

    with app.app_context(), new_session() as session:
        result = job(session=session, **kwargs)
        session.commit()
        return result
