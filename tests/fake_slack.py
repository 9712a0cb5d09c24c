"""A fake Slack for tests: its Web API and response_url endpoints on loopback, and requests
signed the way Slack signs them.

The app's real slack-sdk WebClient talks to it through SLACK_API_URL; nothing is patched.
It records every call and answers like Slack: `{"ok": true, …}` bodies, error bodies such
as `name_taken`, 429 with Retry-After, and a configurable delay.
"""

from __future__ import annotations

import json
import threading
import time
import zoneinfo
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from slack_sdk.signature import SignatureVerifier

from incidents.incident import service as incidents
from incidents.outbox import service as outbox

# pygal (imported with the report pages) adds an import hook without find_spec, so with
# warnings as errors a module first imported after it fails; user creation would import
# tzdata late (available_timezones), so import it now.
zoneinfo.available_timezones()


BOT_USER = "U-bot"


@dataclass
class Call:
    method: str
    params: dict
    headers: dict
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict] = []  # what was posted to response_url
        self.delay: dict[str, float] = {}  # method (or "*") → seconds before answering
        self.failures: dict[str, list[tuple[int, str, dict]]] = {}
        self.taken_names: set[str] = set()  # channel names someone else's channels have
        self.channels: dict[str, dict] = {}  # name → channels the bot created
        self.messages: dict[str, list[dict]] = {}  # channel → messages (and thread replies)
        self.users: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval: stop() waits for the serving loop to look (0.5 s by default).
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.01}, daemon=True)

    # -- arranging ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.url}/response/{name}"

    def fail(self, method: str, error: str, *, status: int = 200, retry_after: int | None = None,
             times: int = 1) -> None:
        """The next `times` calls to `method` answer with this error."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self.failures.setdefault(method, []).extend([(status, error, headers)] * times)

    def add_message(self, channel: str, ts: str, text: str, user: str | None = "U-author",
                    **extra) -> dict:
        message = {"type": "message", "ts": ts, "text": text, **extra}
        if user:
            message["user"] = user
        self.messages.setdefault(channel, []).append(message)
        return message

    # -- checking ----------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[dict]:
        with self._lock:
            return [call.params for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15) -> list[dict]:
        return self._wait(lambda: self.calls_to(method), count, timeout, method)

    def wait_responses(self, count: int = 1, timeout: float = 15) -> list[dict]:
        return self._wait(lambda: list(self.responses), count, timeout, "response_url")

    def _wait(self, get, count, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = get()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} call(s) to {what}, got {get()}")

    # -- serving -----------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_ts(self) -> str:
        with self._lock:
            self._counter += 1
            return f"{1_700_000_000 + self._counter}.000100"

    def _answer(self, method: str, params: dict) -> tuple[int, dict, dict]:
        with self._lock:
            queued = self.failures.get(method)
            failure = queued.pop(0) if queued else None
        if failure:
            status, error, headers = failure
            return status, {"ok": False, "error": error}, headers
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        return 200, handler(params), {}

    def _api_auth_test(self, params):
        return {"ok": True, "user_id": BOT_USER, "bot_id": "B-bot"}

    def _api_conversations_create(self, params):
        name = params.get("name", "")
        with self._lock:
            if name in self.taken_names or name in self.channels:
                return {"ok": False, "error": "name_taken"}
            self._counter += 1
            channel = {"id": f"C{self._counter:06d}", "name": name, "is_channel": True,
                       "creator": BOT_USER, "is_archived": False}
            self.channels[name] = channel
        return {"ok": True, "channel": channel}

    def _api_conversations_list(self, params):
        """Every public channel, a page at a time, as Slack documents it (cursor paging)."""
        with self._lock:
            found = list(self.channels.values()) + [
                {"id": f"C-other-{n}", "name": name, "is_channel": True, "creator": "U-other",
                 "is_archived": False} for n, name in enumerate(sorted(self.taken_names))]
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        rest = found[start + limit:]
        return {"ok": True, "channels": found[start:start + limit],
                "response_metadata": {"next_cursor": str(start + limit) if rest else ""}}

    def _api_conversations_invite(self, params):
        return {"ok": True, "channel": {"id": params.get("channel")}}

    def _api_chat_postMessage(self, params):
        return {"ok": True, "channel": params.get("channel"), "ts": self._next_ts(),
                "message": {"text": params.get("text")}}

    def _api_chat_postEphemeral(self, params):
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_views_open(self, params):
        return {"ok": True, "view": {"id": "V0001", **(params.get("view") or {})}}

    def add_user(self, user_id: str, email: str | None = None, name: str = "") -> dict:
        """A workspace member as users.info and users.lookupByEmail describe one (the email is
        in the profile only with the users:read.email scope)."""
        profile = {"real_name": name or user_id, "display_name": name or user_id}
        if email:
            profile["email"] = email
        self.users[user_id] = {"id": user_id, "team_id": "T1", "name": name or user_id,
                               "deleted": False, "is_bot": False, "real_name": name or user_id,
                               "profile": profile}
        return self.users[user_id]

    def _api_users_info(self, params):
        user = self.users.get(params.get("user"))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _api_users_lookupByEmail(self, params):
        email = (params.get("email") or "").lower()
        found = next((user for user in self.users.values()
                      if (user.get("profile") or {}).get("email", "").lower() == email), None)
        return {"ok": True, "user": found} if found else {"ok": False,
                                                          "error": "users_not_found"}

    def _api_conversations_history(self, params):
        latest, inclusive = params.get("latest"), params.get("inclusive") in ("1", "true", True)
        found = [m for m in self.messages.get(params.get("channel"), [])
                 if "thread_ts" not in m or m["thread_ts"] == m["ts"]]
        if latest:
            found = [m for m in found if float(m["ts"]) < float(latest)
                     or (inclusive and m["ts"] == latest)]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        return {"ok": True, "messages": found[: int(params.get("limit") or 100)],
                "has_more": False}

    def _api_conversations_replies(self, params):
        channel_messages = self.messages.get(params.get("channel"), [])
        target = next((m for m in channel_messages if m["ts"] == params.get("ts")), None)
        if target is None:
            return {"ok": False, "error": "thread_not_found"}
        thread = target.get("thread_ts", target["ts"])
        found = sorted((m for m in channel_messages if m.get("thread_ts", m["ts"]) == thread),
                       key=lambda m: float(m["ts"]))
        parent, replies = found[0], found[1:]
        oldest, latest = params.get("oldest"), params.get("latest")
        replies = [m for m in replies if (not oldest or float(m["ts"]) >= float(oldest))
                   and (not latest or float(m["ts"]) <= float(latest))]
        # Slack always answers with the thread's parent first.
        return {"ok": True, "messages": ([parent] + replies)[: int(params.get("limit") or 100)]}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _params(self) -> dict:
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if body:
                    if "json" in (self.headers.get("Content-Type") or ""):
                        params.update(json.loads(body))
                    else:
                        params.update(parse_qsl(body.decode()))
                return params

            def _send(self, status: int, body, headers: dict | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _serve(self):
                path = urlsplit(self.path).path
                params = self._params()
                if path.startswith("/response/"):
                    with fake._lock:
                        fake.responses.append(params)
                    self._send(200, b"ok")
                    return
                method = path.removeprefix("/api/")
                with fake._lock:
                    fake.calls.append(Call(method, params, dict(self.headers)))
                wait = fake.delay.get(method, fake.delay.get("*", 0))
                if wait:
                    time.sleep(wait)
                status, body, headers = fake._answer(method, params)
                self._send(status, body, headers)

            do_GET = _serve
            do_POST = _serve

        return Handler


class SlackSender:
    """Posts to the app's /slack/* endpoints as Slack does, signed with the signing secret."""

    def __init__(self, client, secret: str, fake: FakeSlack) -> None:
        self.client = client
        self.verifier = SignatureVerifier(secret)
        self.fake = fake

    def headers(self, body: bytes, *, timestamp: int | None = None, **extra) -> dict:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {"X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body),
                **extra}

    def post(self, path: str, body: bytes, content_type: str, **header_options):
        return self.client.post(path, data=body, content_type=content_type,
                                headers=self.headers(body, **header_options))

    def command(self, text: str, *, channel_id: str = "C-general", user_id: str = "U-alice",
                user_name: str = "alice", **header_options):
        form = {"token": "deprecated", "team_id": "T1", "team_domain": "acme",
                "channel_id": channel_id, "channel_name": "general", "user_id": user_id,
                "user_name": user_name, "command": "/incident", "text": text,
                "response_url": self.fake.response_url("cmd"), "trigger_id": "13345.trigger",
                "api_app_id": "A1"}
        return self.post("/slack/commands", urlencode(form).encode(),
                         "application/x-www-form-urlencoded", **header_options)

    def interaction(self, payload: dict, **header_options):
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post("/slack/interactions", body, "application/x-www-form-urlencoded",
                         **header_options)

    def drain(self) -> int:
        """Run what the app queued (the worker's part), waiting for retries; then assert."""
        return drain(self.client.application)

    def event(self, envelope: dict, **header_options):
        return self.post("/slack/events", json.dumps(envelope).encode(), "application/json",
                         **header_options)


def reload(session, model, ident):
    """The row as the app committed it: a new transaction, nothing from the identity map."""
    session.rollback()
    session.expire_all()
    return session.get(model, ident)


def reaction_event(event_id: str, channel: str, ts: str, *, user: str = "U-reactor",
                   reaction: str = "pushpin") -> dict:
    """An Events API envelope around reaction_added, as Slack documents it."""
    return {
        "token": "deprecated", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()),
        "event": {"type": "reaction_added", "user": user, "reaction": reaction,
                  "item_user": "U-author",
                  "item": {"type": "message", "channel": channel, "ts": ts},
                  "event_ts": f"{time.time():.6f}"},
    }


@pytest.fixture(name="fake_slack")
def _fake_slack_fixture():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(name="app_config")
def _slack_app_config_fixture(app_config, fake_slack):
    """The shared test settings, with the Web API pointed at the fake."""
    return {**app_config, "SLACK_API_URL": fake_slack.api_url}


INCIDENT_CHANNEL = "C-incident"


@pytest.fixture(name="incident")
def _incident_fixture(session):
    """An open SEV2 incident of team payments with its own Slack channel."""
    incident = incidents.declare(session=session, title="Checkout errors", severity="SEV2",
                                 service="checkout", team="payments")
    incident.slack_channel_id = INCIDENT_CHANNEL
    session.commit()
    return incident


@pytest.fixture(name="slack")
def _slack_fixture(app, client, fake_slack):
    return SlackSender(client, app.config["SLACK_SIGNING_SECRET"], fake_slack)


def drain(app) -> int:
    """Run what the app queued for Slack, as the worker would; then assert."""
    return outbox.drain(app, wait=True)
