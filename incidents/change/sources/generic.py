"""`POST /hooks/changes`: any deploy tool or CI job, in Linecheck's own JSON shape (README).

Unknown fields are refused, like `/hooks/generic`, so a misspelt field never goes unnoticed.
A body with the same `repository` and `commit` as a GitHub or GitLab change adds its facts to
that change (a CI job can report the required checks GitHub's webhooks do not carry).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from incidents.change.sources import ChangeFacts, sha
from incidents.hooks.events import BadPayload, in_utc

NAME = "changes"
ORIGINS = ["ai_assisted", "human", "config", "third_party"]


def _names(description: str) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=200)),
                          validate=ma.validate.Length(max=100),
                          metadata={"description": description})


class ChangeEvent(ma.Schema):
    """A change merged or deployed, and what is known about it."""

    service = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200),
                               metadata={"description": "The service the change is to"})
    commit = ma.fields.String(metadata={"description": "The commit SHA (40 or 64 hex digits) "
                                                       "the change landed as; this or version "
                                                       "is required"})
    version = ma.fields.String(validate=ma.validate.Length(min=1, max=200),
                               metadata={"description": "A release or build name"})
    repository = ma.fields.String(validate=ma.validate.Length(min=1, max=200),
                                  metadata={"description": "owner/name; default: the service. "
                                                           "With `commit`, joins the GitHub or "
                                                           "GitLab change of that commit"})
    environment = ma.fields.String(validate=ma.validate.Length(min=1, max=100),
                                   metadata={"description": "Where it was deployed; default "
                                                            "production"})
    deployed_at = ma.fields.AwareDateTime(metadata={"description": "When the deploy finished; "
                                                                   "absent: not deployed yet"})
    merged_at = ma.fields.AwareDateTime()
    title = ma.fields.String(validate=ma.validate.Length(max=300))
    url = ma.fields.Url(schemes={"http", "https"}, validate=ma.validate.Length(max=2000),
                        metadata={"description": "The change's pull request or release page"})
    author = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    approvals = ma.fields.Integer(validate=ma.validate.Range(min=0, max=1000),
                                  metadata={"description": "Approving reviews before the merge"})
    checks_passed = ma.fields.Boolean(
        metadata={"description": "Whether every required check passed at the merge"})
    failing_checks = _names("Required checks that were failing when it merged")
    canary = ma.fields.Boolean(metadata={"description": "Whether it went through a canary"})
    squashed = ma.fields.Boolean(metadata={"description": "Whether it was squash-merged"})
    ai_assisted = ma.fields.Boolean(
        allow_none=True, metadata={"description": "true, false, or null (unknown)"})
    origin = ma.fields.String(validate=ma.validate.OneOf(ORIGINS),
                              metadata={"description": "ai_assisted | human | config | "
                                                       "third_party"})
    labels = _names("The change's labels")
    components = _names("Components the change touched")
    commit_messages = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=100_000)),
        validate=ma.validate.Length(max=100),
        metadata={"description": "Commit messages, read for trailers"})
    event_id = ma.fields.String(validate=ma.validate.Length(min=1, max=200),
                                metadata={"description": "Your id for this event: a retry "
                                                         "with the same id is a duplicate"})

    @ma.validates_schema
    def _consistent(self, data, **_kwargs):
        if not data.get("commit") and not data.get("version"):
            raise ma.ValidationError("commit or version is required", "commit")
        if data.get("commit"):
            try:
                sha(data["commit"], "commit")
            except BadPayload as exc:
                raise ma.ValidationError(exc.message, "commit") from None
        if data.get("checks_passed") is True and data.get("failing_checks"):
            raise ma.ValidationError("checks_passed is true but failing_checks names some",
                                     "failing_checks")
        said = data.get("ai_assisted")
        origin = data.get("origin")
        if said is not None and origin and (origin == "ai_assisted") != said:
            raise ma.ValidationError(f"origin {origin} contradicts ai_assisted {said}",
                                     "origin")


SCHEMA = ChangeEvent


def load(body: Any) -> dict:
    """The validated body; BadPayload naming every bad field."""
    if not isinstance(body, dict):
        raise BadPayload("body must be a JSON object", field="body")
    try:
        return ChangeEvent().load(body)
    except ma.ValidationError as exc:
        fields = exc.normalized_messages()
        first = sorted(fields)[0]
        detail = fields[first][0] if isinstance(fields[first], list) else fields[first]
        raise BadPayload(f"invalid field(s): {', '.join(sorted(fields))} ({first}: {detail})",
                         field=first, fields=fields) from None


def delivery_key(body: dict) -> str | None:
    event_id = body.get("event_id")
    return f"event:{event_id}" if isinstance(event_id, str) and event_id else None


def parse(body: Any) -> list[ChangeFacts]:
    data = load(body)
    service = data["service"].strip()
    said = data.get("ai_assisted")
    declared = data.get("origin") or (None if said is None else
                                      "ai_assisted" if said else "human")
    failing = tuple(data["failing_checks"]) if "failing_checks" in data else None
    checks = data.get("checks_passed")
    if checks is None and failing:
        checks = False
    deployed = data.get("deployed_at")
    merged = data.get("merged_at")
    return [ChangeFacts(
        source=NAME,
        repository=(data.get("repository") or service).strip(),
        revision=sha(data["commit"], "commit") if data.get("commit")
        else f"version:{data['version'].strip()}",
        service=service,
        environment=(data.get("environment") or "production").strip(),
        deployed_at=in_utc(deployed, "deployed_at") if deployed else None,
        canary=data.get("canary"),
        version=data.get("version"),
        title=data.get("title"),
        url=data.get("url"),
        author=data.get("author"),
        merged_at=in_utc(merged, "merged_at") if merged else None,
        approvals=data.get("approvals"),
        checks_passed=checks,
        failing_checks=failing,
        squashed=data.get("squashed"),
        labels=tuple(data["labels"]) if "labels" in data else None,
        commit_messages=tuple(data.get("commit_messages") or ()),
        components=tuple(data["components"]) if "components" in data else None,
        declared_origin=declared,
    )]


EVENTS = {"change": parse}
