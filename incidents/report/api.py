"""`/api/v1/reports/recurrence`: the report as JSON, or CSV with `?format=csv`."""

from flask import Response, current_app

from incidents.api import Blueprint, secured
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.db import utcnow
from incidents.report import service
from incidents.report.schemas import ReportArgs, ReportOut

blp = Blueprint("report_api", __name__, url_prefix="/api/v1", description="The recurrence report")


def build(args: dict) -> dict:
    """The report for query arguments parsed by ReportArgs (shared with the browser page)."""
    filters = service.ReportFilter(start=args.get("start"), end=args.get("end"),
                                   team=args.get("team") or None,
                                   service=args.get("service") or None,
                                   origin=args.get("origin") or None)
    return service.recurrence_report(session=get_session(), filters=filters, now=utcnow(),
                                     watch_window_days=int(current_app.config["WATCH_WINDOW_DAYS"]))


def csv_response(report: dict) -> Response:
    return Response(service.to_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=recurrence-report.csv"})


@blp.route("/reports/recurrence", methods=["GET"])
@secured(blp, Scope.API_READ, 400)
@blp.arguments(ReportArgs, location="query")
@blp.response(200, ReportOut)
# The same figures as CSV with format=csv; listing both types replaces the generated content.
@blp.doc(responses={"200": {"description": "The report, as JSON or (format=csv) as CSV",
                            "content": {"application/json": {"schema": ReportOut},
                                        "text/csv": {"schema": {"type": "string"}}}}})
def recurrence_report(args):
    """Where the line leaks, which defect classes recur, whether prevention gets done and holds.

    With `format=csv` the same figures come as text/csv, one row each: section, key, metric,
    value.
    """
    report = build(args)
    return csv_response(report) if args["format"] == "csv" else report
