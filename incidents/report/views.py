"""`/reports/recurrence`: the report page for leads, with its CSV and JSON exports."""

from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, jsonify, render_template, request
from sqlalchemy import select

from incidents.appdb import get_session
from incidents.auth.models import Role, Team
from incidents.auth.permissions import role_required
from incidents.errors import DomainError
from incidents.incident import service as incidents
from incidents.incident.models import ChangeOrigin
from incidents.report import charts
from incidents.report.api import build, csv_response
from incidents.report.schemas import ReportArgs

bp = Blueprint("report", __name__)


# The filter form's words for the query's fields, for messages about them.
FILTER_NAMES = {"from": "From", "to": "To", "team": "Team", "service": "Service",
                "origin": "Change origin", "format": "Format"}


def _filter_problems(messages: dict) -> str:
    """`{"from": ["Not a valid date."]}` → `From: not a valid date (use YYYY-MM-DD)`."""
    parts = []
    for field in sorted(messages):
        text = " ".join(messages[field]).rstrip(".")
        text = text[:1].lower() + text[1:]
        if field in ("from", "to"):
            text += " (use a date like 2026-03-31)"
        parts.append(f"{FILTER_NAMES.get(field, field)}: {text}")
    return "; ".join(parts)


@bp.route("/reports/recurrence")
@role_required(Role.LEAD)
def recurrence():
    # The filter form sends empty fields for "any": they mean no filter, not a bad date.
    given = {name: value for name, value in request.args.items() if value}
    query = {k: v for k, v in given.items() if k in ("from", "to", "team", "service", "origin")}
    # Filters that cannot be applied are refused, never dropped: a report of everything
    # under a title the reader thinks is filtered would mislead.
    try:
        args = ReportArgs().load(given)
        report = build(args)
    except ma.ValidationError as exc:
        return _page(query, refused=_filter_problems(exc.messages)), 400
    except DomainError as exc:
        return _page(query, refused=exc.message[:1].upper() + exc.message[1:]), 400
    if args["format"] == "csv":
        return csv_response(report)
    if given.get("format") == "json":
        return jsonify(report)
    return _page(query, report=report)


def _page(query: dict, *, report: dict | None = None, refused: str = ""):
    db = get_session()
    return render_template(
        "report/recurrence.html", report=report, refused=refused, query=query,
        charts=charts.all_charts(report) if report else {},
        services=incidents.services(session=db),
        teams=list(db.scalars(select(Team.name).order_by(Team.name))),
        origins=list(ChangeOrigin), defect_label=charts.defect_class_label,
        origin_label=charts.origin_label,
    )
