"""The recurrence report: where the line leaks, what comes back, whether prevention holds.

Every figure is one aggregate query (GROUP BY, filtered sums, medians in SQL), so the number
of queries is the same at ten incidents or a million. Measures come from explicit timestamps
only: started → detected, started → resolved, resolved → published, published → all
structural items done; never a row's updated_at.

Populations: incident figures cover incidents that *started* in the period (and belong to the
team / service); prevention figures cover items *created* in the period, owned by the team,
linked to an incident of the service.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from incidents.auth.models import Team
from incidents.change import report as change_report
from incidents.errors import InvalidInput, parse_choice
from incidents.guard import health as guard_health
from incidents.guard.models import Health
from incidents.incident.models import ChangeOrigin, Incident
from incidents.line.models import Station
from incidents.prevention import service as prevention
from incidents.prevention.models import (
    STRUCTURAL_KINDS,
    Outcome,
    PreventionItem,
    PreventionKind,
    PreventionLink,
    PreventionStatus,
)
from incidents.recurrence.models import RecurrenceLink
from incidents.report import review_policy
from incidents.report.sql import dialect, grouped, month_of, seconds_between
from incidents.review.models import Review, ReviewState, StationFinding
from incidents.timeline.models import TimelineEvent

TOP_FINGERPRINTS = 10
UNCLASSIFIED = "unclassified"
UNASSIGNED = "(none)"


@dataclass
class ReportFilter:
    start: date | None = None  # the period's first day (inclusive)
    end: date | None = None  # its last day (inclusive)
    team: str | None = None
    service: str | None = None
    origin: str | None = None  # the incidents' (and changes') change origin

    def __post_init__(self):
        # NUL cannot be in a PostgreSQL text value, so it cannot be in a team or service name.
        self.team = (self.team or "").replace("\x00", "") or None
        self.service = (self.service or "").replace("\x00", "") or None
        if self.start and self.end and self.end < self.start:
            raise InvalidInput(f"the period ends before it starts: to {self.end} is before "
                               f"from {self.start}", field="to")
        if self.origin:
            self.origin = str(parse_choice(ChangeOrigin, self.origin, "origin"))

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None,
                "team": self.team, "service": self.service, "origin": self.origin}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _in_period(column, filters: ReportFilter) -> list:
    clauses = []
    if filters.start:
        clauses.append(column >= _day_start(filters.start))
    if filters.end:
        clauses.append(column < _day_start(filters.end + timedelta(days=1)))
    return clauses


def _incidents_where(filters: ReportFilter) -> list:
    clauses = _in_period(Incident.started_at, filters)
    if filters.team:
        clauses.append(Incident.team_id.in_(select(Team.id).where(Team.name == filters.team)))
    if filters.service:
        clauses.append(Incident.service == filters.service)
    if filters.origin:
        clauses.append(Incident.change_origin == filters.origin)
    return clauses


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def recurrence_report(*, session: Session, filters: ReportFilter, now: datetime,
                      watch_window_days: int) -> dict:
    """The whole report as the API's JSON shape (SPEC.md "API essentials")."""
    where = _incidents_where(filters)
    sql = dialect(session)
    by_origin = _by_change_origin(session, where, sql)
    per_change = change_report.add_rates(
        session=session, filters=filters, incidents_where=where, by_origin=by_origin,
        in_period=lambda column: _in_period(column, filters))
    total = sum(row["incidents"] for row in by_origin)
    for row in by_origin:
        row["share"] = _rate(row["incidents"], total)
    reviews = _reviews(session, where, sql)
    return {
        "filters": filters.as_dict(),
        "incidents": total,
        "leaks_by_station": _leaks_by_station(session, where),
        "recurrences_by_defect_class": _recurrences_by_defect_class(session, where),
        "recurrences_by_station": _recurrences_by_station(session, where),
        "top_fingerprints": _top_fingerprints(session, where),
        "prevention": _prevention(session, filters, now, watch_window_days, sql),
        **_guard_health(session, filters, now, watch_window_days),
        "structural_share": _rate(reviews["with_structural_item"], reviews["published"]),
        "reviews": reviews,
        "review_standings": review_policy.standings(session=session, where=where),
        "by_month": _by_month(session, where, sql),
        "by_change_origin": by_origin,
        **per_change,
    }


def _scoped(query, incident_id, where: list):
    """Restrict `query` to the report's incidents; unfiltered, skip the join altogether."""
    if not where:
        return query
    return query.join(Incident, Incident.id == incident_id).where(*where)


def _leaks_by_station(session: Session, where: list) -> list[dict]:
    """Incidents whose review findings name each station, blindest first. Stations still on
    the line show even with no leak; removed ones only when they leaked."""
    findings = select(StationFinding.station_id, func.count().label("leaks"))
    if where:
        findings = _scoped(findings.join(Review, Review.id == StationFinding.review_id),
                           Review.incident_id, where)
    leaks = findings.group_by(StationFinding.station_id).subquery()
    count = func.coalesce(leaks.c.leaks, 0)
    rows = session.execute(
        select(Station.id, Station.name, count)
        .outerjoin(leaks, leaks.c.station_id == Station.id)
        .where(or_(Station.removed_at.is_(None), leaks.c.leaks > 0))
        .order_by(count.desc(), Station.position, Station.id))
    return [{"station_id": sid, "station": name, "leaks": n} for sid, name, n in rows]


def _recurrences(where: list):
    """Confirmed recurrences whose (later) incident is in the report's population."""
    links = select(RecurrenceLink.id).select_from(RecurrenceLink)
    return _scoped(links, RecurrenceLink.incident_id, where)


def _recurrences_by_defect_class(session: Session, where: list) -> list[dict]:
    defect = func.coalesce(Review.defect_class, UNCLASSIFIED).label("defect_class")
    count = func.count().label("recurrences")
    rows = session.execute(
        _recurrences(where).with_only_columns(defect, count)
        .outerjoin(Review, Review.incident_id == RecurrenceLink.incident_id)
        .group_by(defect).order_by(count.desc(), defect))
    return [{"defect_class": name, "recurrences": n} for name, n in rows]


def _recurrences_by_station(session: Session, where: list) -> list[dict]:
    """Recurrences per station the recurring incident's review says missed it."""
    # `+ 0` keeps SQLite from grouping along the station index, which visits every finding
    # (tens of thousands) instead of the few that belong to recurrences.
    station_id = StationFinding.station_id + 0
    counts = (_recurrences(where)
              .with_only_columns(station_id.label("station_id"),
                                 func.count().label("recurrences"))
              .join(Review, Review.incident_id == RecurrenceLink.incident_id)
              .join(StationFinding, StationFinding.review_id == Review.id)
              .group_by(station_id).subquery())
    rows = session.execute(
        select(Station.id, Station.name, counts.c.recurrences)
        .join(counts, counts.c.station_id == Station.id)
        .order_by(counts.c.recurrences.desc(), Station.position))
    return [{"station_id": sid, "station": name, "recurrences": n} for sid, name, n in rows]


def _top_fingerprints(session: Session, where: list) -> list[dict]:
    """Alert fingerprints seen on more than one incident, most incidents first."""
    # Distinct pairs first, then a plain count: PostgreSQL hashes the pairs, where
    # count(DISTINCT …) per group sorts every event (2-3 times slower at 100,000 incidents).
    events = select(TimelineEvent.fingerprint, TimelineEvent.incident_id).where(
        TimelineEvent.fingerprint.is_not(None))
    pairs = _scoped(events, TimelineEvent.incident_id, where).distinct().subquery()
    count = func.count().label("incidents")
    rows = session.execute(
        select(pairs.c.fingerprint, count).group_by(pairs.c.fingerprint).having(count > 1)
        .order_by(count.desc(), pairs.c.fingerprint).limit(TOP_FINGERPRINTS))
    return [{"fingerprint": fp, "incidents": n} for fp, n in rows]


def _flag(condition):
    return case((condition, 1), else_=0)


def _items_where(filters: ReportFilter) -> list:
    """The prevention population: items created in the period, of the team and service."""
    where = _in_period(PreventionItem.created_at, filters)
    if filters.team:
        where.append(PreventionItem.owner_team_id.in_(
            select(Team.id).where(Team.name == filters.team)))
    if filters.service:
        where.append(exists().where(
            PreventionLink.prevention_item_id == PreventionItem.id,
            PreventionLink.incident_id == Incident.id, Incident.service == filters.service))
    if filters.origin:
        where.append(exists().where(
            PreventionLink.prevention_item_id == PreventionItem.id,
            PreventionLink.incident_id == Incident.id, Incident.change_origin == filters.origin))
    return where


def _prevention(session: Session, filters: ReportFilter, now: datetime,
                watch_window_days: int, sql: str) -> dict:
    where = _items_where(filters)
    done = PreventionItem.status == PreventionStatus.DONE
    dropped = PreventionItem.status == PreventionStatus.DROPPED
    strength = prevention.strength_expr()

    def outcome(value: Outcome):
        return _flag(prevention.outcome_clause(value, now, watch_window_days, sql)
                     ).label(value.value)

    # Held or unverified, from one look at the guards (outcome_clause would take two).
    verified = guard_health.verified_item_ids(now=now, watch_window_days=watch_window_days,
                                              sql=sql).subquery()
    quiet = prevention.quiet_clause(now, watch_window_days)
    proven = verified.c.prevention_item_id.is_not(None)

    rows = (select(_flag(done).label("done"), _flag(dropped).label("dropped"),
                   _flag(PreventionItem.is_overdue(now.date())).label("overdue"),
                   case((done, strength), else_=0).label("done_strength"),
                   case((dropped, 0), else_=strength).label("open_strength"),
                   _flag(and_(quiet, proven)).label("held"),
                   _flag(and_(quiet, ~proven)).label("unverified"),
                   outcome(Outcome.ESCAPED), outcome(Outcome.WATCHING),
                   _flag(PreventionItem.tracker_url.is_not(None)).label("tracker_linked"),
                   case((done, seconds_between(PreventionItem.created_at,
                                               PreventionItem.completed_at, sql) / 86400))
                   .label("days_to_done"))
            .select_from(PreventionItem)
            .outerjoin(verified, verified.c.prevention_item_id == PreventionItem.id)
            .where(*where))
    (row,) = grouped(session, rows, medians=("days_to_done",),
                     sums=("done", "dropped", "overdue", "done_strength", "open_strength",
                           "held", "unverified", "escaped", "watching", "tracker_linked"))
    created, done_n, dropped_n = row["count"], row["done"], row["dropped"]
    decided = row["held"] + row["unverified"] + row["escaped"]
    return {
        "created": created, "done": done_n, "overdue": row["overdue"], "dropped": dropped_n,
        "completion_rate": _rate(done_n, created - dropped_n),
        "weighted_completion_rate": _rate(row["done_strength"], row["open_strength"]),
        "median_days_to_done": row["days_to_done"],
        # Held: quiet through the watch window with its guard alive throughout (verified);
        # unverified: quiet, but nothing proved the guard ran.
        "held": row["held"], "unverified": row["unverified"], "escaped": row["escaped"],
        "watching": row["watching"],
        # Of the items whose watch is decided (held, unverified or escaped).
        "held_rate": _rate(row["held"], decided),
        "unverified_rate": _rate(row["unverified"], decided),
        "escaped_rate": _rate(row["escaped"], decided),
        "tracker_linked": row["tracker_linked"],
        "tracker_unlinked": created - row["tracker_linked"],
    }


HEALTHS = [h.value for h in Health] + ["no_guard"]


def _guard_health(session: Session, filters: ReportFilter, now: datetime,
                  watch_window_days: int) -> dict:
    """Done items' guard health per station and per owner team, in one statement."""
    population = select(PreventionItem.id).where(PreventionItem.status == PreventionStatus.DONE,
                                                  *_items_where(filters))
    items = (guard_health.guarded_items(session, now=now, watch_window_days=watch_window_days,
                                        item_ids=population, with_verified=False)
             .add_columns(PreventionItem.station_id, PreventionItem.owner_team_id)
             .where(PreventionItem.id.in_(population))
             .subquery())
    rows = session.execute(
        select(items.c.station_id, Station.name, Team.name, items.c.health, func.count())
        .select_from(items)
        .outerjoin(Station, Station.id == items.c.station_id)
        .outerjoin(Team, Team.id == items.c.owner_team_id)
        .group_by(items.c.station_id, Station.name, Team.name, items.c.health))
    by_station: dict[tuple, dict] = {}
    by_team: dict[str, dict] = {}
    for station_id, station, team, health, count in rows:
        state = health or "no_guard"
        for table, key, fields in (
                (by_station, (station_id, station), {"station_id": station_id,
                                                     "station": station or UNASSIGNED}),
                (by_team, team or UNASSIGNED, {"team": team or UNASSIGNED})):
            row = table.setdefault(key, {**fields, **dict.fromkeys(HEALTHS, 0), "done": 0})
            row[state] += count
            row["done"] += count

    def ordered(table: dict) -> list[dict]:
        broken = ("failing", "stale", "test_missing")
        return sorted(table.values(), key=lambda r: (-sum(r[h] for h in broken), -r["done"],
                                                     str(r.get("station") or r.get("team"))))

    return {"guard_health_by_station": ordered(by_station),
            "guard_health_by_team": ordered(by_team)}


def _reviews(session: Session, where: list, sql: str) -> dict:
    """Published reviews: how many link a structural item, time to review, time to prevent."""
    # Structural as "none of the other kinds": `kind IN (…)` tempts SQLite into the kind
    # index, a lookup per item that takes three times a plain scan of the links.
    weak = [kind for kind in PreventionKind if kind not in STRUCTURAL_KINDS]
    structural = (select(PreventionLink.incident_id,
                         func.count().label("total"),
                         func.sum(_flag(PreventionItem.status == PreventionStatus.DONE))
                         .label("done"),
                         func.max(PreventionItem.completed_at).label("last_done"))
                  .join(PreventionItem, PreventionItem.id == PreventionLink.prevention_item_id)
                  .where(PreventionItem.kind.not_in(weak),
                         PreventionItem.status != PreventionStatus.DROPPED)
                  .group_by(PreventionLink.incident_id).subquery())
    to_prevent = seconds_between(Review.published_at, structural.c.last_done, sql)
    rows = (select(
                _flag(structural.c.total > 0).label("with_structural_item"),
                seconds_between(Incident.resolved_at, Review.published_at, sql)
                .label("time_to_review_s"),
                case((structural.c.total == structural.c.done,
                      case((to_prevent < 0, 0), else_=to_prevent))).label("time_to_prevent_s"))
            .select_from(Review).join(Incident, Incident.id == Review.incident_id)
            .outerjoin(structural, structural.c.incident_id == Review.incident_id)
            .where(Review.state == ReviewState.PUBLISHED, Review.published_at.is_not(None),
                   *where))
    (row,) = grouped(session, rows, medians=("time_to_review_s", "time_to_prevent_s"),
                     sums=("with_structural_item",))
    return {"published": row["count"], "with_structural_item": row["with_structural_item"],
            "median_time_to_review_s": row["time_to_review_s"],
            "median_time_to_prevent_s": row["time_to_prevent_s"]}


def _measures(sql: str) -> list:
    return [seconds_between(Incident.started_at, Incident.detected_at, sql)
            .label("median_time_to_detect_s"),
            seconds_between(Incident.started_at, Incident.resolved_at, sql)
            .label("median_time_to_restore_s")]


MEASURES = ("median_time_to_detect_s", "median_time_to_restore_s")


def _by_month(session: Session, where: list, sql: str) -> list[dict]:
    rows = select(month_of(Incident.started_at, sql).label("month"), *_measures(sql)).where(*where)
    return [{"month": r["month"], "incidents": r["count"],
             **{name: r[name] for name in MEASURES}}
            for r in grouped(session, rows, group="month", medians=MEASURES)]


def _by_change_origin(session: Session, where: list, sql: str) -> list[dict]:
    """AI-assisted changes against the rest: incidents, medians and recurrences per origin."""
    # A join, not a correlated EXISTS per incident: that plan costs enough on PostgreSQL to
    # switch on JIT compilation, which alone took longer than the whole query.
    recurring = select(RecurrenceLink.incident_id).distinct().subquery()
    rows = (select(Incident.change_origin.label("change_origin"), *_measures(sql),
                   _flag(recurring.c.incident_id.is_not(None)).label("recurrences"))
            .outerjoin(recurring, recurring.c.incident_id == Incident.id).where(*where))
    result = [{"change_origin": r["change_origin"], "incidents": r["count"], "share": None,
               **{name: r[name] for name in MEASURES}, "recurrences": r["recurrences"]}
              for r in grouped(session, rows, group="change_origin", medians=MEASURES,
                               sums=("recurrences",))]
    return sorted(result, key=lambda r: (-r["incidents"], r["change_origin"]))


# Which field names a row in each list section, for the flat CSV.
ROW_KEYS = {"leaks_by_station": "station", "recurrences_by_defect_class": "defect_class",
            "recurrences_by_station": "station", "top_fingerprints": "fingerprint",
            "by_month": "month", "by_change_origin": "change_origin",
            "guard_health_by_station": "station", "guard_health_by_team": "team",
            "leaks_by_origin": "station"}
CSV_HEADER = ("section", "key", "metric", "value")


def flatten(report: dict) -> list[tuple]:
    """The report as (section, key, metric, value) rows: one table for spreadsheets."""
    rows: list[tuple] = []
    for section, value in report.items():
        if isinstance(value, list):
            key_field = ROW_KEYS[section]
            for item in value:
                rows += [(section, item[key_field], metric, v)
                         for metric, v in item.items() if metric != key_field]
        elif isinstance(value, dict):
            rows += [(section, "", metric, v) for metric, v in value.items()]
        else:
            rows.append((section, "", section, value))
    return rows


FORMULA_SIGNS = frozenset("=+-@")


def _could_start_formula(text: str) -> bool:
    """True when a spreadsheet might read `text` as a formula.

    Spreadsheets skip leading spaces, line breaks and invisible characters (zero-width space,
    byte-order mark…) and read the full-width and small forms of = + - @ (＝, ＋, ﹣, ＠) as the
    signs themselves: a cell that starts with anything invisible, or with any form of a sign,
    could be one.
    """
    first = text[:1]
    if not first:
        return False
    if first.isspace() or unicodedata.category(first)[0] in "CZ":
        return True
    return unicodedata.normalize("NFKC", first)[:1] in FORMULA_SIGNS


def _cell(value):
    """A CSV cell a spreadsheet will not run: text that could start a formula gets a leading
    quote (station names and echoed filters are user text)."""
    if value is None:
        return ""
    if isinstance(value, str) and _could_start_formula(value):
        return "'" + value
    return value


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in flatten(report):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()
