"""The review policy: required / optional / not required per severity (an admin's setting),
skipping an optional review with a reason (audited), and the report's review standings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incidents.audit.models import AuditEntry
from incidents.db import utcnow
from incidents.errors import InvalidInput, Refused
from incidents.incident import service as incidents
from incidents.review import policy, service
from incidents.review.models import Review, ReviewState
from incidents.review.policy_models import Requirement
from tests.test_review_support import make_publishable


def resolved(session, title="Checkout errors", severity="SEV2", team="payments", hours_ago=5):
    started = utcnow() - timedelta(hours=hours_ago)
    incident = incidents.declare(session=session, title=title, severity=severity,
                                 service="checkout", team=team, started_at=started)
    incidents.resolve(session=session, incident=incident,
                      resolved_at=started + timedelta(hours=1))
    session.commit()
    return incident


def test_default_policy_requires_sev1_and_sev2_optional_sev3_not_sev4(session, app):
    rules = policy.current(session=session)
    assert [rules.requirement(s) for s in ("SEV1", "SEV2", "SEV3", "SEV4")] == [
        "required", "required", "optional", "not_required"]
    assert rules.require_approval is False


def test_admin_sets_the_policy_on_its_page_and_it_is_stored_and_audited(client, auth, session):
    admin = auth.login_as("admin")
    page = client.get("/admin/review-policy").get_data(as_text=True)
    assert 'name="sev4"' in page
    response = client.post("/admin/review-policy", data={
        "sev1": "required", "sev2": "optional", "sev3": "not_required", "sev4": "optional",
        "require_approval": "on"})
    assert response.status_code == 302
    rules = policy.current(session=session)
    assert rules.requirements == {"SEV1": Requirement.REQUIRED, "SEV2": Requirement.OPTIONAL,
                                  "SEV3": Requirement.NOT_REQUIRED,
                                  "SEV4": Requirement.OPTIONAL}
    assert rules.require_approval is True
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "review.policy_set"))
    assert entry.actor_id == admin.id


def test_a_bad_requirement_is_refused_and_nothing_changes(client, auth, session):
    auth.login_as("admin")
    client.post("/admin/review-policy", data={"sev1": "sometimes", "sev2": "required",
                                              "sev3": "optional", "sev4": "optional"})
    assert policy.current(session=session).requirement("SEV1") == "required"
    assert policy.current(session=session).requirement("SEV4") == "not_required"
    with pytest.raises(InvalidInput):
        policy.save(session=session, requirements={"SEV1": "required"}, require_approval=False)


def test_a_lead_cannot_change_the_policy(client, auth):
    auth.login_as("lead")
    assert client.post("/admin/review-policy", data={"sev1": "optional"}).status_code == 403


def test_an_optional_review_is_skipped_with_a_reason_and_audited(client, auth, session):
    incident = resolved(session, severity="SEV3")
    reviewer = auth.login_as("reviewer")
    without = client.post(f"/incidents/{incident.id}/review/skip", data={"reason": "  "})
    assert without.status_code == 302
    assert session.scalar(select(Review).where(Review.state == ReviewState.SKIPPED)) is None
    client.post(f"/incidents/{incident.id}/review/skip",
                data={"reason": "Upstream outage; nothing of ours to change"})
    session.expire_all()
    review = session.scalar(select(Review).where(Review.incident_id == incident.id))
    assert review.state == ReviewState.SKIPPED and review.skipped_by_id == reviewer.id
    assert review.skip_reason == "Upstream outage; nothing of ours to change"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "review.skipped"))
    assert entry.actor_id == reviewer.id and entry.entity_id == review.id
    page = client.get(f"/incidents/{incident.id}/review").get_data(as_text=True)
    assert "Upstream outage; nothing of ours to change" in page

    client.post(f"/incidents/{incident.id}/review/unskip")
    session.expire_all()
    assert session.get(Review, review.id).state == ReviewState.DRAFT


def test_a_required_review_cannot_be_skipped(session, app, make_user):
    incident = resolved(session, severity="SEV1")
    review = service.start(session=session, incident_id=incident.id)
    with pytest.raises(Refused, match="required"):
        policy.skip(session=session, review=review, reason="busy", actor=make_user("admin"))


def test_a_published_review_cannot_be_skipped(session, app, make_user):
    incident = resolved(session, severity="SEV3")
    review = make_publishable(session, service.start(session=session, incident_id=incident.id))
    service.publish(session=session, review=review)
    with pytest.raises(Refused):
        policy.skip(session=session, review=review, reason="done", actor=make_user("reviewer"))


def test_a_responder_cannot_skip(client, auth, session):
    incident = resolved(session, severity="SEV3")
    auth.login_as("responder")
    assert client.post(f"/incidents/{incident.id}/review/skip",
                       data={"reason": "x"}).status_code == 403


def test_report_counts_published_awaiting_optional_not_required_and_skipped(
        session, app, api_reader, make_user):
    published = resolved(session, title="Published", severity="SEV1")
    make_publishable(session, service.start(session=session, incident_id=published.id))
    service.publish(session=session, review=service.find(session=session,
                                                         incident_id=published.id))
    resolved(session, title="Awaiting one", severity="SEV1")
    resolved(session, title="Awaiting two", severity="SEV2")
    resolved(session, title="Optional", severity="SEV3")
    skipped = resolved(session, title="Skipped", severity="SEV3")
    policy.skip(session=session, review=service.start(session=session, incident_id=skipped.id),
                reason="vendor outage", actor=make_user("reviewer"))
    resolved(session, title="Small", severity="SEV4")
    incidents.declare(session=session, title="Still open", severity="SEV1")  # not counted
    session.commit()

    report = api_reader.get("/api/v1/reports/recurrence").get_json()
    assert report["review_standings"] == {"published": 1, "awaiting": 2, "optional": 1,
                                          "not_required": 1, "skipped": 1}

    policy.save(session=session, requirements={"SEV1": "required", "SEV2": "required",
                                               "SEV3": "required", "SEV4": "required"},
                require_approval=False)
    session.commit()
    report = api_reader.get("/api/v1/reports/recurrence").get_json()
    assert report["review_standings"] == {"published": 1, "awaiting": 4, "optional": 0,
                                          "not_required": 0, "skipped": 1}


def test_report_page_shows_the_standings(client, auth, session):
    resolved(session, severity="SEV4")
    auth.login_as("lead")
    page = client.get("/reports/recurrence").get_data(as_text=True)
    assert 'data-testid="review-standings"' in page and "Not required" in page
