"""`/api/v1/prevention-items`: a thin adapter over incidents.prevention.service."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app

from incidents.api import Blueprint, PageArgs, next_url, page_schema, secured, token_label
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.db import MAX_ID, utcnow
from incidents.prevention import service
from incidents.prevention.models import Outcome, PreventionItem, PreventionKind, PreventionStatus
from incidents.tracker.schemas import TrackerField

blp = Blueprint("prevention_api", __name__, url_prefix="/api/v1",
                description="Prevention items (poka-yoke)")

_kinds = [k.value for k in PreventionKind]
_statuses = [s.value for s in PreventionStatus]
_an_id = ma.validate.Range(min=1, max=MAX_ID)  # past the database's integers nothing matches


def watch_window() -> int:
    return int(current_app.config["WATCH_WINDOW_DAYS"])


def clock() -> dict:
    """Today, now and the watch window: what overdue and outcome are computed against."""
    now = utcnow()
    return {"today": now.date(), "now": now, "watch_window_days": watch_window()}


def _outcome(item: PreventionItem) -> str | None:
    outcome = item.outcome_at(utcnow(), watch_window())
    return outcome.value if outcome else None


class ItemOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String()
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(_kinds))
    strength = ma.fields.Integer(required=True, metadata={"description": "5 eliminate … 0 advice"})
    structural = ma.fields.Boolean(required=True)
    station_id = ma.fields.Integer(allow_none=True, required=True)
    station = ma.fields.Function(lambda i: i.station.name if i.station else None, allow_none=True)
    owner_team = ma.fields.Function(lambda i: i.owner_team.name if i.owner_team else None,
                                    allow_none=True)
    due_date = ma.fields.Date(allow_none=True, required=True)
    tracker_url = ma.fields.String(allow_none=True, required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(_statuses))
    dropped_reason = ma.fields.String(allow_none=True)
    guard_url = ma.fields.String(allow_none=True, required=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    escaped_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    escaped_by_incident_id = ma.fields.Integer(allow_none=True)
    overdue = ma.fields.Function(lambda i: i.is_overdue(utcnow().date()), required=True)
    outcome = ma.fields.Function(_outcome, allow_none=True, required=True,
                                 metadata={"enum": [o.value for o in Outcome] + [None]})
    incident_ids = ma.fields.List(ma.fields.Integer(), required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    tracker = TrackerField()


class ItemCreate(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=300))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(_kinds))
    station_id = ma.fields.Integer(load_default=None, allow_none=True, validate=_an_id)
    owner_team = ma.fields.String(load_default=None, allow_none=True,
                                  validate=ma.validate.Length(max=100))
    due_date = ma.fields.Date(load_default=None, allow_none=True)
    tracker_url = ma.fields.String(load_default=None, allow_none=True,
                                   validate=ma.validate.Length(max=2000))
    description = ma.fields.String(load_default="")


class ItemPatch(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(_statuses))
    guard_url = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))
    dropped_reason = ma.fields.String(validate=ma.validate.Length(max=5000))


class ItemQuery(PageArgs):
    team = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf(_statuses))
    kind = ma.fields.String(validate=ma.validate.OneOf(_kinds))
    strength = ma.fields.Integer(validate=ma.validate.Range(min=0, max=5))
    station_id = ma.fields.Integer(validate=_an_id)
    overdue = ma.fields.Boolean()
    outcome = ma.fields.String(validate=ma.validate.OneOf([o.value for o in Outcome]))
    incident_id = ma.fields.Integer(validate=_an_id)


ItemPage = page_schema(ItemOut, "PreventionItemPage")


@blp.route("/prevention-items", methods=["GET"])
@secured(blp, Scope.API_READ, 400)
@blp.arguments(ItemQuery, location="query", as_kwargs=True)
@blp.response(200, ItemPage)
def list_items(limit, before=None, **filters):
    items, cursor = service.search(session=get_session(), filters=service.ItemFilter(**filters),
                                   before=before, limit=limit, **clock())
    return {"items": items, "next": next_url(cursor)}


@blp.route("/prevention-items", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404)
@blp.arguments(ItemCreate)
@blp.response(201, ItemOut)
def create_item(data):
    session = get_session()
    item = service.create_item(session=session, actor_label=token_label(), **data)
    session.commit()
    return item


@blp.route("/prevention-items/<int:item_id>", methods=["GET"])
@secured(blp, Scope.API_READ, 404)
@blp.response(200, ItemOut)
def get_item(item_id):
    return service.get(session=get_session(), item_id=item_id)


@blp.route("/prevention-items/<int:item_id>", methods=["PATCH"])
@secured(blp, Scope.API_WRITE, 400, 404, 422)
@blp.arguments(ItemPatch)
@blp.response(200, ItemOut)
def patch_item(data, item_id):
    """Move the item along its statuses, set its guard, or drop it with a reason."""
    session = get_session()
    item = service.get(session=session, item_id=item_id)
    service.update(session=session, item=item, actor_label=token_label(), **data)
    session.commit()
    return item
