"""The paging tools page and the confirm-first buttons, in real Chromium at phone width."""

from __future__ import annotations

import pytest

from incidents.line import service as line
from tests.conftest import PASSWORD
from tests.helpers import sign_in_browser

pytestmark = pytest.mark.browser

IN_VIEW = """el => { const r = el.getBoundingClientRect();
                     return r.top >= 0 && r.bottom <= innerHeight && r.height > 0; }"""


def _sign_in(page, live_server, user, path):
    sign_in_browser(page, live_server, user, PASSWORD, to=path)


def test_paging_tools_errors_show_where_the_reader_is(live_server, page, make_user):
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, live_server, make_user("admin"), "/admin/paging")
    section = page.locator("section#grafana")  # far down the page
    # The checkbox sits beside its words, and descriptions show code, not backticks.
    box = section.get_by_test_id("enabled-grafana").bounding_box()
    words = section.get_by_text("Accept deliveries from this tool").bounding_box()
    assert 0 <= words["x"] - (box["x"] + box["width"]) < 20
    assert abs(words["y"] + words["height"] / 2 - (box["y"] + box["height"] / 2)) < 8
    assert "`" not in section.locator("p.muted").first.inner_text()
    assert section.locator("p.muted code").count() >= 2

    section.locator("textarea[name=grafana-service_teams]").fill("checkout payments")
    section.locator("#grafana-submit").click()
    page.wait_for_url("**/admin/paging/grafana#grafana")
    notice = page.get_by_test_id("not-saved-grafana")
    assert "were not saved: 1 field below needs a change" in notice.inner_text()
    assert notice.evaluate(IN_VIEW), "the refusal is off-screen after the failed save"
    assert page.locator("section#grafana .error").first.inner_text()

    page.locator("section#grafana textarea[name=grafana-service_teams]").fill("checkout = payments")
    page.locator("section#grafana #grafana-submit").click()
    page.wait_for_url("**/admin/paging#grafana")
    saved = page.locator("section#grafana .flash-ok")
    assert saved.inner_text() == "Saved the Grafana settings." and saved.evaluate(IN_VIEW)


def test_removing_a_station_asks_first(live_server, page, make_user, session):
    _sign_in(page, live_server, make_user("admin"), "/admin/line")
    station = line.stations(session=session)[0]
    question = page.get_by_text("Take it off the line?").first
    assert not question.is_visible()
    page.get_by_role("button", name=f"Remove {station.name}").click()
    assert question.is_visible()
    page.get_by_role("button", name=f"Yes, remove {station.name}").click()
    page.wait_for_url("**/admin/line")
    session.expire_all()
    assert station.name not in [s.name for s in line.stations(session=session)]
