"""`/api/v1/prevention-items`: a thin adapter over incidents.prevention.service."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app

from incidents.api import Blueprint, PageArgs, next_url, page_schema, secured, token_label
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.db import MAX_ID, utcnow
from incidents.errors import InvalidInput
from incidents.guard import health as guard_health
from incidents.guard import service as guards
from incidents.guard.models import Health, Provider
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


def with_guard_views(items: list[PreventionItem]) -> list[PreventionItem]:
    """Give each item its guard's health and outcome, for all of them in one statement."""
    views = guard_health.views(session=get_session(), items=items, now=utcnow(),
                               watch_window_days=watch_window())
    for item in items:
        item.guard_view = views[item.id]
    return items


def _view(item: PreventionItem) -> guard_health.GuardView:
    if getattr(item, "guard_view", None) is None:
        with_guard_views([item])
    return item.guard_view


class GuardOut(ma.Schema):
    provider = ma.fields.String(required=True,
                                validate=ma.validate.OneOf([p.value for p in Provider]))
    repository = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True,
                            metadata={"description": "Check, job or workflow name (or file)"})
    test_id = ma.fields.String(allow_none=True)
    branch = ma.fields.String(allow_none=True,
                              metadata={"description": "null: the default branch"})
    url = ma.fields.String(allow_none=True)
    health = ma.fields.String(required=True, validate=ma.validate.OneOf([h.value for h in Health]))
    last_run_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    last_passed_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    stale_after_days = ma.fields.Integer(required=True, metadata={
        "description": "N: days without a passing run (or confirmation) before stale"})
    verified = ma.fields.Boolean(required=True, metadata={
        "description": "Stayed alive through the watch window (what makes an item held)"})


def _guard_out(item: PreventionItem, view: guard_health.GuardView) -> dict | None:
    guard = item.guard
    if guard is None:
        return None
    return {"provider": guard.provider, "repository": guard.repository, "name": guard.name,
            "test_id": guard.test_id, "branch": guard.branch, "url": guard.url,
            "health": view.health, "last_run_at": view.last_run_at,
            "last_passed_at": view.last_passed_at, "stale_after_days": view.days,
            "verified": view.verified}


class GuardIn(ma.Schema):
    provider = ma.fields.String(validate=ma.validate.OneOf([p.value for p in Provider]),
                                metadata={"description": "Without it, `url` is read as a "
                                                         "pasted link (like guard_url)"})
    repository = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=300))
    name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=300))
    test_id = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    branch = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    url = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))


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
    guard_url = ma.fields.String(allow_none=True, required=True,
                                 metadata={"description": "The guard's link (see guard)"})
    guard = ma.fields.Nested(GuardOut, attribute="guard_out", allow_none=True, required=True,
                             metadata={"description": "What runs to prove the item, and its "
                                                      "health"})
    guard_broken = ma.fields.Function(lambda i: i.guard_view.flagged, required=True, metadata={
        "description": "Done, and its guard is failing, stale or missing its test"})
    completed_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    escaped_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    escaped_by_incident_id = ma.fields.Integer(allow_none=True)
    overdue = ma.fields.Function(lambda i: i.is_overdue(utcnow().date()), required=True)
    outcome = ma.fields.Function(
        lambda i: i.guard_view.outcome.value if i.guard_view.outcome else None,
        allow_none=True, required=True, metadata={"enum": [o.value for o in Outcome] + [None]})
    assignee = ma.fields.Function(lambda i: i.assignee.email if i.assignee else None,
                                  allow_none=True, required=True,
                                  metadata={"description": "The email of the person doing it"})
    revision = ma.fields.Integer(required=True, metadata={
        "description": "Moves on with every change; an edit (PATCH) names the one it started "
                       "from"})
    incident_ids = ma.fields.List(ma.fields.Integer(), required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    tracker = TrackerField()

    @ma.pre_dump
    def _with_guard(self, item: PreventionItem, **_kwargs) -> PreventionItem:
        # Lists are given their guards' health in one statement (with_guard_views); a single
        # item gets its own here.
        item.guard_out = _guard_out(item, _view(item))
        return item


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


# The fields an edit changes (prevention.service.edit); each needs `revision` in the same body.
EDIT_FIELDS = ("title", "description", "kind", "station_id", "owner_team", "due_date",
               "assignee")


class ItemPatch(ma.Schema):
    title = ma.fields.String(validate=ma.validate.Length(min=1, max=300))
    description = ma.fields.String(validate=ma.validate.Length(max=20000))
    kind = ma.fields.String(validate=ma.validate.OneOf(_kinds))
    station_id = ma.fields.Integer(allow_none=True, validate=_an_id,
                                   metadata={"description": "null: no station"})
    owner_team = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=100),
                                  metadata={"description": "A team's name, as when creating"})
    due_date = ma.fields.Date(allow_none=True)
    assignee = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=320),
                                metadata={"description": "A user's email; null: nobody"})
    reason = ma.fields.String(validate=ma.validate.Length(max=5000), metadata={
        "description": "Why the due date moves (required when a set due date changes); kept "
                       "in the item's history with the old date"})
    revision = ma.fields.Integer(validate=ma.validate.Range(min=0, max=MAX_ID), metadata={
        "description": "The revision this edit started from (required with any of title, "
                       "description, kind, station_id, owner_team, due_date, assignee); a "
                       "stale one answers 409 with `current`, the item as it stands"})
    status = ma.fields.String(validate=ma.validate.OneOf(_statuses))
    guard_url = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000),
                                 metadata={"description": "A pasted check link: GitHub/GitLab "
                                                          "links become structured guards, "
                                                          "others manual ones"})
    guard = ma.fields.Nested(GuardIn, allow_none=True,
                             metadata={"description": "A structured guard; null removes it"})
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
    guard_health = ma.fields.String(
        validate=ma.validate.OneOf([h.value for h in Health] + ["broken"]),
        metadata={"description": "Items whose guard is in this health now; `broken`: done "
                                 "items whose guard is failing, stale or missing its test"})


ItemPage = page_schema(ItemOut, "PreventionItemPage")


@blp.route("/prevention-items", methods=["GET"])
@secured(blp, Scope.API_READ, 400)
@blp.arguments(ItemQuery, location="query", as_kwargs=True)
@blp.response(200, ItemPage)
def list_items(limit, before=None, **filters):
    items, cursor = service.search(session=get_session(), filters=service.ItemFilter(**filters),
                                   before=before, limit=limit, **clock())
    return {"items": with_guard_views(items), "next": next_url(cursor)}


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
@secured(blp, Scope.API_WRITE, 400, 404, 409, 422)
@blp.arguments(ItemPatch)
@blp.response(200, ItemOut)
def patch_item(data, item_id):
    """Edit the item, move it along its statuses, set its guard, or drop it with a reason.

    Edits name the `revision` they started from; a stale one answers 409 with `current`.
    """
    session = get_session()
    item = service.get(session=session, item_id=item_id)
    if "guard" in data and "guard_url" in data:
        raise InvalidInput("send guard or guard_url, not both", field="guard")
    if data.get("guard") is not None:
        data["guard"] = guard_spec(session, data["guard"])
    edits = {field: data.pop(field) for field in EDIT_FIELDS if field in data}
    reason, revision = data.pop("reason", None), data.pop("revision", None)
    try:
        if edits:
            if revision is None:
                raise InvalidInput("an edit needs the revision it started from", field="revision")
            service.edit(session=session, item=item, base_revision=revision, reason=reason,
                         actor_label=token_label(), **edits)
            revision = None  # claimed by the edit; a status move in the same body follows it
        if data:
            service.update(session=session, item=item, base_revision=revision,
                           actor_label=token_label(), **data)
    except service.StaleItem as stale:
        stale.extra["current"] = ItemOut().dump(stale.current)
        raise
    session.commit()
    return item


def guard_spec(session, given: dict) -> guards.GuardSpec:
    """A structured guard, or (without a provider) the guard a pasted link names."""
    if "provider" not in given:
        return guards.spec_from_url(session=session, url=given.get("url"), field="guard.url")
    return guards.spec(**given)
