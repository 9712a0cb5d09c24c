"""Sign-off: "Send for review" names a reviewer (told by Slack DM through the outbox); when
the policy asks for it, publishing waits for an approval by a signed-in reviewer who wrote
none of the review — never an API token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incidents.audit.models import AuditEntry
from incidents.errors import Refused
from incidents.outbox import service as outbox
from incidents.outbox.models import OutboxJob
from incidents.review import policy, service, signoff
from incidents.review.models import Review, ReviewState
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
)
from tests.helpers import ApiClient, sign_in_directly
from tests.test_review_policy import resolved
from tests.test_review_support import make_publishable


def require_approval(session):
    policy.save(session=session, requirements=dict(policy.DEFAULTS), require_approval=True)
    session.commit()


@pytest.fixture
def incident(session, app):
    return resolved(session, title="Checkout errors", severity="SEV2")


def reload(session, incident):
    session.expire_all()
    return session.scalar(select(Review).where(Review.incident_id == incident.id))


def test_send_for_review_names_a_reviewer_and_tells_them_in_slack(
        app, client, session, make_user, incident, fake_slack):
    author = make_user("reviewer", name="Ann Author")
    rita = make_user("reviewer", name="Rita Reviewer")
    rita.slack_user_id = "U-rita"
    session.commit()
    sign_in_directly(client, author)
    client.post(f"/incidents/{incident.id}/review",
                data={"markdown": "A draft", "defect_class": "", "revision": 0})
    page = client.get(f"/incidents/{incident.id}/review").get_data(as_text=True)
    assert "Rita Reviewer (reviewer)" in page

    response = client.post(f"/incidents/{incident.id}/review/send",
                           data={"reviewer_id": rita.id})
    assert response.status_code == 302
    review = reload(session, incident)
    assert review.state == ReviewState.IN_REVIEW and review.reviewer_id == rita.id
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "review.reviewer_named"))
    assert entry.actor_id == author.id

    assert outbox.drain(app) == 1
    (dm,) = fake_slack.calls_to("chat.postMessage")
    assert dm["channel"] == "U-rita"
    assert f"#{incident.id} Checkout errors" in dm["text"] and "Ann Author" in dm["text"]
    assert "Rita Reviewer" in client.get(f"/incidents/{incident.id}/review").get_data(
        as_text=True)


def test_a_reviewer_without_slack_is_named_without_a_message(app, client, session, make_user,
                                                            incident, fake_slack):
    sign_in_directly(client, make_user("reviewer"))
    client.post(f"/incidents/{incident.id}/review/send",
                data={"reviewer_id": make_user("lead").id})
    assert reload(session, incident).reviewer_id is not None
    assert session.scalar(select(OutboxJob).where(
        OutboxJob.kind == signoff.REVIEW_REQUEST)) is None


def test_only_a_reviewer_or_above_can_be_named(client, session, make_user, incident):
    sign_in_directly(client, make_user("reviewer"))
    responder = make_user("responder")
    client.post(f"/incidents/{incident.id}/review/send", data={"reviewer_id": responder.id})
    review = reload(session, incident)
    assert review is None or (review.reviewer_id is None
                              and review.state == ReviewState.DRAFT)


def test_gate_lists_approval_only_when_the_policy_asks_for_it(session, app, incident):
    review = make_publishable(session, service.start(session=session, incident_id=incident.id))
    assert service.missing_for_publish(session=session, review=review) == []
    require_approval(session)
    assert service.missing_for_publish(session=session, review=review) == ["approval"]
    with pytest.raises(Refused) as refused:
        service.publish(session=session, review=review)
    assert refused.value.extra["missing"] == ["approval"]


def test_an_author_cannot_approve_and_another_reviewer_can(client, session, make_user,
                                                          incident):
    require_approval(session)
    author, other = make_user("reviewer"), make_user("reviewer")
    review = make_publishable(session, service.start(session=session, incident_id=incident.id))
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown=review.markdown + "\nMore.", author=author)
    session.commit()

    sign_in_directly(client, author)
    client.post(f"/incidents/{incident.id}/review/approve")
    assert reload(session, incident).approved_by_id is None
    client.post(f"/incidents/{incident.id}/review/publish")
    assert reload(session, incident).state != ReviewState.PUBLISHED

    sign_in_directly(client, other)
    client.post(f"/incidents/{incident.id}/review/approve")
    review = reload(session, incident)
    assert review.approved_by_id == other.id and review.approved_revision == review.revision
    assert service.missing_for_publish(session=session, review=review) == []
    client.post(f"/incidents/{incident.id}/review/publish")
    assert reload(session, incident).state == ReviewState.PUBLISHED


def test_saving_after_approval_needs_approval_again(session, app, make_user, incident):
    require_approval(session)
    review = make_publishable(session, service.start(session=session, incident_id=incident.id))
    signoff.approve(session=session, review=review, approver=make_user("lead"))
    assert service.missing_for_publish(session=session, review=review) == []
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown="Changed after the approval")
    assert service.missing_for_publish(session=session, review=review) == ["approval"]


def test_an_api_token_cannot_approve_nor_publish_without_approval(client, session, make_token,
                                                                  incident):
    require_approval(session)
    make_publishable(session, service.start(session=session, incident_id=incident.id))
    token = make_token("api:write")
    headers = {"Authorization": f"Bearer {token}"}
    # The approval is a browser route: a token gets the login page, not an approval.
    approve = client.post(f"/incidents/{incident.id}/review/approve", headers=headers)
    assert approve.status_code == 302 and "/login" in approve.headers["Location"]
    api = ApiClient(client, token)
    refused = api.post(f"/api/v1/incidents/{incident.id}/review/publish")
    assert refused.status_code == 422 and refused.json["missing"] == ["approval"]
    assert reload(session, incident).approved_by_id is None
