"""Load and crash: gunicorn with several workers on PostgreSQL, mixed traffic from concurrent
clients, one worker SIGKILLed mid-run; afterwards every acknowledged delivery is stored exactly
once and nothing is half-written. Loopback only, bounded in time.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psutil
import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from incidents import ROOT
from incidents.auth import service as auth
from incidents.db import Base
from incidents.inbox.models import Delivery
from incidents.incident.models import Incident, Status
from incidents.line import service as line
from incidents.timeline.models import EventKind, TimelineEvent
from tests.conftest import BACKENDS
from tests.test_migration_upgrade import fresh_postgres

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")]

WORKERS = 3
RUN_SECONDS = 20
KILL_AT = 8
DEDUP_KEYS = [f"load-{n}" for n in range(5)]
PASSWORD = "load-test-password"


@pytest.fixture
def load_database(worker_id) -> str:
    url = fresh_postgres(worker_id, "load")
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(load_database, tmp_path):
    """gunicorn in production mode on loopback; yields (base URL, master process)."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": load_database, "SECRET_KEY": "load-" + "k" * 40}
    env.pop("FLASK_DEBUG", None)
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115  (closed below)
    master = subprocess.Popen(
        [os.path.join(ROOT, ".venv", "bin", "gunicorn"), "--workers", str(WORKERS),
         "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "5",
         "app:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/login", timeout=5).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or workers still booting
            time.sleep(0.2)
    else:
        master.kill()
        pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text())
    yield base, master
    master.send_signal(signal.SIGTERM)
    try:
        master.wait(timeout=15)
    except subprocess.TimeoutExpired:
        master.kill()
        master.wait()
    log.close()


@dataclass
class Tally:
    """What the clients saw; shared by every client thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: set[str] = field(default_factory=set)  # hook event_ids answered 2xx
    created: set[int] = field(default_factory=set)  # incidents the API answered 201 for
    notes: set[int] = field(default_factory=set)  # timeline events the API answered 201 for
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    connection_errors: int = 0

    def saw(self, response, what: str) -> bool:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{what}: {response.status_code} {response.text[:200]}")
        return 200 <= response.status_code < 300


def hook_sender(base, token, tally, stop, seed):
    """A paging tool: notes and triggers, each retried until acknowledged, some sent twice."""
    rnd = random.Random(seed)
    http = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    pending: list[dict] = []
    n = 0
    while not stop.is_set():
        if pending and rnd.random() < 0.5:
            body = pending.pop(0)  # a retry of an unacknowledged delivery
        elif tally.acknowledged and rnd.random() < 0.15:
            with tally.lock:  # a duplicate of one already acknowledged (possibly another's)
                event_id = rnd.choice(sorted(tally.acknowledged))
            body = {"dedup_key": DEDUP_KEYS[0], "status": "note", "event_id": event_id,
                    "text": "duplicate delivery"}
        else:
            n += 1
            status = "trigger" if rnd.random() < 0.2 else "note"
            body = {"dedup_key": rnd.choice(DEDUP_KEYS), "status": status,
                    "event_id": f"s{seed}-{n}", "title": f"Load alert {n}",
                    "text": f"sender {seed} event {n}"}
        try:
            response = http.post(f"{base}/hooks/generic", json=body, headers=headers, timeout=10)
        except requests.RequestException:
            with tally.lock:
                tally.connection_errors += 1
            pending.append(body)
            continue
        if tally.saw(response, "hook"):
            with tally.lock:
                tally.acknowledged.add(body["event_id"])
        elif response.status_code >= 500 or response.status_code == 503:
            pending.append(body)


def api_writer(base, token, tally, stop, seed):
    """A script: declare incidents and add notes through the API."""
    rnd = random.Random(seed)
    http = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        try:
            if tally.created and rnd.random() < 0.6:
                with tally.lock:
                    incident_id = rnd.choice(sorted(tally.created))
                response = http.post(f"{base}/api/v1/incidents/{incident_id}/timeline",
                                     json={"text": f"note from script {seed}"}, headers=headers,
                                     timeout=10)
                if tally.saw(response, "api note"):
                    with tally.lock:
                        tally.notes.add(response.json()["id"])
            else:
                response = http.post(f"{base}/api/v1/incidents", headers=headers, timeout=10,
                                     json={"title": f"Scripted {seed}", "severity": "SEV3",
                                           "service": "load"})
                if tally.saw(response, "api declare"):
                    with tally.lock:
                        tally.created.add(response.json()["id"])
        except requests.RequestException:
            with tally.lock:
                tally.connection_errors += 1


def page_reader(base, email, tally, stop, seed):
    """A person in a browser: signs in (CSRF token and all), reads the list and incidents."""
    rnd = random.Random(seed)
    http = requests.Session()
    cookie = ""
    while not stop.is_set():
        try:
            if not cookie:
                # The session cookie is Secure (production); over loopback HTTP it is sent by
                # hand, as a browser behind the HTTPS load balancer would.
                login = http.get(f"{base}/login", timeout=10)
                token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                                  login.text).group(1)
                cookie = f"session={login.cookies['session']}"
                signed = http.post(f"{base}/login", allow_redirects=False, timeout=10,
                                   headers={"Cookie": cookie},
                                   data={"email": email, "password": PASSWORD,
                                         "csrf_token": token})
                tally.saw(signed, "login")
                cookie = f"session={signed.cookies['session']}" if signed.status_code == 302 \
                    else ""
                continue
            url = "/incidents" if rnd.random() < 0.5 or not tally.created else (
                f"/incidents/{rnd.choice(sorted(tally.created))}")
            response = http.get(base + url, headers={"Cookie": cookie}, timeout=10,
                                allow_redirects=False)
            tally.saw(response, f"page {url}")
        except requests.RequestException:
            with tally.lock:
                tally.connection_errors += 1


def workers_of(master) -> list[psutil.Process]:
    return psutil.Process(master.pid).children()


def test_mixed_load_with_a_worker_killed_loses_and_doubles_nothing(server, load_database):
    base, master = server
    engine = create_engine(load_database)
    with Session(engine) as session:
        line.seed_default_line(session=session)
        _, hooks_token = auth.create_token(session=session, name="pager", scopes=["hooks"])
        _, api_token = auth.create_token(session=session, name="script", scopes=["api:write"])
        auth.create_user(session=session, email="reader@example.com", password=PASSWORD)
        session.commit()
    for key in DEDUP_KEYS:  # an open incident per dedup key, so notes have somewhere to land
        opened = requests.post(f"{base}/hooks/generic", timeout=10,
                               headers={"Authorization": f"Bearer {hooks_token}"},
                               json={"dedup_key": key, "status": "trigger", "title": key})
        assert opened.status_code == 200, opened.text

    tally, stop = Tally(), threading.Event()
    clients = [threading.Thread(target=hook_sender, args=(base, hooks_token, tally, stop, n))
               for n in range(3)]
    clients += [threading.Thread(target=api_writer, args=(base, api_token, tally, stop, 10 + n))
                for n in range(2)]
    clients.append(threading.Thread(target=page_reader,
                                    args=(base, "reader@example.com", tally, stop, 20)))
    for client in clients:
        client.start()
    time.sleep(KILL_AT)
    victim = workers_of(master)[0]
    victim.send_signal(signal.SIGKILL)
    time.sleep(RUN_SECONDS - KILL_AT)
    stop.set()
    for client in clients:
        client.join(timeout=30)
    assert not any(client.is_alive() for client in clients)

    # The master replaced the killed worker and the app still answers.
    deadline = time.monotonic() + 15
    while len(workers_of(master)) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.2)
    assert victim.pid not in {w.pid for w in workers_of(master)}
    assert len(workers_of(master)) == WORKERS
    assert requests.get(f"{base}/login", timeout=10).status_code == 200

    print(f"statuses {dict(tally.statuses)}, deliveries acknowledged {len(tally.acknowledged)}, "
          f"connection errors {tally.connection_errors}")
    assert not tally.server_errors, tally.server_errors[:10]
    assert tally.statuses[200] + tally.statuses[201] > 100, tally.statuses
    with Session(engine) as session:
        deliveries = Counter(session.scalars(
            select(Delivery.delivery_key).where(Delivery.sender == "generic")))
        for event_id in tally.acknowledged:
            assert deliveries[event_id] == 1, f"delivery {event_id} stored {deliveries[event_id]}x"
        events = Counter(session.scalars(select(TimelineEvent.external_key).where(
            TimelineEvent.external_key.is_not(None))))
        assert all(count == 1 for count in events.values())
        for event_id in tally.acknowledged:
            assert events[f"generic:{event_id}"] <= 1
        # Nothing half-written: every incident has its declaration on its timeline.
        declared = select(TimelineEvent.incident_id).where(
            TimelineEvent.kind == EventKind.STATUS_CHANGE,
            TimelineEvent.text.like("Incident declared:%"))
        orphans = session.scalars(select(Incident.id).where(Incident.id.not_in(declared))).all()
        assert orphans == []
        ids = set(session.scalars(select(Incident.id)))
        assert tally.created <= ids
        notes = set(session.scalars(select(TimelineEvent.id).where(
            TimelineEvent.id.in_(tally.notes))))
        assert notes == tally.notes
        # One open incident per dedup key, however many triggers raced.
        open_per_key = session.execute(
            select(Incident.dedup_key, func.count()).where(
                Incident.status != Status.RESOLVED, Incident.dedup_key.in_(DEDUP_KEYS))
            .group_by(Incident.dedup_key)).all()
        assert sorted(open_per_key) == [(key, 1) for key in DEDUP_KEYS]
    engine.dispose()
