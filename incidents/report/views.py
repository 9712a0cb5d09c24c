"""`/reports/recurrence`: the report page for leads, with its CSV and JSON exports."""

from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, flash, jsonify, render_template, request
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


@bp.route("/reports/recurrence")
@role_required(Role.LEAD)
def recurrence():
    # The filter form sends empty fields for "any": they mean no filter, not a bad date.
    given = {name: value for name, value in request.args.items() if value}
    try:
        args = ReportArgs().load(given)
    except ma.ValidationError as exc:
        flash("Check the filters: " + ", ".join(sorted(exc.messages)), "error")
        args = ReportArgs().load({})
    try:
        report = build(args)
    except DomainError as exc:
        flash(exc.message, "error")
        args, given = ReportArgs().load({}), {}
        report = build(args)
    if args["format"] == "csv":
        return csv_response(report)
    if given.get("format") == "json":
        return jsonify(report)
    db = get_session()
    query = {k: v for k, v in given.items() if k in ("from", "to", "team", "service", "origin")}
    return render_template(
        "report/recurrence.html", report=report, charts=charts.all_charts(report), query=query,
        services=incidents.services(session=db),
        teams=list(db.scalars(select(Team.name).order_by(Team.name))),
        origins=list(ChangeOrigin), defect_label=charts.defect_class_label,
        origin_label=charts.origin_label,
    )
