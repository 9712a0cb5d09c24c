"""Sign-off in real headless Chromium, with CSRF on: the author sends the review to a named
reviewer, cannot approve it, and the reviewer approves it so it publishes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from incidents.review import policy, service
from tests.conftest import PASSWORD
from tests.helpers import sign_in_browser
from tests.test_review_support import make_incident, make_publishable

pytestmark = [pytest.mark.browser, pytest.mark.csrf]


def _sign_in(page, live_server, user):
    sign_in_browser(page, live_server, user, PASSWORD)


def test_author_sends_to_a_reviewer_who_approves_then_it_publishes(live_server, page,
                                                                   make_user, session):
    policy.save(session=session, requirements=dict(policy.DEFAULTS), require_approval=True)
    incident = make_incident(session)
    author = make_user("reviewer", name="Ann Author")
    rita = make_user("reviewer", name="Rita Reviewer")
    review = make_publishable(session, service.start(session=session, incident_id=incident.id))
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown=review.markdown + "\n\nMore.", author=author)
    session.commit()

    _sign_in(page, live_server, author)
    page.goto(f"{live_server}/incidents/{incident.id}/review#publish")
    gate = page.get_by_test_id("gate")
    assert "approval" in gate.locator("li.missing").inner_text()
    assert page.get_by_test_id("approve").count() == 0  # the author is offered no approval
    page.select_option("select[name=reviewer_id]", label="Rita Reviewer (reviewer)")
    page.get_by_test_id("send-for-review").click()
    # expect() waits for the page the click loads; reading at once could see the old page.
    expect(page.get_by_test_id("reviewer")).to_have_text("Rita Reviewer")

    _sign_in(page, live_server, rita)
    page.goto(f"{live_server}/reviews/queue")
    assert "Rita Reviewer" in page.get_by_test_id(f"owed-{incident.id}").inner_text()
    page.goto(f"{live_server}/incidents/{incident.id}/review#publish")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("approved")).to_contain_text("Approved by Rita Reviewer")
    expect(page.get_by_test_id("gate").locator("li.missing")).to_have_count(0)
    page.get_by_test_id("publish").click()
    page.get_by_test_id("review-state").filter(has_text="published").wait_for()
