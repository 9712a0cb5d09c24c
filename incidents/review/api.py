"""`/api/v1/incidents/<id>/review` and `/api/v1/blame-check`: thin adapters over the service."""

from __future__ import annotations

import marshmallow as ma
from sqlalchemy.orm import Session

from incidents.api import Blueprint, next_url, page_schema, secured, token_label
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.blame import guard
from incidents.errors import InvalidInput
from incidents.review import service
from incidents.review.models import Review
from incidents.review.schemas import (
    MAX_ID,
    BlameCheckIn,
    BlameCheckOut,
    FindingIn,
    FindingOut,
    ItemLinkIn,
    KeepFlagIn,
    LinkedItemOut,
    ReviewIn,
    ReviewOut,
    RevisionOut,
)

blp = Blueprint("review_api", __name__, url_prefix="/api/v1",
                description="Post-incident reviews, the publish gate and the blame check")

RevisionPage = page_schema(RevisionOut, "RevisionPage")


class RevisionArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    before = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID), metadata={
        "description": "Cursor from `next`: revisions older than this one"})


def review_body(session: Session, review: Review) -> dict:
    """The review with what is derived from it: linked items, flags, what the gate misses."""
    items = service.prevention_items(session=session, review=review) if review.id else []
    return {
        "id": review.id, "incident_id": review.incident_id, "state": review.state,
        "markdown": review.markdown, "defect_class": review.defect_class,
        "revision": review.revision, "updated_at": review.updated_at,
        "published_at": review.published_at, "findings": service.findings(review),
        "prevention_items": [item_body(item) for item in items],
        "flags": [dict(f.flag.as_dict(), where=f.where,
                       kept_reason=f.kept.reason if f.kept else None)
                  for f in service.flags(review)],
        "missing": service.missing_for_publish(session=session, review=review, items=items),
    }


def item_body(item) -> dict:
    return {"id": item.id, "title": item.title, "kind": item.kind, "strength": item.strength,
            "status": item.status, "weak": service.weakness(item)}


def _started(incident_id: int) -> tuple[Session, Review]:
    session = get_session()
    return session, service.start(session=session, incident_id=incident_id)


@blp.route("/incidents/<int:incident_id>/review", methods=["GET"])
@secured(blp, Scope.API_READ, 404)
@blp.response(200, ReviewOut)
def get_review(incident_id):
    """The incident's review (an empty draft with `id` null until someone starts it)."""
    session = get_session()
    return review_body(session, service.get_or_new(session=session, incident_id=incident_id))


@blp.route("/incidents/<int:incident_id>/review", methods=["PUT"])
@secured(blp, Scope.API_WRITE, 400, 404, 409, 422)
@blp.arguments(ReviewIn)
@blp.response(200, ReviewOut)
def put_review(data, incident_id):
    """Save the write-up and defect class; a stale `revision` answers 409 with `current`."""
    session, review = _started(incident_id)
    changes = {k: data[k] for k in ("markdown", "defect_class") if k in data}
    try:
        service.save(session=session, review=review, base_revision=data["revision"],
                     author_label=token_label(), **changes)
    except service.StaleReview as stale:
        stale.extra["current"] = ReviewOut().dump(review_body(session, stale.current))
        raise
    session.commit()
    return review_body(session, review)


@blp.route("/incidents/<int:incident_id>/review/revisions", methods=["GET"])
@secured(blp, Scope.API_READ, 400, 404)
@blp.arguments(RevisionArgs, location="query")
@blp.response(200, RevisionPage)
def list_revisions(args, incident_id):
    """Every save of the review, newest first."""
    session = get_session()
    review = service.get_or_new(session=session, incident_id=incident_id)
    history = service.revisions(session=session, review=review) if review.id else []
    if "before" in args:
        history = [r for r in history if r.revision < args["before"]]
    page = history[:args["limit"]]
    more = len(history) > args["limit"]
    return {"items": page, "next": next_url(page[-1].revision if more else None)}


@blp.route("/incidents/<int:incident_id>/review/findings", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404, 422)
@blp.arguments(FindingIn)
@blp.response(201, FindingOut)
@blp.alt_response(200, schema=FindingOut, description="An existing finding was updated")
def set_finding(data, incident_id):
    """Record why a station did not catch the defect (one finding per station)."""
    session, review = _started(incident_id)
    finding, created = service.set_finding(session=session, review=review, **data)
    session.commit()
    return finding, 201 if created else 200


@blp.route("/incidents/<int:incident_id>/review/findings/<int:station_id>",
           methods=["DELETE"])
@secured(blp, Scope.API_WRITE, 404, 422)
@blp.response(204)
def delete_finding(incident_id, station_id):
    """Take a station's finding off the review."""
    session, review = _started(incident_id)
    service.remove_finding(session=session, review=review, station_id=station_id)
    session.commit()


@blp.route("/incidents/<int:incident_id>/review/prevention-items", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404)
@blp.arguments(ItemLinkIn)
@blp.response(201, LinkedItemOut)
@blp.alt_response(200, schema=LinkedItemOut, description="The item was already linked")
def link_item(data, incident_id):
    """Link an existing prevention item to the incident; `weak` says why it would not count."""
    session, review = _started(incident_id)
    item, linked = service.link_item(session=session, review=review, item_id=data["id"],
                                     actor_label=token_label())
    session.commit()
    return item_body(item), 201 if linked else 200


@blp.route("/incidents/<int:incident_id>/review/kept-flags", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404, 422)
@blp.arguments(KeepFlagIn)
@blp.response(201, ReviewOut)
def keep_flag(data, incident_id):
    """Keep a flagged phrase as written, with the reason; it no longer blocks publishing."""
    session, review = _started(incident_id)
    service.keep_flag(session=session, review=review, **data)
    session.commit()
    return review_body(session, review)


@blp.route("/incidents/<int:incident_id>/review/publish", methods=["POST"])
@secured(blp, Scope.API_WRITE, 404, 409, 422)
@blp.response(200, ReviewOut)
def publish(incident_id):
    """Publish; 422 with `missing` naming each piece the gate still asks for."""
    session, review = _started(incident_id)
    service.publish(session=session, review=review, author_label=token_label())
    session.commit()
    return review_body(session, review)


@blp.route("/incidents/<int:incident_id>/review/reopen", methods=["POST"])
@secured(blp, Scope.API_WRITE, 404, 409, 422)
@blp.response(200, ReviewOut)
def reopen(incident_id):
    """Reopen a published review; publishing again passes the gate again."""
    session, review = _started(incident_id)
    service.reopen(session=session, review=review, author_label=token_label())
    session.commit()
    return review_body(session, review)


# The check is linear in its input; this bound keeps one request well under a second.
MAX_CHECK = 50_000


class TooLarge(InvalidInput):
    status = 413


@blp.route("/blame-check", methods=["POST"])
@secured(blp, Scope.API_READ, 400, 413)
@blp.arguments(BlameCheckIn)
@blp.response(200, BlameCheckOut)
def blame_check(data):
    """Flag phrasing that blames a person, each with a systemic question to ask instead.

    `text` is at most 50,000 characters (413 past it).
    """
    if len(data["text"]) > MAX_CHECK:
        raise TooLarge(f"text is longer than {MAX_CHECK} characters; check it in parts",
                       field="text")
    return {"flags": [flag.as_dict() for flag in guard.check(data["text"])]}
