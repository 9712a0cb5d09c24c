"""The report's per-change figures: incidents per 100 changes by origin, how much of the change
stream could be attributed, and which stations leak for each origin.

The denominator is changes *deployed to production* in the period (`deployed_at`), of the
report's service (a team's services are those its incidents name), of the origin filtered on.
The numerator is incidents *started* in the period, counted by their change origin — set when
a reviewer confirms a change, or by hand. Three aggregate queries, at any size.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.auth.models import Team
from incidents.change.models import Change, IncidentChange
from incidents.incident.models import ChangeOrigin, Incident
from incidents.line.models import Station
from incidents.review.models import Review, StationFinding

ORIGINS = [o.value for o in ChangeOrigin]


def _rate(part: int, whole: int, scale: int = 1, digits: int = 3) -> float | None:
    return round(scale * part / whole, digits) if whole else None


def _changes_where(filters, in_period) -> list:
    clauses = [Change.deployed_at.is_not(None), *in_period(Change.deployed_at)]
    if filters.service:
        clauses.append(Change.service == filters.service)
    if filters.team:
        team_services = select(Incident.service).where(
            Incident.team_id.in_(select(Team.id).where(Team.name == filters.team)),
            Incident.service.is_not(None)).distinct()
        clauses.append(Change.service.in_(team_services))
    if filters.origin:
        clauses.append(Change.origin == filters.origin)
    return clauses


def add_rates(*, session: Session, filters, in_period, incidents_where: list,
              by_origin: list[dict]) -> dict:
    """Add `changes`, `incidents_per_100_changes` and `share_of_changes` to the report's
    `by_change_origin` rows (adding rows for origins with changes but no incidents), and
    return the report's `change_attribution` and `leaks_by_origin` sections.

    `in_period(column)` gives the report period's clauses on a timestamp column."""
    counts = dict(session.execute(
        select(Change.origin, func.count()).where(*_changes_where(filters, in_period))
        .group_by(Change.origin)).all())
    total = sum(counts.values())
    present = {row["change_origin"] for row in by_origin}
    for origin in ORIGINS:
        if counts.get(origin) and origin not in present:
            by_origin.append({"change_origin": origin, "incidents": 0, "share": None,
                              "median_time_to_detect_s": None,
                              "median_time_to_restore_s": None, "recurrences": 0})
    for row in by_origin:
        changes = counts.get(row["change_origin"], 0)
        row["changes"] = changes
        row["incidents_per_100_changes"] = _rate(row["incidents"], changes, 100, 2)
        row["share_of_changes"] = _rate(changes, total)
    by_origin.sort(key=lambda r: (-r["incidents"], -r["changes"], r["change_origin"]))
    unknown = counts.get(ChangeOrigin.UNKNOWN.value, 0)
    linked = select(func.count(func.distinct(IncidentChange.incident_id))).select_from(
        IncidentChange)
    if incidents_where:
        linked = linked.join(Incident, Incident.id == IncidentChange.incident_id) \
            .where(*incidents_where)
    return {
        "change_attribution": {
            "changes": total, "unknown_changes": unknown,
            "unknown_share": _rate(unknown, total),
            "attribution_coverage": _rate(total - unknown, total),
            "incidents_linked_to_a_change": session.scalar(linked),
        },
        "leaks_by_origin": _leaks_by_origin(session, incidents_where),
    }


def _leaks_by_origin(session: Session, incidents_where: list) -> list[dict]:
    """Per station: how many incidents of each change origin its findings name."""
    count = func.count().label("leaks")
    rows = session.execute(
        select(Station.id, Station.name, Incident.change_origin, count)
        .select_from(StationFinding)
        .join(Review, Review.id == StationFinding.review_id)
        .join(Incident, Incident.id == Review.incident_id)
        .join(Station, Station.id == StationFinding.station_id)
        .where(*incidents_where)
        .group_by(Station.id, Station.name, Station.position, Incident.change_origin)
        .order_by(Station.position, Station.id))
    table: dict[int, dict] = {}
    for station_id, name, origin, leaks in rows:
        row = table.setdefault(station_id, {"station_id": station_id, "station": name,
                                            **{o: 0 for o in ORIGINS}, "total": 0})
        row[origin] = leaks
        row["total"] += leaks
    return sorted(table.values(), key=lambda r: -r["total"])
