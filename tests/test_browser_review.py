"""The guided review in real headless Chromium, with CSRF on."""

from __future__ import annotations

import pytest

from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.prevention import service as prevention
from incidents.review import service
from tests.conftest import PASSWORD
from tests.helpers import sign_in_browser
from tests.test_review_support import make_incident, make_publishable
from tests.test_review_views import INJECTION

pytestmark = [pytest.mark.browser, pytest.mark.csrf]

INJECTED = ("script, img, iframe, svg, object, embed, [onerror], [onload], [onmouseover], "
            "[style], a[href^='javascript'], a[href^='data']")


def _sign_in(page, live_server, user):
    sign_in_browser(page, live_server, user, PASSWORD)


def _step(page, name):
    page.click(f"nav.steps >> text={name}")


def _flash(page):
    return page.locator(".flash").all_inner_texts()


def test_reviewer_writes_is_refused_adds_structural_item_and_publishes(
        live_server, page, make_user, session):
    incident = make_incident(session)
    reviewer = make_user("reviewer")
    _sign_in(page, live_server, reviewer)
    page.goto(f"{live_server}/incidents/{incident.id}")
    page.click(".page-head a.button:has-text('Review')")
    page.wait_for_url(f"**/incidents/{incident.id}/review")
    assert page.get_by_test_id("time-to-detect").inner_text() == "7m 00s"
    assert page.locator("#write-up").is_hidden()  # steps are tabs
    _step(page, "Publish")
    missing = page.get_by_test_id("gate").locator("li.missing").all_inner_texts()
    assert len(missing) == 3
    for piece, line_text in zip(("station finding", "defect class", "structural prevention"),
                                missing, strict=True):
        assert line_text.startswith("✗") and piece in line_text

    _step(page, "Write-up")
    editor = page.locator("#markdown")
    editor.fill("## Summary\n\nCheckout returned 500s. Dana forgot to run the contract test.")
    live = page.get_by_test_id("live-flags")
    live.locator("li", has_text="Dana forgot to").wait_for()
    assert "impossible to forget" in live.inner_text()
    page.get_by_test_id("preview").locator("h2", has_text="Summary").wait_for()
    page.click("text=Save write-up")
    page.wait_for_url("**/review#write-up")
    assert "Saved revision 1." in _flash(page)
    assert "Dana forgot to" in page.get_by_test_id("saved-flags").inner_text()

    _step(page, "Station walk")
    station = line.stations(session=session)[3]
    row = page.get_by_test_id(f"station-{station.id}")
    row.locator("summary").click()
    row.locator("select[name=reason]").select_option("not_covered")
    row.locator("textarea[name=note]").fill("No contract test covers the payment client.")
    row.locator("text=Save finding").click()
    page.wait_for_url("**/review#station-walk")
    assert "cheapest place to catch it" in page.get_by_test_id(f"station-{station.id}").inner_text()
    page.select_option("#defect_class", "contract")
    page.click("text=Save defect class")
    page.wait_for_url("**/review#station-walk")

    _step(page, "Publish")
    page.get_by_test_id("publish").click()
    page.wait_for_url("**/review#publish")
    refusal = " ".join(_flash(page))
    assert "cannot be published yet" in refusal
    assert "structural prevention item" in refusal and "blame flag" in refusal
    assert "“Dana forgot to”" in refusal

    _step(page, "Write-up")
    page.locator("#markdown").fill(
        "## Summary\n\nCheckout returned 500s. No contract test covered the payment client.")
    page.get_by_test_id("live-flags").locator("li").first.wait_for(state="detached")
    page.click("text=Save write-up")
    page.wait_for_url("**/review#write-up")

    _step(page, "Prevention")
    page.fill("#item-title", "Contract test between checkout and the payment client")
    page.select_option("#item-kind", "detect")
    page.select_option("#item-station", str(station.id))
    page.fill("#item-team", "payments")
    page.fill("#item-tracker", "https://tracker.example.com/PAY-12")
    page.click("text=Create and link")
    page.wait_for_url("**/review#prevention")
    assert "Prevention item created and linked." in _flash(page)
    assert "detect · strength 4" in page.get_by_test_id("linked-items").inner_text()

    _step(page, "Publish")
    assert "✗" not in page.get_by_test_id("gate").inner_text()
    page.get_by_test_id("publish").click()
    page.wait_for_url("**/review#publish")
    assert "Published." in _flash(page)
    assert page.get_by_test_id("review-state").inner_text() == "published"
    assert "No contract test covered the payment client." in page.get_by_test_id(
        "published-body").inner_text()


def test_open_incident_is_a_missing_piece_and_publish_is_refused(live_server, page, make_user,
                                                                 session):
    incident = incidents.declare(session=session, title="Checkout 500s, still firing")
    review = service.start(session=session, incident_id=incident.id)
    make_publishable(session, review)
    _sign_in(page, live_server, make_user("reviewer"))
    page.goto(f"{live_server}/incidents/{incident.id}/review#publish")
    missing = page.get_by_test_id("gate").locator("li.missing").all_inner_texts()
    assert len(missing) == 1 and "the incident resolved" in missing[0]
    page.get_by_test_id("publish").click()
    page.wait_for_url("**/review#publish")
    assert "the incident resolved" in " ".join(_flash(page))
    assert page.get_by_test_id("review-state").inner_text() == "draft"


def test_write_up_typed_survives_saving_a_finding_and_leaving_asks_first(
        live_server, page, make_user, session):
    incident = make_incident(session)
    _sign_in(page, live_server, make_user("reviewer"))
    page.goto(f"{live_server}/incidents/{incident.id}/review#write-up")
    page.locator("#markdown").fill("")
    page.locator("#markdown").press_sequentially("The canary saw 1% of EU traffic.")
    _step(page, "Station walk")
    row = page.get_by_test_id(f"station-{line.stations(session=session)[1].id}")
    row.locator("summary").click()
    row.locator("textarea[name=note]").fill("No EU shard in the canary.")
    row.locator("text=Save finding").click()
    page.wait_for_url("**/review#station-walk")
    assert "Finding saved." in _flash(page)

    _step(page, "Write-up")
    assert page.locator("#markdown").input_value() == "The canary saw 1% of EU traffic."
    assert page.get_by_test_id("draft-restored").is_visible()
    assert service.find(session=session, incident_id=incident.id).markdown == ""

    # Leaving with the text still unsaved asks first; staying keeps it.
    asked = []
    page.on("dialog", lambda dialog: asked.append(dialog.type))
    page.click("text=Revision history")
    page.wait_for_function("document.readyState === 'complete'")
    assert asked == ["beforeunload"]
    page.dialogs.clear()  # dismissed: the tab stays on the review
    assert page.locator("#markdown").input_value() == "The canary saw 1% of EU traffic."

    page.click("text=Save write-up")
    page.wait_for_url("**/review#write-up")
    session.expire_all()
    assert service.find(session=session, incident_id=incident.id).markdown == (
        "The canary saw 1% of EU traffic.")
    assert page.get_by_test_id("draft-restored").is_hidden()
    page.click("text=Revision history")
    page.wait_for_url("**/review/revisions")
    assert asked == ["beforeunload"]  # saved: nothing to ask about


def test_recurrence_is_confirmed_after_a_step_that_says_what_changes_and_can_be_undone(
        live_server, page, make_user, session):
    from tests.test_recurrence_web import pair

    earlier, current, item = pair(session)
    _sign_in(page, live_server, make_user("reviewer"))
    page.goto(f"{live_server}/incidents/{current.id}/review#prevention")
    page.click("text=Confirm recurrence…")
    page.wait_for_url("**/recurrences/confirm?**")
    assert "Contract test" in page.get_by_test_id("escaping").inner_text()
    session.expire_all()
    assert service.find(session=session, incident_id=current.id) is None  # nothing yet
    page.get_by_test_id("confirm").click()
    page.wait_for_url("**/review#prevention")
    assert any("Marked escaped" in text for text in _flash(page))
    links = page.get_by_test_id("recurrence-links")
    assert f"#{earlier.id}" in links.inner_text()
    links.get_by_test_id("undo-recurrence").click()
    page.wait_for_url("**/review#prevention")
    assert any("No longer escaped: “Contract test”" in text for text in _flash(page))
    assert "None yet." in page.get_by_test_id("recurrence-links").inner_text()
    session.expire_all()
    assert session.get(type(item), item.id).escaped_at is None


def test_flags_are_marked_in_the_text_and_the_gate_leads_to_each_fix(live_server, page,
                                                                     make_user, session):
    incident = make_incident(session)
    _sign_in(page, live_server, make_user("reviewer"))
    page.goto(f"{live_server}/incidents/{incident.id}/review#write-up")
    assert "last saved text" in page.get_by_test_id("flags-explained").inner_text()
    page.locator("#markdown").fill("## Summary\n\nThe deploy went out. Bob forgot to run the "
                                   "contract test.")
    live = page.get_by_test_id("live-flags").locator("li", has_text="Bob forgot to")
    live.wait_for()
    assert live.locator("mark.phrase").inner_text() == "“Bob forgot to”"
    assert live.locator(".rule").inner_text().strip() == "· rule: Forgetting"
    marked = page.get_by_test_id("live-marked")
    assert marked.locator("mark").inner_text() == "Bob forgot to"
    assert marked.inner_text().startswith("## Summary\n\nThe deploy went out. Bob forgot to run")
    page.click("text=Save write-up")
    page.wait_for_url("**/review#write-up")
    assert page.get_by_test_id("saved-marked").locator("mark.open").inner_text() == (
        "Bob forgot to")

    page.locator("#write-up").get_by_test_id("step-next").click()
    assert page.locator("#station-walk").is_visible() and page.locator("#write-up").is_hidden()
    page.locator("#station-walk").get_by_test_id("step-back").click()
    assert page.locator("#write-up").is_visible()

    _step(page, "Publish")
    publish = page.get_by_test_id("publish")
    assert "primary" not in (publish.get_attribute("class") or "")
    gate = page.get_by_test_id("gate")
    gate.locator("a[data-fix=structural_prevention_item]").click()
    assert page.locator("#prevention").is_visible() and page.url.endswith("#prevention")
    _step(page, "Publish")
    gate.locator("a[data-fix=blame_flags]").click()
    assert page.locator("#write-up").is_visible()
    _step(page, "Publish")
    gate.locator("a[data-fix=defect_class]").click()
    assert page.locator("#defect_class").is_visible()


def test_advice_kind_shows_a_nudge_toward_a_structural_kind(live_server, page, make_user,
                                                             session):
    incident = make_incident(session)
    _sign_in(page, live_server, make_user("reviewer"))
    page.goto(f"{live_server}/incidents/{incident.id}/review#prevention")
    nudge = page.locator("#kind-nudge")
    assert nudge.is_hidden()
    page.select_option("#item-kind", "advice")
    assert nudge.is_visible() and "advice is forgotten" in nudge.inner_text()


def test_script_injection_runs_nowhere_in_preview_or_published_page(live_server, page,
                                                                    make_user, session):
    incident = make_incident(session)
    _sign_in(page, live_server, make_user("reviewer"))
    page.goto(f"{live_server}/incidents/{incident.id}/review#write-up")
    page.locator("#markdown").fill(INJECTION + "\nTyped last.")
    preview = page.get_by_test_id("preview")
    preview.locator("text=Typed last.").wait_for()
    preview.locator("text=styled").hover()
    assert preview.locator(INJECTED).count() == 0
    page.click("text=Save write-up")
    page.wait_for_url("**/review#write-up")

    review = service.find(session=session, incident_id=incident.id)
    service.save(session=session, review=review, base_revision=review.revision,
                 defect_class="other")
    service.set_finding(session=session, review=review,
                        station_id=line.stations(session=session)[0].id, reason="no_check")
    item = prevention.create_item(session=session, title="Sanitise all review HTML",
                                  kind="eliminate")
    service.link_item(session=session, review=review, item_id=item.id)
    session.commit()

    page.goto(f"{live_server}/incidents/{incident.id}/review#publish")
    page.get_by_test_id("publish").click()
    page.wait_for_url("**/review#publish")
    body = page.get_by_test_id("published-body")
    assert "Typed last." in body.inner_text()
    body.locator("text=styled").hover()
    body.locator("text=click me").click()
    assert body.locator(INJECTED).count() == 0
    assert page.evaluate("document.querySelectorAll('main script').length") == 0
    assert page.dialogs == []


def test_two_reviewers_edit_at_once_and_nothing_typed_is_lost(live_server, browser_instance,
                                                              make_user, session):
    incident = make_incident(session)
    pages = []
    for _ in range(2):
        context = browser_instance.new_context()
        tab = context.new_page()
        _sign_in(tab, live_server, make_user("reviewer"))
        tab.goto(f"{live_server}/incidents/{incident.id}/review#write-up")
        pages.append(tab)
    first, second = pages
    try:
        first.locator("#markdown").fill("Alice: the alert routed to a retired rotation.")
        second.locator("#markdown").fill("Bob: the canary only saw 1% of EU traffic.")
        first.click("text=Save write-up")
        first.wait_for_url("**/review#write-up")
        second.click("text=Save write-up")
        second.get_by_test_id("conflict").wait_for()
        assert second.locator("#markdown").input_value() == (
            "Bob: the canary only saw 1% of EU traffic.")
        assert "Alice: the alert routed" in second.get_by_test_id("current-text").inner_text()
        second.locator("#markdown").fill(
            "Alice: the alert routed to a retired rotation.\n"
            "Bob: the canary only saw 1% of EU traffic.")
        second.click("text=Save write-up")
        second.wait_for_url("**/review#write-up")
        session.expire_all()
        saved = service.find(session=session, incident_id=incident.id)
        assert saved.revision == 2
        assert "Alice" in saved.markdown and "Bob" in saved.markdown
    finally:
        for tab in pages:
            tab.context.close()
