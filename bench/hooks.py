"""Paging-tool ingestion over real HTTP through gunicorn: PagerDuty against the bare route,
and an Alertmanager storm with every delivery sent twice."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import func, select

from bench.harness import PAGERDUTY_SECRET, Gunicorn, Result, server_env
from bench.reads import prepare
from incidents.db import make_engine
from incidents.models import Incident, TimelineEvent

PD_EVENTS = ["incident.triggered", "incident.acknowledged", "incident.annotated",
             "incident.resolved"]


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def pagerduty_body(run: str, number: int, event_type: str) -> bytes:
    """A Webhooks v3 delivery for PagerDuty incident `number` (documented shape)."""
    incident_id = f"P{run[:5].upper()}{number:06d}"
    service = {"id": "PSVC001", "type": "service_reference", "summary": "checkout-api",
               "self": "https://api.pagerduty.com/services/PSVC001",
               "html_url": "https://bench.pagerduty.com/service-directory/PSVC001"}
    incident_ref = {"id": incident_id, "type": "incident_reference",
                    "self": f"https://api.pagerduty.com/incidents/{incident_id}",
                    "html_url": f"https://bench.pagerduty.com/incidents/{incident_id}"}
    if event_type == "incident.annotated":
        data = {"incident": incident_ref, "id": f"N{number:08d}", "type": "incident_note",
                "content": f"Failover of db-{number % 7} done, watching error rates"}
    else:
        status = event_type.split(".")[1]
        data = {**incident_ref, "type": "incident", "number": number,
                "status": {"triggered": "triggered", "acknowledged": "acknowledged"}.get(
                    status, "resolved"),
                "incident_key": f"bench-{run}-{number}", "created_at": _iso(datetime.now(UTC)),
                "title": f"Checkout error rate above 5% ({number})", "service": service,
                "assignees": [], "escalation_policy": None, "teams": [], "priority": None,
                "urgency": "high", "conference_bridge": None, "resolve_reason": None}
    event = {"event": {"id": str(uuid.uuid4()), "event_type": event_type,
                       "resource_type": "incident", "occurred_at": _iso(datetime.now(UTC)),
                       "agent": {"id": "PUSER01", "type": "user_reference",
                                 "summary": "Bench Responder"},
                       "client": None, "data": data}}
    return json.dumps(event).encode()


def _sign(body: bytes) -> str:
    return "v1=" + hmac.new(PAGERDUTY_SECRET.encode(), body, hashlib.sha256).hexdigest()


def _send_all(url: str, work: list[list[bytes]], headers) -> tuple[float, list[int]]:
    """Send each list of bodies in order on its own thread; wall time and status codes."""
    statuses: list[int] = []
    lock = threading.Lock()

    def sender(bodies):
        with requests.Session() as http:
            for body in bodies:
                status = http.post(url, data=body, timeout=60, headers=headers(body)).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=sender, args=(bodies,)) for bodies in work]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, statuses


def pagerduty(db, args) -> list[Result]:
    """Deliveries per second, the app's hook against the bare route, in alternating rounds."""
    rounds, incidents_per_round = (2, 15) if args.quick else (6, 60)
    run = uuid.uuid4().hex[:8]
    numbers = itertools.count(1)

    def headers(body):
        return {"Content-Type": "application/json", "X-PagerDuty-Signature": _sign(body)}

    def work(senders: int = 2) -> list[list[bytes]]:
        # Each PagerDuty incident's four events go in order on one sender.
        lists: list[list[bytes]] = [[] for _ in range(senders)]
        for n in range(incidents_per_round):
            number = next(numbers)
            lists[n % senders] += [pagerduty_body(run, number, e) for e in PD_EVENTS]
        return lists

    rates: dict[str, list[float]] = {"app": [], "bare": []}
    bad: list[int] = []
    env = server_env(db.url)
    with Gunicorn("app:create_app()", env) as app_server, \
            Gunicorn("bench.bare:create_bare_app()", env) as bare_server:
        urls = {"app": app_server.url + "/hooks/pagerduty",
                "bare": bare_server.url + "/bare/pagerduty"}
        _send_all(urls["app"], work(), headers)  # warm both up
        _send_all(urls["bare"], work(), headers)
        for n in range(rounds):
            for side in ("app", "bare") if n % 2 == 0 else ("bare", "app"):
                bodies = work()
                elapsed, statuses = _send_all(urls[side], bodies, headers)
                rates[side].append(sum(map(len, bodies)) / elapsed)
                bad += [s for s in statuses if s >= 300]
    app_rate, bare_rate = statistics.median(rates["app"]), statistics.median(rates["bare"])
    ratio = app_rate / bare_rate
    floor = 300 if db.name == "sqlite" else 0
    figures = (f"{app_rate:.0f}/s vs bare {bare_rate:.0f}/s = {ratio:.0%} "
               f"(median of {rounds} rounds, 2 senders)")
    if bad:
        figures += f"; {len(bad)} non-2xx answers ({sorted(set(bad))})"
    target = "≥ 50% of bare" + ("; ≥ 300/s" if floor else "")
    return [Result("PagerDuty hook ingestion, gunicorn 1 worker", db.name, figures, target,
                   ratio >= 0.5 and app_rate >= floor and not bad)]


def alertmanager_body(group: int, alerts: int, started: datetime) -> bytes:
    """A webhook_config notification for `group` carrying its first `alerts` alerts."""
    name = f"HighErrorRate{group}"
    items = [{
        "status": "firing",
        "labels": {"alertname": name, "instance": f"web-{n}:9100", "service": f"svc-{group % 40}",
                   "severity": "critical" if group % 5 == 0 else "warning"},
        "annotations": {"summary": f"5xx above 2% on web-{n}"},
        "startsAt": _iso(started + timedelta(seconds=n)), "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=errors{group}",
        "fingerprint": hashlib.sha1(f"{group}/{n}".encode()).hexdigest()[:16],
    } for n in range(alerts)]
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{alertname="{name}"}}', "truncatedAlerts": 0,
        "status": "firing", "receiver": "linecheck", "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "alerts": items,
    }).encode()


def storm(db, args) -> list[Result]:
    """Alerts in groups, each group notified as it grows, every delivery sent twice at once."""
    groups, per_group, waves = (50, 20, 4) if args.quick else (500, 20, 4)
    from bench.harness import make_app

    app = make_app(db.url)
    token = prepare(app).hooks_token
    app.extensions["linecheck.engine"].dispose()
    started = datetime.now(UTC) - timedelta(minutes=5)
    deliveries = queue.Queue()
    for wave in range(1, waves + 1):
        for group in range(groups):
            body = alertmanager_body(group, per_group * wave // waves, started)
            deliveries.put(body)
            deliveries.put(body)  # the retry, taken by the next free sender at the same time
    total = deliveries.qsize()
    statuses: list[int] = []
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def sender(url):
        with requests.Session() as http:
            while True:
                try:
                    body = deliveries.get_nowait()
                except queue.Empty:
                    return
                statuses.append(http.post(url, data=body, headers=headers,
                                          timeout=60).status_code)

    with Gunicorn("app:create_app()", server_env(db.url), threads=4) as server:
        threads = [threading.Thread(target=sender, args=(server.url + "/hooks/alertmanager",))
                   for _ in range(4)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    engine = make_engine(db.url)
    with engine.connect() as conn:
        incidents = conn.scalar(select(func.count()).select_from(Incident))
        alerts = conn.scalar(select(func.count()).select_from(TimelineEvent)
                             .where(TimelineEvent.kind == "alert"))
    engine.dispose()
    expected_alerts = groups * per_group
    bad = [s for s in statuses if s >= 300]
    figures = (f"{incidents} incidents, {alerts:,} alert events; {total:,} deliveries in "
               f"{elapsed:.1f} s = {total / elapsed:.0f}/s ({expected_alerts / elapsed:.0f} "
               f"alerts/s), 4 senders")
    if bad:
        figures += f"; {len(bad)} non-2xx ({sorted(set(bad))})"
    target = f"exactly {groups} incidents and {expected_alerts:,} alert events"
    return [Result(f"alert storm, {expected_alerts:,} alerts in {groups} groups", db.name,
                   figures, target, incidents == groups and alerts == expected_alerts
                   and not bad)]
