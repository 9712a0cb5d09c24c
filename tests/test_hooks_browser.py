"""The paging settings page in real Chromium, with CSRF on: an admin finds it and saves."""

from __future__ import annotations

import pytest

from incidents.hooks.models import SenderSettings
from tests.conftest import PASSWORD
from tests.helpers import sign_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.csrf]


def test_admin_finds_paging_tools_in_the_nav_and_maps_a_service_to_a_team(
        live_server, page, make_user, session):
    sign_in_browser(page, live_server, make_user("admin"), PASSWORD)
    page.click("nav >> text=Paging tools")
    page.wait_for_url("**/admin/paging")

    # Built from PUBLIC_BASE_URL, never from the request's Host.
    assert page.get_by_test_id("hook-url-alertmanager").inner_text() == (
        "POST http://linecheck.test/hooks/alertmanager")
    section = page.locator("section#alertmanager")
    section.locator("select[name=alertmanager-default_severity]").select_option("SEV2")
    section.locator("textarea[name=alertmanager-service_teams]").fill("checkout = payments")
    section.locator("#alertmanager-submit").click()

    page.wait_for_url("**/admin/paging#alertmanager")
    assert "Saved the Alertmanager settings." in page.locator(".flash").inner_text()
    session.rollback()
    saved = session.get(SenderSettings, "alertmanager")
    assert (saved.default_severity, saved.service_teams) == ("SEV2", {"checkout": "payments"})
