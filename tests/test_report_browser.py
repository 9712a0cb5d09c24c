"""The recurrence report in real Chromium: the SVG charts render, nothing is fetched elsewhere,
no script is blocked or fails."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.test_report import seed

pytestmark = pytest.mark.browser


def test_report_page_renders_its_svg_charts(live_server, page, make_user, session):
    seed(session)
    lead = make_user("lead")
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server}/login?next=/reports/recurrence")
    page.fill("input[name=email]", lead.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/reports/recurrence")
    # Watch a fresh load of the report only (the login page's favicon 404 is not ours).
    requests.clear()
    problems.clear()
    page.reload()

    charts = page.locator("section.figure .chart svg")
    assert charts.count() == 9  # eight report charts and the per-change rates
    for index in range(charts.count()):
        chart = charts.nth(index)
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, index
    # Bars and lines are drawn, and the numbers sit beside them in tables.
    assert page.locator("#leaks svg rect.rect").count() >= 4
    assert page.locator("#months svg path.line").count() >= 2
    assert page.locator("#leaks table td").first.inner_text() == "CI integration tests"
    assert all(url.startswith(live_server) for url in requests), requests
    assert problems == []

    page.select_option("select[name=service]", "search")
    page.click("form.filters button")
    page.wait_for_url("**service=search**")
    assert page.locator("section.figure .chart svg").count() == 9
    assert "2 incidents started in the period" in page.inner_text("main")
