"""Real processes, killed: the app (gunicorn) right after it answered Slack, a worker in the
middle of creating a channel, a worker told to stop mid-post. Afterwards every channel exists
once, every notice is posted once, every pin lands once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import select

from incidents import ROOT
from incidents.incident.models import Incident
from incidents.outbox.models import JobState, OutboxJob
from incidents.timeline.models import EventKind, TimelineEvent
from tests.fake_slack import INCIDENT_CHANNEL as CHANNEL
from tests.fake_slack import (  # noqa: F401  (fixtures)
    SlackSender,
    _fake_slack_fixture,
    _incident_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
    reaction_event,
    reload,
)

pytestmark = pytest.mark.slow
BIN = os.path.join(ROOT, ".venv", "bin")
TS = "1763790000.000200"


@pytest.fixture
def env(app, fake_slack) -> dict:
    """The environment of a production process: the test's database, the fake Slack."""
    config = app.config
    environment = {**os.environ, "DATABASE_URL": config["DATABASE_URL"],
                   "SECRET_KEY": "crash-test-" + "k" * 40,
                   "SLACK_SIGNING_SECRET": config["SLACK_SIGNING_SECRET"],
                   "SLACK_BOT_TOKEN": config["SLACK_BOT_TOKEN"],
                   "SLACK_API_URL": fake_slack.api_url,
                   "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
                   "OUTBOX_BACKOFF_SECONDS": "0.05", "OUTBOX_POLL_SECONDS": "0.1"}
    environment.pop("FLASK_DEBUG", None)
    return environment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(args: list[str], env: dict, log) -> subprocess.Popen:
    # A session of its own, so SIGKILL reaches gunicorn's workers too.
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def worker_drain(env: dict) -> str:
    done = subprocess.run([f"{BIN}/flask", "--app", "app", "worker", "--drain"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def jobs(session) -> list[OutboxJob]:
    session.rollback()
    session.expire_all()
    return list(session.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def test_app_killed_after_answering_loses_nothing(env, fake_slack, incident, session, tmp_path):
    fake_slack.add_message(CHANNEL, TS, "error rate is dropping", user="U-bob")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115  (closed below)
    server = start([f"{BIN}/gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                    "app:create_app()"], env, log)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/login", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.1)
        sender = SlackSender(None, env["SLACK_SIGNING_SECRET"], fake_slack)

        def post(path, body: bytes, content_type):
            headers = {**sender.headers(body), "Content-Type": content_type}
            answer = requests.post(base + path, data=body, headers=headers, timeout=10)
            assert answer.status_code == 200, answer.text
            return answer

        form = "application/x-www-form-urlencoded"
        command = {"command": "/incident", "user_id": "U-alice", "user_name": "alice",
                   "channel_id": "C-general", "response_url": fake_slack.response_url("cmd")}
        declared = post("/slack/commands", urlencode({**command, "text": "declare DB down"})
                        .encode(), form)
        assert "Declared" in declared.json()["text"]
        post("/slack/commands", urlencode({**command, "channel_id": CHANNEL,
                                           "text": "status identified"}).encode(), form)
        post("/slack/events", json.dumps(reaction_event("Ev-kill", CHANNEL, TS)).encode(),
             "application/json")
    finally:
        kill(server)  # SIGKILL, right after the answers: no chance to do anything more
        log.close()
    assert fake_slack.calls == []  # nothing was done in the requests themselves

    worker_drain(env)  # a worker started afterwards
    worker_drain(env)  # and another run: nothing twice

    assert len(fake_slack.calls_to("conversations.create")) == 1
    session.rollback()
    declared = session.scalar(select(Incident).where(Incident.title == "DB down"))
    assert declared.slack_channel_id == fake_slack.channels[declared.slack_channel_name]["id"]
    posts = fake_slack.calls_to("chat.postMessage")
    assert sum(p["channel"] == CHANNEL and "investigating → *identified*" in p["text"]
               for p in posts) == 1
    assert sum(p["channel"] == declared.slack_channel_id for p in posts) == 1  # announced
    pinned = session.scalars(select(TimelineEvent.text).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.MESSAGE)).all()
    assert pinned == ["error rate is dropping"]
    assert {job.state for job in jobs(session)} == {JobState.DONE}


def test_worker_killed_mid_job_another_finishes_without_a_second_channel(
        app, env, slack, fake_slack, session, tmp_path):
    slack.command("declare Search latency")
    fake_slack.delay["conversations.create"] = 3.0
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115  (closed below)
    worker = start([f"{BIN}/flask", "--app", "app", "worker"],
                   {**env, "OUTBOX_LEASE_SECONDS": "1"}, log)
    try:
        fake_slack.wait_for("conversations.create", timeout=30)
    finally:
        kill(worker)  # while Slack is creating the channel
        log.close()
    [job] = [j for j in jobs(session) if j.kind == "slack.channel"]
    assert job.state == JobState.QUEUED and job.leased_by is not None  # claimed, never finished
    fake_slack.delay.clear()
    slack.drain()  # another worker: takes the job once its lease runs out
    assert len(fake_slack.channels) == 1
    incident = session.scalars(select(Incident)).one()
    session.refresh(incident)
    assert incident.slack_channel_id == next(iter(fake_slack.channels.values()))["id"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert {j.state for j in jobs(session)} == {JobState.DONE}


def test_sigterm_finishes_the_job_in_hand_then_stops(env, slack, fake_slack, incident, session,
                                                     tmp_path):
    slack.command("sev 1", channel_id=CHANNEL)
    fake_slack.delay["chat.postMessage"] = 1.5
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115  (closed below)
    worker = start([f"{BIN}/flask", "--app", "app", "worker"], env, log)
    try:
        fake_slack.wait_for("chat.postMessage", timeout=30)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0
    finally:
        if worker.poll() is None:
            kill(worker)
        log.close()
    [notice] = [j for j in jobs(session) if j.kind == "slack.notice"]
    assert notice.state == JobState.DONE and notice.attempts == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
