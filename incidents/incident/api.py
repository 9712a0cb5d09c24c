"""`/api/v1/incidents`: a thin adapter over incidents.incident.service."""

from incidents.api import Blueprint, PageArgs, next_url, page_schema, secured, token_label
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.incident import service
from incidents.incident.models import Source
from incidents.incident.schemas import IncidentCreate, IncidentOut, IncidentPatch, IncidentQuery

blp = Blueprint("incidents_api", __name__, url_prefix="/api/v1", description="Incidents")

IncidentPage = page_schema(IncidentOut, "IncidentPage")


class IncidentListArgs(IncidentQuery, PageArgs):
    pass


@blp.route("/incidents", methods=["GET"])
@secured(blp, Scope.API_READ, 400)
@blp.arguments(IncidentListArgs, location="query", as_kwargs=True)
@blp.response(200, IncidentPage)
def list_incidents(limit, before=None, **filters):
    items, cursor = service.search(
        session=get_session(), filters=service.IncidentFilter(**filters), before=before,
        limit=limit,
    )
    return {"items": items, "next": next_url(cursor)}


@blp.route("/incidents", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400)
@blp.arguments(IncidentCreate)
@blp.response(201, IncidentOut)
def create_incident(data):
    session = get_session()
    incident = service.declare(session=session, source=Source.API, author_name=token_label(),
                               **data)
    session.commit()
    return incident


@blp.route("/incidents/<int:incident_id>", methods=["GET"])
@secured(blp, Scope.API_READ, 404)
@blp.response(200, IncidentOut)
def get_incident(incident_id):
    return service.get(session=get_session(), incident_id=incident_id)


@blp.route("/incidents/<int:incident_id>", methods=["PATCH"])
@secured(blp, Scope.API_WRITE, 400, 404)
@blp.arguments(IncidentPatch)
@blp.response(200, IncidentOut)
def patch_incident(data, incident_id):
    session = get_session()
    incident = service.get(session=session, incident_id=incident_id)
    summary = data.pop("summary", None)
    service.update(session=session, incident=incident, changes=service.Changes(**data),
                   author_name=token_label(), source="api", summary=summary)
    session.commit()
    return incident
