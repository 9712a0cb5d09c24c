"""`/api/v1/stations`: the line, in order."""

import marshmallow as ma

from incidents.api import Blueprint, secured
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.line import service

blp = Blueprint("line_api", __name__, url_prefix="/api/v1", description="The line's stations")


class StationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    position = ma.fields.Integer(required=True)
    catches = ma.fields.String(required=True)


StationList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(StationOut), required=True),
     "next": ma.fields.String(allow_none=True, required=True)},
    name="StationList",
)


@blp.route("/stations", methods=["GET"])
@secured(blp, Scope.API_READ)
@blp.response(200, StationList)
def list_stations():
    # The line is short (a dozen stations); it is never paged, so `next` is always null.
    return {"items": service.stations(session=get_session()), "next": None}
