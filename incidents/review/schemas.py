"""Shapes of the review API (SPEC.md "API essentials")."""

import marshmallow as ma

from incidents.blame import guard
from incidents.db import MAX_ID  # ids and revisions are 32-bit integers in the database
from incidents.review.models import DefectClass, MissReason, ReviewState

_defect_classes = [d.value for d in DefectClass]
_reasons = [r.value for r in MissReason]


class FindingOut(ma.Schema):
    station_id = ma.fields.Integer(required=True)
    station = ma.fields.String(attribute="station_name", required=True, metadata={
        "description": "The station's name; a published review keeps the name it was "
                       "published with"})
    station_removed = ma.fields.Function(lambda f: not f.station.active)
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(_reasons))
    note = ma.fields.String(required=True)
    cheapest = ma.fields.Boolean(required=True)


class FindingIn(ma.Schema):
    station_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(_reasons))
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    cheapest = ma.fields.Boolean(load_default=False)


class FlagOut(ma.Schema):
    start = ma.fields.Integer(required=True)
    end = ma.fields.Integer(required=True)
    rule = ma.fields.String(required=True)
    question = ma.fields.String(required=True)
    phrase = ma.fields.String(required=True, metadata={"description": "The flagged text"})
    label = ma.fields.String(required=True, metadata={"description": "The rule's plain name"})
    reason = ma.fields.String(required=True, metadata={
        "description": "Why the phrase reads as blame, in plain words"})
    confidence = ma.fields.Float(allow_none=True, required=True, metadata={
        "description": "The model's confidence (0..1) when the model alone flagged the "
                       "sentence (`rule` is `model`); null for a rule's flag"})


class ReviewFlagOut(FlagOut):
    where = ma.fields.String(required=True, metadata={
        "description": "`write-up`, or `note on <station>`; start/end index that text"})
    kept_reason = ma.fields.String(allow_none=True, required=True)


class LinkedItemOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    strength = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    weak = ma.fields.String(allow_none=True, required=True,
                            metadata={"description": "Why the item is weak, or null"})


class ReviewOut(ma.Schema):
    id = ma.fields.Integer(allow_none=True, required=True,
                           metadata={"description": "null until the review is started"})
    incident_id = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True,
                             validate=ma.validate.OneOf([s.value for s in ReviewState]))
    markdown = ma.fields.String(required=True)
    defect_class = ma.fields.String(allow_none=True, required=True,
                                    validate=ma.validate.OneOf(_defect_classes))
    revision = ma.fields.Integer(required=True)
    updated_at = ma.fields.AwareDateTime(allow_none=True)
    published_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    findings = ma.fields.List(ma.fields.Nested(FindingOut), required=True)
    prevention_items = ma.fields.List(ma.fields.Nested(LinkedItemOut), required=True)
    flags = ma.fields.List(ma.fields.Nested(ReviewFlagOut), required=True)
    missing = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "What the publish gate still asks for (empty when it would publish)"})


class ReviewIn(ma.Schema):
    markdown = ma.fields.String(validate=ma.validate.Length(max=100_000))
    defect_class = ma.fields.String(allow_none=True,
                                    validate=ma.validate.OneOf(_defect_classes))
    revision = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0, max=MAX_ID),
        metadata={"description": "The revision this edit started from; a stale one answers 409"})


class ItemLinkIn(ma.Schema):
    id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))


class KeepFlagIn(ma.Schema):
    rule = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(guard.RULES)))
    phrase = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=300))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class RevisionOut(ma.Schema):
    revision = ma.fields.Integer(required=True)
    markdown = ma.fields.String(required=True)
    defect_class = ma.fields.String(allow_none=True, required=True)
    state = ma.fields.String(required=True)
    author = ma.fields.Function(
        lambda r: r.author.display_name if r.author else r.author_label, required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class BlameCheckIn(ma.Schema):
    text = ma.fields.String(required=True, metadata={
        "description": "At most 50,000 characters; a longer text answers 413"})


class BlameCheckOut(ma.Schema):
    flags = ma.fields.List(ma.fields.Nested(FlagOut), required=True)
