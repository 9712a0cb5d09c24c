"""`/api/v1/changes`, and an incident's suspect and confirmed changes: thin adapters over
incidents.change.service and incidents.change.suspects."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app

from incidents.api import Blueprint, PageArgs, id_field, next_url, page_schema, secured, token_label
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.change import service, suspects
from incidents.incident import service as incidents
from incidents.incident.models import ChangeOrigin

blp = Blueprint("changes_api", __name__, url_prefix="/api/v1",
                description="Changes: merged and deployed, their origin and why; an incident's "
                            "suspect changes and the ones confirmed as its trigger")

_origins = [o.value for o in ChangeOrigin]


class ChangeOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    repository = ma.fields.String(required=True)
    revision = ma.fields.String(required=True, metadata={
        "description": "The commit SHA, or `version:<name>` when only a version was given"})
    short = ma.fields.String()
    service = ma.fields.String(allow_none=True)
    environment = ma.fields.String(allow_none=True)
    version = ma.fields.String(allow_none=True)
    title = ma.fields.String()
    url = ma.fields.String(allow_none=True)
    number = ma.fields.Integer(allow_none=True, metadata={"description": "Pull / merge request"})
    author = ma.fields.String(allow_none=True)
    merged_at = ma.fields.AwareDateTime(allow_none=True)
    deployed_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "First production deploy; null while not deployed"})
    approvals = ma.fields.Integer(allow_none=True, metadata={"description": "null: unknown"})
    checks_passed = ma.fields.Boolean(allow_none=True)
    failing_checks = ma.fields.List(ma.fields.String())
    canary = ma.fields.Boolean(allow_none=True)
    squashed = ma.fields.Boolean(allow_none=True)
    labels = ma.fields.List(ma.fields.String())
    trailers = ma.fields.List(ma.fields.String())
    components = ma.fields.List(ma.fields.String())
    sources = ma.fields.List(ma.fields.String())
    origin = ma.fields.String(required=True, validate=ma.validate.OneOf(_origins))
    origin_reason = ma.fields.String(required=True, metadata={"description": "What decided it"})
    evidence = ma.fields.List(ma.fields.String(), metadata={"description": "Every signal seen"})
    created_at = ma.fields.AwareDateTime(required=True)


class ChangeQuery(PageArgs):
    service = ma.fields.String()
    origin = ma.fields.String(validate=ma.validate.OneOf(_origins))
    repository = ma.fields.String()
    deployed = ma.fields.Boolean(metadata={"description": "Only deployed (true) or undeployed "
                                                          "(false) changes"})


class SuggestionOut(ma.Schema):
    station = ma.fields.String(attribute="role", metadata={"description": "review | ci | canary"})
    reason = ma.fields.String()
    note = ma.fields.String()


class SuspectOut(ma.Schema):
    change = ma.fields.Nested(ChangeOut, required=True)
    score = ma.fields.Float(required=True)
    reasons = ma.fields.List(ma.fields.String(), required=True)
    minutes_before = ma.fields.Integer(metadata={"description": "Deployed this long before the "
                                                                "incident started"})
    suggestions = ma.fields.List(ma.fields.Nested(SuggestionOut), metadata={
        "description": "Station findings confirming it would record"})


class SuspectArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=50))


class ChangeConfirmIn(ma.Schema):
    change_id = id_field(required=True)


class ChangeConfirmedOut(ma.Schema):
    change = ma.fields.Nested(ChangeOut, required=True)
    created = ma.fields.Boolean(required=True)
    change_origin = ma.fields.String(attribute="origin", required=True,
                                     metadata={"description": "The incident's, afterwards"})
    origin_note = ma.fields.String()
    findings = ma.fields.List(ma.fields.String(), metadata={
        "description": "Station findings recorded from the change's record"})
    skipped = ma.fields.List(ma.fields.String())


def _list(name: str, schema) -> type[ma.Schema]:
    # Bounded lists, never paged: `next` is always null.
    return ma.Schema.from_dict({"items": ma.fields.List(ma.fields.Nested(schema), required=True),
                                "next": ma.fields.String(allow_none=True, required=True)},
                               name=name)


@blp.route("/changes", methods=["GET"])
@secured(blp, Scope.API_READ, 400)
@blp.arguments(ChangeQuery, location="query", as_kwargs=True)
@blp.response(200, page_schema(ChangeOut, "ChangePage"))
def list_changes(limit, before=None, **filters):
    """Changes newest first, with their origin and why."""
    items, cursor = service.search(session=get_session(), filters=service.ChangeFilter(**filters),
                                   before=before, limit=limit)
    return {"items": items, "next": next_url(cursor)}


@blp.route("/changes/<int:change_id>", methods=["GET"])
@secured(blp, Scope.API_READ, 404)
@blp.response(200, ChangeOut)
def get_change(change_id):
    return service.get(session=get_session(), change_id=change_id)


@blp.route("/incidents/<int:incident_id>/suspect-changes", methods=["GET"])
@secured(blp, Scope.API_READ, 400, 404)
@blp.arguments(SuspectArgs, location="query", as_kwargs=True)
@blp.response(200, _list("SuspectList", SuspectOut))
def list_suspects(incident_id, limit):
    """Changes to the incident's service deployed in the window before it started (setting
    SUSPECT_WINDOW_HOURS), best first, each with its reasons."""
    session = get_session()
    incident = incidents.get(session=session, incident_id=incident_id)
    window = service.Settings.from_config(current_app.config).window
    found = suspects.suspects(session=session, incident=incident, window=window, limit=limit)
    return {"items": found, "next": None}


@blp.route("/incidents/<int:incident_id>/changes", methods=["GET"])
@secured(blp, Scope.API_READ, 404)
@blp.response(200, _list("ConfirmedChangeList", ChangeOut))
def list_confirmed(incident_id):
    """Changes confirmed as the incident's trigger."""
    session = get_session()
    incidents.get(session=session, incident_id=incident_id)
    return {"items": suspects.confirmed(session=session, incident_id=incident_id), "next": None}


@blp.route("/incidents/<int:incident_id>/changes", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404)
@blp.arguments(ChangeConfirmIn)
@blp.response(201, ChangeConfirmedOut)
def confirm_change(data, incident_id):
    """Confirm a change as a trigger: the incident takes its origin, and the station walk
    records what its record proves (201; 200 when it already was confirmed)."""
    session = get_session()
    done = suspects.confirm(session=session, incident_id=incident_id,
                            change_id=data["change_id"], actor_label=token_label(),
                            source="api")
    session.commit()
    return done, (201 if done.created else 200)
