"""Pages and reports read over growing history: time at full size, query count at two sizes."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sqlalchemy import select

from bench.harness import PASSWORD, Result, login, ms, percentile, timed
from bench.seed import Seeded
from incidents.appdb import new_session
from incidents.auth import service as auth
from tests.helpers import count_queries


@dataclass
class Actors:
    """A lead signed in through the browser, and bearer tokens for the API and the hooks."""

    email: str
    read_token: str
    hooks_token: str


@dataclass
class Probe:
    name: str
    measurement: str  # the --only name it belongs to
    path: str
    target_s: float
    api: bool = False


def prepare(app) -> Actors:
    """Create the lead and the tokens the measurements use (once per database)."""
    email = "bench-lead@bench.test"
    with app.app_context(), new_session() as session:
        from incidents.auth.models import User

        if session.scalar(select(User.id).where(User.email == email)) is None:
            auth.create_user(session=session, email=email, password=PASSWORD, role="lead")
        _, read_token = auth.create_token(session=session, name="bench-read",
                                          scopes=["api:read"])
        _, hooks_token = auth.create_token(session=session, name="bench-hooks",
                                           scopes=["hooks"])
        session.commit()
    return Actors(email=email, read_token=read_token, hooks_token=hooks_token)


def probes(seeded: Seeded) -> list[Probe]:
    return [
        Probe("incident list page", "pages", "/incidents", 0.1),
        Probe(f"incident page ({seeded.big_events} events)", "pages",
              f"/incidents/{seeded.big_incident_id}", 0.1),
        Probe("recurrence report, API (JSON)", "report", "/api/v1/reports/recurrence", 1.0,
              api=True),
        Probe("recurrence report page (charts)", "report", "/reports/recurrence", 1.0),
    ]


class Reader:
    """A signed-in test client over one app; GETs a probe, counts its SQL, times it."""

    def __init__(self, app, actors: Actors):
        self.app = app
        self.client = app.test_client()
        login(self.client, actors.email)
        self.headers = {"Authorization": f"Bearer {actors.read_token}"}

    def get(self, probe: Probe) -> int:
        response = self.client.get(probe.path, headers=self.headers if probe.api else None)
        return response.status_code

    def count(self, probe: Probe) -> int | str:
        """Statements for one request after a warm-up, or why it could not run."""
        status = self.get(probe)
        if status != 200:
            return f"HTTP {status}"
        with count_queries(self.app.extensions["linecheck.engine"]) as statements:
            self.get(probe)
        return len(statements)


def query_counts(reader: Reader, selected: set[str], seeded: Seeded) -> dict[str, int | str]:
    return {p.name: reader.count(p) for p in probes(seeded) if p.measurement in selected}


def measure(reader: Reader, selected: set[str], seeded: Seeded, small: dict, small_size: int,
            database: str, repeat: int) -> list[Result]:
    """Time each probe at full size and compare its query count with the small data set."""
    results = []
    for probe in probes(seeded):
        if probe.measurement not in selected:
            continue
        target = f"≤ {probe.target_s * 1000:.0f} ms median; queries independent of size"
        queries = reader.count(probe)
        if isinstance(queries, str):
            results.append(Result(probe.name, database, f"not measured: {queries}", target,
                                  None))
            continue
        times = timed(lambda p=probe: reader.get(p), repeat if probe.target_s < 1 else
                      max(3, repeat // 6))
        before = small.get(probe.name)
        same = before == queries
        figures = (f"median {ms(statistics.median(times))}, p95 {ms(percentile(times, 95))}; "
                   f"{before} queries at {small_size:,}, {queries} at {seeded.incidents:,}")
        met = statistics.median(times) <= probe.target_s and same
        results.append(Result(probe.name, database, figures, target, met))
    return results
