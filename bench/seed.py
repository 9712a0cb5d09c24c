"""Seed a realistic history fast: bulk inserts of incidents with timelines, reviews, findings,
prevention items and recurrence links, in batches, with a progress bar.

Rows get explicit ids so links need no RETURNING round trips; PostgreSQL sequences are moved
past them afterwards, so the app's own inserts continue cleanly.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tqdm import tqdm

import incidents.models as m
from incidents.auth.models import team_key
from incidents.incident import search
from incidents.line import service as line_service

BATCH = 2_000
YEARS = 3
BIG_TIMELINE = 500

TEAMS = ["payments", "checkout", "identity", "discovery", "platform", "data", "mobile",
         "growth", "messaging", "infra", "billing", "partners"]
WORDS = ["api", "worker", "gateway", "db", "cache", "sync", "export", "search", "auth", "feed",
         "ledger", "queue", "cdn", "web", "push", "report"]
SEVERITIES = (["SEV1", "SEV2", "SEV3", "SEV4"], [5, 15, 45, 35])
SOURCES = (["pagerduty", "alertmanager", "slack", "web", "api", "opsgenie", "grafana"],
           [35, 30, 15, 8, 5, 4, 3])
ALERTING = {"pagerduty", "alertmanager", "opsgenie", "grafana"}
DETECTION = (["alert", "customer_report", "internal_report", "automated_test", "other"],
             [60, 15, 15, 7, 3])
DEFECTS = (["logic", "contract", "configuration", "dependency", "capacity", "data",
            "deployment", "third_party", "observability", "other"],
           [22, 14, 18, 8, 10, 9, 8, 5, 4, 2])
REASONS = (["no_check", "not_covered", "bypassed", "signal_missed", "flaky"], [30, 35, 10, 18, 7])
KINDS = (["eliminate", "detect", "fail_loudly", "contain", "local_fix", "advice"],
         [10, 30, 15, 15, 20, 10])
STRUCTURAL = {"eliminate", "detect", "fail_loudly", "contain"}
GUARDED = {"eliminate", "detect", "fail_loudly"}
# Where defects slip through most: later stations leak more (integration tests, telemetry).
STATION_WEIGHTS = [2, 2, 8, 12, 3, 2, 3, 9, 10, 6, 7, 11]
SYMPTOMS = ["5xx spike", "latency above SLO", "queue backlog", "failed payments",
            "empty search results", "stale data", "login failures", "dropped webhooks",
            "timeouts to provider", "disk pressure", "memory leak", "wrong totals"]
NOTES = ["Looking at the dashboards now", "Error rate climbing since the last deploy",
         "Rolled back to the previous build", "Provider status page shows degradation",
         "Scaling out the workers", "Root cause looks like a config change",
         "Customers report failures at checkout", "Mitigation in place, watching",
         "Paged the owning team", "Database connections saturated"]


@dataclass
class Seeded:
    """What the measurements need to know about the data set."""

    incidents: int
    big_incident_id: int
    big_events: int
    sample_incident_ids: list[int] = field(default_factory=list)


@dataclass
class _Rule:
    key: str
    fingerprint: str
    service: str
    team_id: int
    defect: str
    weight: float
    last_reviewed: int | None = None  # incident id of the latest reviewed incident
    items: list[tuple[int, str, datetime | None]] = field(default_factory=list)


class _Ids:
    """Explicit primary keys per table, continuing after what the database holds."""

    def __init__(self, conn, tables):
        self.next = {t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables}

    def take(self, table) -> int:
        value = self.next[table.name]
        self.next[table.name] = value + 1
        return value


def _lognormal_minutes(rng, median: float, sigma: float = 1.0) -> timedelta:
    return timedelta(minutes=median * math.exp(rng.gauss(0, sigma)))


def seed(engine: Engine, *, incidents: int, big_timeline: int = BIG_TIMELINE, seed: int = 7,
         progress: bool = True) -> Seeded:
    """Add `incidents` incidents (and everything around them) to the database at `engine`."""
    rng = random.Random(seed)
    with Session(engine) as session:
        line_service.seed_default_line(session=session)
        session.commit()
        station_ids = list(session.scalars(select(m.Station.id).order_by(m.Station.position)))
    weights = (STATION_WEIGHTS * 2)[: len(station_ids)]
    # In foreign-key order; prevention_links has no id of its own.
    tables = [m.Incident.__table__, m.TimelineEvent.__table__, m.Review.__table__,
              m.ReviewRevision.__table__, m.StationFinding.__table__,
              m.PreventionItem.__table__, m.PreventionLink.__table__, m.Guard.__table__,
              m.RecurrenceLink.__table__]
    keyed = [t for t in tables if "id" in t.c] + [m.Team.__table__, m.User.__table__,
                                                  m.GuardRun.__table__]
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(days=365 * YEARS)
    with engine.begin() as conn:
        ids = _Ids(conn, keyed)
        team_ids, user_ids = _people(conn, ids, now)
    services = [(f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{n}", rng.choice(team_ids))
                for n in range(max(8, min(60, incidents // 50)))]
    rules = []
    for n in range(max(20, incidents // 30)):
        service, team_id = rng.choice(services)
        key = f'{{}}:{{alertname="{rng.choice(SYMPTOMS).title().replace(" ", "")}{n}"}}'
        rules.append(_Rule(key=key, fingerprint=hashlib.sha1(key.encode()).hexdigest()[:16],
                           service=service, team_id=team_id,
                           defect=rng.choices(*DEFECTS)[0], weight=1 / (n + 1) ** 0.9))
    rule_weights = [r.weight for r in rules]
    escapes: list[dict] = []
    first_id = ids.next["incidents"]
    big_id = first_id + incidents - 1
    bar = tqdm(total=incidents, desc=f"seeding {engine.dialect.name}", unit="incident",
               disable=not progress, leave=False)
    for start in range(0, incidents, BATCH):
        rows: dict[str, list[dict]] = {t.name: [] for t in tables}
        for n in range(start, min(start + BATCH, incidents)):
            started = first + (now - first) * ((n + 0.5) / incidents) ** 0.7
            started -= timedelta(seconds=rng.randrange(3600))
            incident_id = ids.take(m.Incident.__table__)
            _incident(rng, rows, ids, incident_id, started, now, rules, rule_weights, services,
                      station_ids, weights, user_ids, escapes,
                      events=big_timeline if incident_id == big_id else None)
        with engine.begin() as conn:
            for table in tables:
                if rows[table.name]:
                    conn.execute(insert(table), rows[table.name])
        bar.update(min(BATCH, incidents - start))
    bar.close()
    with engine.begin() as conn:
        if escapes:
            items = m.PreventionItem.__table__
            conn.execute(update(items).where(items.c.id == bindparam("item_id"))
                         .values(escaped_at=bindparam("at"),
                                 escaped_by_incident_id=bindparam("by")), escapes)
        conn.execute(insert(m.GuardRun.__table__), _guard_runs(rng, ids, team_ids, now,
                                                               incidents))
        _after_bulk_load(conn, keyed)
    with Session(engine) as session:  # bulk rows bypass the services that keep search's words
        search.rebuild(session=session, after_id=first_id - 1)
        session.commit()
    step = max(1, incidents // 40)
    return Seeded(incidents=incidents, big_incident_id=big_id, big_events=big_timeline,
                  sample_incident_ids=list(range(first_id + step - 1, big_id, step))[:40])


def _people(conn, ids: _Ids, now: datetime) -> tuple[list[int], list[int]]:
    teams = m.Team.__table__
    existing = dict(conn.execute(select(teams.c.name, teams.c.id)).all())
    rows = [{"id": ids.take(teams), "name": name, "key": team_key(name),
             "slack_channel_id": f"CT{n:07d}", "created_at": now}
            for n, name in enumerate(TEAMS) if name not in existing]
    if rows:
        conn.execute(insert(teams), rows)
    team_ids = [existing.get(name) or next(r["id"] for r in rows if r["name"] == name)
                for name in TEAMS]
    users = m.User.__table__
    # One shared hash: the seeded people never sign in, and hashing 40 passwords costs seconds.
    rows = []
    for n in range(40):
        user_id = ids.take(users)
        rows.append({"id": user_id, "email": f"person{user_id}@bench.test",
                     "name": f"Person {user_id}", "password_hash": "scrypt:seeded$unusable",
                     "role": "responder", "team_id": team_ids[n % len(team_ids)],
                     "timezone": "UTC", "slack_user_id": f"UB{user_id:08d}", "active": True,
                     "created_at": now})
    conn.execute(insert(users), rows)
    return team_ids, [r["id"] for r in rows]


def _incident(rng, rows, ids, incident_id, started, now, rules, rule_weights, services,
              station_ids, station_weights, user_ids, escapes, events=None) -> None:
    source = rng.choices(*SOURCES)[0]
    alerting = source in ALERTING
    rule = rng.choices(rules, rule_weights)[0] if alerting or rng.random() < 0.3 else None
    service, team_id = (rule.service, rule.team_id) if rule else rng.choice(services)
    detected = started + _lognormal_minutes(rng, 6 if alerting else 45)
    restored = detected + _lognormal_minutes(rng, 90, 1.2)
    resolved = restored if restored < now - timedelta(hours=2) or rng.random() < 0.5 else None
    severity = rng.choices(*SEVERITIES)[0]
    ai_share = 0.05 + 0.35 * (1 - (now - started).days / (365 * YEARS))
    origin = rng.choices(["ai_assisted", "human", "config", "third_party", "unknown"],
                         [ai_share, 0.5 - ai_share / 2, 0.18, 0.08, 0.24 - ai_share / 2])[0]
    symptom = rng.choice(SYMPTOMS)
    rows["incidents"].append({
        "id": incident_id, "title": f"{service}: {symptom}", "description": "",
        "severity": severity, "status": "resolved" if resolved else
        rng.choice(["investigating", "identified", "monitoring"]),
        "service": service, "team_id": team_id, "source": source,
        "dedup_key": rule.key if rule and alerting else None, "open_dedup_key": None,
        "slack_channel_id": f"CI{incident_id:08d}" if source == "slack" else None,
        "slack_channel_name": f"inc-{incident_id}" if source == "slack" else None,
        "detection_method": "alert" if alerting else rng.choices(*DETECTION)[0],
        "change_origin": origin, "started_at": started, "detected_at": detected,
        "resolved_at": resolved, "created_at": detected, "updated_at": resolved or detected,
        "declared_by_id": None if alerting else rng.choice(user_ids),
    })
    _timeline(rng, rows, ids, incident_id, source, rule, detected, resolved or now, resolved,
              user_ids, events or 2 + min(int(rng.expovariate(1 / 5)), 40))
    if resolved is None:
        return
    chance = {"SEV1": 0.9, "SEV2": 0.9, "SEV3": 0.6, "SEV4": 0.25}[severity]
    if rng.random() < chance:
        _review(rng, rows, ids, incident_id, started, resolved, now, rule, team_id,
                station_ids, station_weights, user_ids, escapes)


def _timeline(rng, rows, ids, incident_id, source, rule, detected, end, resolved, user_ids,
              count) -> None:
    table = m.TimelineEvent.__table__
    span = max((end - detected).total_seconds(), 60)
    for n in range(count):
        at = detected + timedelta(seconds=span * n / count)
        author = rng.choice(user_ids)
        if n == 0 and rule is not None:
            kind, text_, author, fingerprint = "alert", f"Firing: {rule.key}", None, \
                rule.fingerprint
        elif n == count - 1 and resolved is not None:
            kind, text_, fingerprint, at = "resolution", "Resolved", None, resolved
        else:
            kind = rng.choices(["note", "status_change", "message", "action", "deploy",
                                "alert"], [50, 10, 15, 12, 5, 8])[0]
            text_, fingerprint = rng.choice(NOTES), None
        event_id = ids.take(table)
        rows[table.name].append({
            "id": event_id, "incident_id": incident_id, "occurred_at": at, "kind": kind,
            "text": text_, "author_id": author, "author_name": "" if author else source,
            "source": source if kind == "alert" else "web", "link": None,
            "external_key": f"{rule.fingerprint}:{n}" if kind == "alert" and rule else None,
            "fingerprint": fingerprint, "created_at": at, "edited_at": None,
        })


def _review(rng, rows, ids, incident_id, started, resolved, now, rule, team_id, station_ids,
            station_weights, user_ids, escapes) -> None:
    reviews = m.Review.__table__
    review_id = ids.take(reviews)
    age = now - resolved
    published_at = resolved + timedelta(days=rng.uniform(1, 20))
    if published_at < now and age > timedelta(days=30):
        state = rng.choices(["published", "in_review", "draft"], [85, 5, 10])[0]
    else:
        state = rng.choices(["draft", "in_review"], [70, 30])[0]
    published_at = published_at if state == "published" else None
    defect = rule.defect if rule else rng.choices(*DEFECTS)[0]
    markdown = (f"## Summary\n{rng.choice(SYMPTOMS).capitalize()} for {rng.randint(5, 90)} "
                f"minutes.\n\n## Impact\n{rng.randint(1, 40)}% of requests failed.\n\n"
                f"## Contributing factors\n{rng.choice(NOTES)}. {rng.choice(NOTES)}.\n")
    author = rng.choice(user_ids)
    rows["reviews"].append({
        "id": review_id, "incident_id": incident_id, "state": state, "markdown": markdown,
        "defect_class": defect, "revision": 1, "created_at": resolved, "updated_at": resolved,
        "updated_by_id": author, "published_at": published_at,
        "published_by_id": author if published_at else None,
    })
    rows["review_revisions"].append({
        "id": ids.take(m.ReviewRevision.__table__), "review_id": review_id, "revision": 1,
        "markdown": markdown, "defect_class": defect, "state": state, "author_id": author,
        "created_at": resolved,
    })
    stations = set()
    while len(stations) < rng.choice([1, 1, 2, 2, 3]):
        stations.add(rng.choices(station_ids, station_weights)[0])
    cheapest = min(stations)
    for station_id in sorted(stations):
        rows["station_findings"].append({
            "id": ids.take(m.StationFinding.__table__), "review_id": review_id,
            "station_id": station_id, "reason": rng.choices(*REASONS)[0], "note": "",
            "cheapest": station_id == cheapest, "created_at": resolved,
        })
    if rule is not None and rule.last_reviewed is not None and rng.random() < 0.35:
        rows["recurrence_links"].append({
            "id": ids.take(m.RecurrenceLink.__table__), "incident_id": incident_id,
            "earlier_incident_id": rule.last_reviewed, "reasons": "same alert fingerprint",
            "confirmed_by_id": author, "created_at": resolved,
        })
        for item_id, kind, done_at in rule.items:
            if kind in STRUCTURAL and done_at is not None and done_at < started:
                escapes.append({"item_id": item_id, "at": resolved, "by": incident_id})
    earlier_items = []
    if rule is not None:
        rule.last_reviewed, earlier_items, rule.items = incident_id, rule.items, []
    if state == "draft":
        return
    created = resolved + timedelta(days=rng.uniform(0, 3))
    for n in range(rng.choice([1, 1, 2, 3])):
        if n == 1 and earlier_items and rng.random() < 0.3:
            item_id = earlier_items[0][0]  # an item can serve several incidents
        else:
            item_id = _item(rng, rows, ids, created, now, team_id, cheapest,
                            structural=n == 0 and state == "published", rule=rule)
        rows["prevention_links"].append({"incident_id": incident_id,
                                         "prevention_item_id": item_id, "created_at": created})


def _item(rng, rows, ids, created, now, team_id, station_id, *, structural, rule) -> int:
    item_id = ids.take(m.PreventionItem.__table__)
    kind = rng.choices(*KINDS)[0]
    if structural and kind not in STRUCTURAL:
        kind = "detect"
    age_days = (now - created).days
    done_chance = min(0.75, age_days / 200)
    status = rng.choices(["done", "dropped", "in_progress", "committed", "proposed"],
                         [done_chance, 0.06, 0.12, 0.1, max(0.05, 0.5 - done_chance)])[0]
    completed = created + timedelta(days=rng.expovariate(1 / 25)) if status == "done" else None
    if completed is not None and completed > now:
        completed = now - timedelta(hours=1)
    rows["prevention_items"].append({
        "id": item_id, "title": f"{kind.replace('_', ' ').capitalize()}: {rng.choice(SYMPTOMS)}",
        "description": "", "kind": kind, "station_id": station_id, "owner_team_id": team_id,
        "due_date": (created + timedelta(days=rng.randint(14, 60))).date(),
        "tracker_url": f"https://tracker.example/ISSUE-{item_id}", "status": status,
        "dropped_reason": "superseded" if status == "dropped" else None,
        "completed_at": completed, "escaped_at": None, "escaped_by_incident_id": None,
        "last_reminded_at": None, "created_at": created, "updated_at": completed or created,
        "created_by_id": None,
    })
    if status == "done" and kind in GUARDED:
        # Guarded by one of the team's CI checks, whose runs _guard_runs writes.
        rows["guards"].append({
            "id": ids.take(m.Guard.__table__), "prevention_item_id": item_id,
            "provider": "github", "repository": f"bench/repo-{team_id}",
            "name": f"check-{rng.randrange(GUARD_CHECKS)}", "test_id": None, "branch": None,
            "url": None, "created_at": completed, "announced_health": None,
            "announcements": 0})
    if rule is not None:
        rule.items.append((item_id, kind, completed))
    return item_id


GUARD_CHECKS = 20  # CI checks per team that guards name


def _guard_runs(rng, ids, team_ids, now, incidents) -> list[dict]:
    """Weekly runs of each team's checks on main over the last 120 days (a few failing, some
    checks stopped a month ago), and a pull request's run for every main one."""
    rows = []
    for team_id in team_ids:
        for check in range(min(GUARD_CHECKS, max(2, incidents // 500))):
            stopped = 30 if check % 7 == 3 else 0
            for week in range(stopped // 7, 120 // 7):
                at = now - timedelta(days=7 * week, hours=rng.randrange(24))
                for branch in ("main", f"pr-{week}"):
                    run_id = ids.take(m.GuardRun.__table__)
                    rows.append({
                        "id": run_id, "source": "github", "kind": "check_run",
                        "run_key": f"bench:{run_id}", "repository": f"bench/repo-{team_id}",
                        "name": f"check-{check}", "path": None, "branch": branch,
                        "on_default_branch": branch == "main",
                        "result": "failed" if rng.random() < 0.05 else "passed",
                        "completed_at": at, "url": None, "external_id": str(run_id),
                        "has_tests": False, "received_at": at})
    return rows


def _after_bulk_load(conn, keyed) -> None:
    """Move PostgreSQL sequences past the explicit ids and refresh planner statistics."""
    if conn.dialect.name != "postgresql":
        return
    for table in keyed:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                          f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))
    conn.execute(text("ANALYZE"))
