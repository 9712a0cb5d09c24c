"""`/api/v1/incidents/<id>/timeline`."""

import marshmallow as ma

from incidents.api import (
    Blueprint,
    PageArgs,
    id_field,
    next_url,
    page_schema,
    secured,
    token_label,
)
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.incident import service as incidents
from incidents.timeline import service
from incidents.timeline.models import EventKind

blp = Blueprint("timeline_api", __name__, url_prefix="/api/v1", description="Timeline events")

_kinds = [k.value for k in EventKind]


class EventOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    incident_id = ma.fields.Integer(required=True)
    occurred_at = ma.fields.AwareDateTime(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(_kinds))
    text = ma.fields.String(required=True)
    author = ma.fields.String(attribute="author_name", required=True)
    source = ma.fields.String(required=True)
    link = ma.fields.String(allow_none=True, required=True)
    edited_at = ma.fields.AwareDateTime(allow_none=True)
    edited_by = ma.fields.String(allow_none=True,
                                 metadata={"description": "Who last edited the text, if anyone"})


class EventCreate(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20_000))
    kind = ma.fields.String(load_default="note", validate=ma.validate.OneOf(_kinds))
    occurred_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    link = ma.fields.URL(load_default=None, allow_none=True, schemes={"http", "https"})


class TimelineArgs(PageArgs):
    class Meta:
        exclude = ("before",)

    after = id_field(metadata={"description": "Cursor from `next`: events after this id"})


EventPage = page_schema(EventOut, "EventPage")


@blp.route("/incidents/<int:incident_id>/timeline", methods=["GET"])
@secured(blp, Scope.API_READ, 400, 404)
@blp.arguments(TimelineArgs, location="query", as_kwargs=True)
@blp.response(200, EventPage)
def list_events(incident_id, limit, after=None):
    session = get_session()
    incidents.get(session=session, incident_id=incident_id)
    events = service.events_for(session=session, incident_id=incident_id, limit=limit + 1,
                                after_id=after)
    more = len(events) > limit
    events = events[:limit]
    return {"items": events, "next": next_url(events[-1].id if more else None, "after")}


@blp.route("/incidents/<int:incident_id>/timeline", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404)
@blp.arguments(EventCreate)
@blp.response(201, EventOut)
def add_event(data, incident_id):
    session = get_session()
    incident = incidents.get(session=session, incident_id=incident_id)
    event = service.add_event(session=session, incident=incident, author_name=token_label(),
                              source="api", **data)
    session.commit()
    return event
