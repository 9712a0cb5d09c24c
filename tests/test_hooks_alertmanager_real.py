"""A real Alertmanager (Debian's prometheus-alertmanager) notifying the app over HTTP.

One Alertmanager per module, with short group_wait/group_interval/repeat_interval, no cluster
port, its own storage; alerts are injected with `amtool alert add` (`--start`/`--end` fire and
resolve them). Its webhook receivers post, with a `hooks:alertmanager` bearer token from
`http_config.authorization`, to a small loopback front that hands each notification to the
app of the test whose `scenario` label it carries, and keeps a copy so a test can check that
Alertmanager really sent the case it exercises. Each test waits on conditions in the database
with a deadline, never on a fixed sleep.

A missing package fails these tests (never skips): `make test` installs it.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from incidents.auth.models import ApiToken
from incidents.auth.service import hash_token
from tests.hooks_payloads import incidents, timeline

ALERTMANAGER = os.environ.get("ALERTMANAGER_PATH", "/usr/bin/prometheus-alertmanager")
AMTOOL = os.environ.get("AMTOOL_PATH", "/usr/bin/amtool")
TOKEN = "lc_alertmanager-test-token-" + uuid.uuid4().hex
DEADLINE = 30  # seconds for one expected outcome; a healthy run needs a few


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Front:
    """The loopback address Alertmanager posts to: each notification goes to the app of the
    test that owns its scenario (others, from earlier tests' groups, are acknowledged)."""

    def __init__(self):
        self.apps: dict[str, object] = {}
        self.sent: dict[str, list[dict]] = {}
        self.lock = threading.Condition()
        self.in_flight = 0

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        scenario = json.loads(body).get("groupLabels", {}).get("scenario")
        with self.lock:
            app = self.apps.get(scenario)
            if app is None:
                start_response("200 OK", [("Content-Type", "application/json")])
                return [b"{}"]
            self.sent[scenario].append(json.loads(body))
            self.in_flight += 1
        try:
            environ["wsgi.input"] = io.BytesIO(body)
            return list(app(environ, start_response))
        finally:
            with self.lock:
                self.in_flight -= 1
                self.lock.notify_all()

    def forget(self, scenario: str) -> None:
        """Stop handing the scenario's notifications on, once those under way are done."""
        with self.lock:
            del self.apps[scenario]
            self.lock.wait_for(lambda: self.in_flight == 0, timeout=DEADLINE)


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory):
    for binary in (ALERTMANAGER, AMTOOL):
        if not os.path.exists(binary):
            pytest.fail(f"{binary} not found; `make test` installs Debian's "
                        "prometheus-alertmanager (apt-get install prometheus-alertmanager)")
    front = Front()
    server = make_server("127.0.0.1", 0, front, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_port}/hooks/alertmanager"
    receiver = {"url": hook, "send_resolved": True,
                "http_config": {"authorization": {"type": "Bearer", "credentials": TOKEN}}}
    config = {
        "route": {
            "receiver": "linecheck", "group_by": ["scenario"],
            "group_wait": "1s", "group_interval": "1s", "repeat_interval": "2s",
            "routes": [{"matchers": ['truncate="yes"'], "receiver": "linecheck-max-one"}],
        },
        "receivers": [
            {"name": "linecheck", "webhook_configs": [receiver]},
            {"name": "linecheck-max-one", "webhook_configs": [{**receiver, "max_alerts": 1}]},
        ],
    }
    where = tmp_path_factory.mktemp("alertmanager")
    (where / "alertmanager.yml").write_text(json.dumps(config))  # JSON is YAML
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(where / "alertmanager.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={where / 'alertmanager.yml'}",
         f"--storage.path={where / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address=", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=log)
    try:
        _wait(lambda: _ready(url), "Alertmanager to answer /-/ready", process=process,
              log=where / "alertmanager.log")
        yield url, front
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        server.shutdown()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def _wait(condition, what: str, *, process=None, log=None, deadline: float = DEADLINE):
    """Poll `condition` until it holds; fail naming `what` when the deadline passes."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        result = condition()
        if result:
            return result
        if process is not None and process.poll() is not None:
            pytest.fail(f"Alertmanager exited: {log.read_text() if log else ''}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def am(alertmanager, app, session):
    """This test's scenario: an Alertmanager label, the app behind it, and `amtool`."""
    url, front = alertmanager
    session.add(ApiToken(name="alertmanager", token_hash=hash_token(TOKEN), prefix=TOKEN[:10],
                         scopes="hooks:alertmanager"))
    session.commit()
    scenario = uuid.uuid4().hex[:12]
    with front.lock:
        front.apps[scenario] = app
        front.sent[scenario] = []
    yield Scenario(url, front, scenario)
    front.forget(scenario)


class Scenario:
    def __init__(self, url, front, name):
        self.url, self.front, self.name = url, front, name

    def add(self, alertname, *, start, end=None, **labels):
        """`amtool alert add` one alert of this scenario's group (resolved when `end` is)."""
        args = [AMTOOL, "alert", "add", f"--alertmanager.url={self.url}", alertname,
                f"scenario={self.name}", *(f"{k}={v}" for k, v in labels.items()),
                f"--annotation=summary={alertname} in {self.name}",
                f"--start={_rfc3339(start)}"]
        if end is not None:
            args.append(f"--end={_rfc3339(end)}")
        subprocess.run(args, check=True, capture_output=True, timeout=20)

    def sent(self) -> list[dict]:
        with self.front.lock:
            return list(self.front.sent[self.name])


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _alert_events(session, incident_id):
    return [(e.kind, e.fingerprint, e.external_key) for e in timeline(session, incident_id)
            if e.fingerprint]


def _one_incident(session):
    found = incidents(session)
    return found[0] if len(found) == 1 else None


def test_a_flapping_alert_that_refires_without_a_resolve_still_resolves_its_incident(am, session):
    started = _now() - timedelta(minutes=5)
    am.add("DiskFull", start=started, severity="warning", instance="db-1")
    first = _wait(lambda: _one_incident(session), "the first notification's incident")
    _wait(lambda: am.sent(), "a notification")

    # Resolved and firing again before the next flush, as Prometheus does for a rule that is
    # off for a moment: Alertmanager only ever sends the new instance.
    ended = _now() - timedelta(seconds=2)
    am.add("DiskFull", start=started, end=ended, severity="warning", instance="db-1")
    am.add("DiskFull", start=ended + timedelta(seconds=1), severity="warning", instance="db-1")
    _wait(lambda: sum(kind == "alert" for kind, _, _ in _alert_events(session, first.id)) == 2,
          "the new instance of the alert on the incident")

    assert not any(a["status"] == "resolved" for body in am.sent() for a in body["alerts"]), \
        "Alertmanager sent the old instance's resolve: this run did not flap"
    kinds = [kind for kind, _, _ in _alert_events(session, first.id)]
    assert kinds == ["alert", "resolution", "alert"]  # the old firing ended by the new one
    assert _one_incident(session).status == "investigating"

    am.add("DiskFull", start=ended + timedelta(seconds=1), end=_now(), severity="warning",
           instance="db-1")
    resolved = _wait(lambda: (i := _one_incident(session)) and i.status == "resolved" and i,
                     "the incident to resolve with the group")
    assert len(incidents(session)) == 1
    assert resolved.resolved_at >= resolved.started_at


def test_a_truncated_group_never_resolves_on_a_partial_view(am, session):
    start = _now() - timedelta(minutes=1)
    am.add("QueueBacklog", start=start, truncate="yes", instance="a", severity="critical")
    am.add("QueueBacklog", start=start, truncate="yes", instance="b", severity="critical")
    incident = _wait(lambda: _one_incident(session), "the incident")
    _wait(lambda: any(body["truncatedAlerts"] == 1 for body in am.sent()),
          "a notification with one alert hidden by max_alerts")

    # Only the visible alert resolves: Alertmanager says "resolved", from the visible one.
    am.add("QueueBacklog", start=start, end=_now(), truncate="yes", instance="a",
           severity="critical")
    partial = _wait(lambda: next((b for b in am.sent() if b["status"] == "resolved"), None),
                    "the partial resolved notification")
    assert partial["truncatedAlerts"] == 1
    _wait(lambda: ("resolution", partial["alerts"][0]["fingerprint"]) in
          [(k, f) for k, f, _ in _alert_events(session, incident.id)],
          "the visible alert's resolution on the incident")
    assert _one_incident(session).status == "investigating"

    am.add("QueueBacklog", start=start, end=_now(), truncate="yes", instance="b",
           severity="critical")
    _wait(lambda: (i := _one_incident(session)) and i.status == "resolved",
          "the incident to resolve once the whole group has")
    assert len(incidents(session)) == 1


def test_the_worst_alert_of_the_first_notification_opens_the_incident(am, session):
    # Started now: a new group waits group_wait for more alerts (an older one flushes at once).
    start = _now()
    am.add("HighLatency", start=start, severity="warning", instance="api-1")
    am.add("HighLatency", start=start, severity="critical", instance="api-2")
    opened = _wait(lambda: _one_incident(session), "the incident")
    assert [len(body["alerts"]) for body in am.sent()][:1] == [2], am.sent()
    assert opened.severity == "SEV1"


def test_a_critical_alert_joining_a_warning_incident_raises_its_severity(am, session):
    start = _now() - timedelta(minutes=1)
    am.add("ErrorRate", start=start, severity="warning", instance="api-1")
    opened = _wait(lambda: _one_incident(session), "the incident")
    assert opened.severity == "SEV3"

    am.add("ErrorRate", start=start, severity="critical", instance="api-2")
    raised = _wait(lambda: (i := _one_incident(session)) and i.severity == "SEV1" and i,
                   "the severity to rise")
    texts = [e.text for e in timeline(session, raised.id)]
    assert any(t.startswith("Severity raised from SEV3 to SEV1") for t in texts)


def test_a_refire_within_the_resend_window_keeps_the_old_resolve_off_the_new_incident(am,
                                                                                     session):
    started = _now() - timedelta(minutes=3)
    am.add("CacheMiss", start=started, instance="cache-1", severity="warning")
    first = _wait(lambda: _one_incident(session), "the first incident")
    ended = _now() - timedelta(seconds=1)
    am.add("CacheMiss", start=started, end=ended, instance="cache-1", severity="warning")
    _wait(lambda: (i := _one_incident(session)) and i.status == "resolved",
          "the first incident to resolve")

    # Prometheus keeps re-sending the resolved alert for ~15 minutes; another alert of the
    # group fires meanwhile: both arrive in the new group's first notification.
    am.add("CacheMiss", start=_now(), instance="cache-2", severity="warning")
    am.add("CacheMiss", start=started, end=ended, instance="cache-1", severity="warning")
    second = _wait(lambda: next((i for i in incidents(session) if i.id != first.id), None),
                   "the second incident")
    opening = next(body for body in am.sent()
                   if any(a["labels"]["instance"] == "cache-2" for a in body["alerts"]))
    stale = [a for a in opening["alerts"] if a["labels"]["instance"] == "cache-1"]
    assert stale and stale[0]["status"] == "resolved", "the resend did not reach the new group"

    assert [(k, f) for k, f, _ in _alert_events(session, second.id)] == [
        ("alert", next(a["fingerprint"] for a in opening["alerts"]
                       if a["labels"]["instance"] == "cache-2"))]
    assert second.started_at > first.resolved_at
    session.rollback()
    assert session.scalar(select(ApiToken.last_used_at)) is not None  # the token was used
