"""Recurrence candidates for one incident, and the report server's peak memory."""

from __future__ import annotations

import statistics
import threading
import time

import psutil
import requests

from bench.harness import Gunicorn, Result, login_form, ms, percentile, server_env
from bench.reads import Actors
from bench.seed import Seeded
from incidents.appdb import new_session
from incidents.recurrence import service as recurrence

MIB = 1024 * 1024


def candidates(app, seeded: Seeded, database: str) -> list[Result]:
    """Time `candidates()` for incidents spread over the history (a fresh session each)."""
    times, found = [], 0
    with app.app_context():
        for incident_id in [*seeded.sample_incident_ids, seeded.big_incident_id]:
            with new_session() as session:
                start = time.perf_counter()
                ranked = recurrence.candidates(session=session, incident_id=incident_id)
                times.append(time.perf_counter() - start)
                found += bool(ranked)
    figures = (f"median {ms(statistics.median(times))}, p95 {ms(percentile(times, 95))}, "
               f"max {ms(max(times))} over {len(times)} incidents ({found} with candidates)")
    return [Result("recurrence candidates, one incident", database, figures, "≤ 200 ms p95",
                   percentile(times, 95) <= 0.2)]


def memory(db, actors: Actors, seeded: Seeded) -> list[Result]:
    """Peak RSS of a one-worker gunicorn while it serves the report in every form."""
    paths = ["/api/v1/reports/recurrence", "/api/v1/reports/recurrence?format=csv",
             "/reports/recurrence", "/reports/recurrence?team=payments",
             "/api/v1/reports/recurrence?service=", "/reports/recurrence"]
    with Gunicorn("app:create_app()", server_env(db.url)) as server:
        worker = psutil.Process(server.worker_pid())
        browser = requests.Session()
        page = browser.get(server.url + "/login", timeout=30).text
        browser.post(server.url + "/login", timeout=30, allow_redirects=False,
                     data=login_form(page, actors.email))
        baseline = worker.memory_info().rss
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], worker.memory_info().rss)
                time.sleep(0.002)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        statuses = []
        try:
            for path in paths:
                response = browser.get(server.url + path, timeout=120, headers={
                    "Authorization": f"Bearer {actors.read_token}"} if "/api/" in path else {})
                statuses.append(response.status_code)
        finally:
            done.set()
            sampler.join(timeout=5)
    bad = [s for s in statuses if s != 200]
    figures = (f"peak {peak[0] / MIB:.0f} MiB (idle {baseline / MIB:.0f} MiB) over "
               f"{len(paths)} report requests at {seeded.incidents:,} incidents")
    if bad:
        figures += f"; HTTP {sorted(set(bad))} seen"
    return [Result("peak memory serving the report", db.name, figures, "≤ 300 MiB RSS",
                   peak[0] <= 300 * MIB and not bad)]
