"""Sign-off in real headless Chromium, with CSRF on: the author sends the review to a named
reviewer, cannot approve it, and the reviewer approves it so it publishes."""

from __future__ import annotations

import pytest

from incidents.review import policy, service
from tests.conftest import PASSWORD
from tests.test_review_support import make_incident, make_publishable

pytestmark = [pytest.mark.browser, pytest.mark.csrf]


def _sign_in(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server}/incidents")


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
    assert page.get_by_test_id("reviewer").inner_text() == "Rita Reviewer"

    _sign_in(page, live_server, rita)
    page.goto(f"{live_server}/reviews/queue")
    assert "Rita Reviewer" in page.get_by_test_id(f"owed-{incident.id}").inner_text()
    page.goto(f"{live_server}/incidents/{incident.id}/review#publish")
    page.get_by_test_id("approve").click()
    assert "Approved by Rita Reviewer" in page.get_by_test_id("approved").inner_text()
    assert page.get_by_test_id("gate").locator("li.missing").count() == 0
    page.get_by_test_id("publish").click()
    page.get_by_test_id("review-state").filter(has_text="published").wait_for()
