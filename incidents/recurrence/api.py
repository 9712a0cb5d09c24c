"""`/api/v1/incidents/<id>/recurrence-candidates` and `/recurrences`."""

from __future__ import annotations

import marshmallow as ma

from incidents.api import Blueprint, secured, token_label
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.db import MAX_ID
from incidents.incident import service as incidents
from incidents.recurrence import service

blp = Blueprint("recurrence_api", __name__, url_prefix="/api/v1",
                description="Recurrence candidates and confirmed recurrences")


class CandidateOut(ma.Schema):
    incident_id = ma.fields.Function(lambda c: c.incident.id, required=True)
    title = ma.fields.Function(lambda c: c.incident.title)
    started_at = ma.fields.Function(lambda c: c.incident.started_at.isoformat())
    score = ma.fields.Float(required=True)
    reasons = ma.fields.List(ma.fields.String(), required=True)


class CandidateArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=50))


def _reasons(link) -> list[str]:
    return [reason for reason in link.reasons.split("; ") if reason]


class LinkOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    incident_id = ma.fields.Integer(required=True)
    earlier_incident_id = ma.fields.Integer(required=True)
    reasons = ma.fields.Function(_reasons)
    created_at = ma.fields.AwareDateTime(required=True)


class ConfirmedOut(ma.Schema):
    """The link, and the prevention items this recurrence showed did not hold."""

    id = ma.fields.Integer(attribute="link.id", required=True)
    incident_id = ma.fields.Integer(attribute="link.incident_id", required=True)
    earlier_incident_id = ma.fields.Integer(attribute="link.earlier_incident_id", required=True)
    reasons = ma.fields.Function(lambda confirmed: _reasons(confirmed.link))
    created_at = ma.fields.AwareDateTime(attribute="link.created_at", required=True)
    escaped_item_ids = ma.fields.Function(lambda c: [item.id for item in c.escaped],
                                          required=True)


_an_id = ma.validate.Range(min=1, max=MAX_ID)


class UndoneOut(ma.Schema):
    """What undoing a recurrence changed: the items no longer escaped, and the items still
    escaped because another confirmed recurrence shows it."""

    incident_id = ma.fields.Integer(required=True)
    earlier_incident_id = ma.fields.Integer(required=True)
    no_longer_escaped_item_ids = ma.fields.Function(
        lambda u: [item.id for item in u.released], required=True)
    escaped_by_another_item_ids = ma.fields.Function(
        lambda u: [item.id for item in u.moved], required=True)


class RecurrenceCreate(ma.Schema):
    of = ma.fields.Integer(required=True, validate=_an_id,
                           metadata={"description": "The earlier incident's id"})


class DismissalCreate(ma.Schema):
    candidate_id = ma.fields.Integer(required=True, validate=_an_id)


def _list(name: str, schema) -> type[ma.Schema]:
    # Candidates and links are short, bounded lists: never paged, so `next` is always null.
    return ma.Schema.from_dict({"items": ma.fields.List(ma.fields.Nested(schema), required=True),
                                "next": ma.fields.String(allow_none=True, required=True)},
                               name=name)


@blp.route("/incidents/<int:incident_id>/recurrence-candidates", methods=["GET"])
@secured(blp, Scope.API_READ, 400, 404)
@blp.arguments(CandidateArgs, location="query", as_kwargs=True)
@blp.response(200, _list("CandidateList", CandidateOut))
def list_candidates(incident_id, limit):
    """Earlier incidents that may be the same defect class, best first, with the reasons."""
    found = service.candidates(session=get_session(), incident_id=incident_id, limit=limit)
    return {"items": found, "next": None}


@blp.route("/incidents/<int:incident_id>/recurrence-candidates/dismissals", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404)
@blp.arguments(DismissalCreate)
@blp.response(204)
def dismiss_candidate(data, incident_id):
    """Say a suggested incident is not a recurrence; it is not suggested again."""
    session = get_session()
    service.dismiss(session=session, incident_id=incident_id, candidate_id=data["candidate_id"])
    session.commit()


@blp.route("/incidents/<int:incident_id>/recurrences", methods=["GET"])
@secured(blp, Scope.API_READ, 404)
@blp.response(200, _list("RecurrenceList", LinkOut))
def list_recurrences(incident_id):
    """Confirmed recurrences either way: what this incident recurs and what recurred it."""
    session = get_session()
    incidents.get(session=session, incident_id=incident_id)
    return {"items": service.links_for(session=session, incident_id=incident_id), "next": None}


@blp.route("/incidents/<int:incident_id>/recurrences", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404)
@blp.arguments(RecurrenceCreate)
@blp.response(201, ConfirmedOut)
@blp.alt_response(200, schema=ConfirmedOut, success=True,
                  description="It was already confirmed; nothing changed")
def confirm_recurrence(data, incident_id):
    """Confirm this incident recurs an earlier one (200 when it already was)."""
    session = get_session()
    confirmed = service.confirm(session=session, incident_id=incident_id, earlier_id=data["of"],
                                actor_label=token_label())
    session.commit()
    return confirmed, (201 if confirmed.created else 200)


@blp.route("/incidents/<int:incident_id>/recurrences/<int:earlier_id>", methods=["DELETE"])
@secured(blp, Scope.API_WRITE, 404)
@blp.response(200, UndoneOut)
def undo_recurrence(incident_id, earlier_id):
    """Take back a confirmed recurrence (audited); 404 when there is none.

    The prevention items it marked escaped are decided again from the recurrences still
    confirmed: no longer escaped, or escaped by the first later recurrence that shows it.
    """
    session = get_session()
    undone = service.undo(session=session, incident_id=incident_id, earlier_id=earlier_id,
                          actor_label=token_label())
    session.commit()
    return undone
