"""Every page reads right at desktop and phone width, for every role, in real Chromium.

The pages are found in the app's url_map (GET routes without parameters, and one of each
detail page with a demo record), so a page added later is checked without editing this file.
Each page must fit the window (no sideways scroll of the page itself; wide tables scroll
inside their own box), no block may spill text over its neighbours, and chart text must stay
readable.

Like every test it runs on both databases: a page that fails only on PostgreSQL fails here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incidents import demo
from incidents.auth.models import Team, User
from incidents.change.models import Change
from incidents.prevention.models import PreventionItem
from incidents.review.models import Review
from tests.helpers import sign_in_directly

pytestmark = pytest.mark.browser

WIDTHS = ((1366, 900), (390, 844))
ROLES = ("admin", "reviewer", "responder", "viewer")  # a lead sees what an admin sees
# Not pages: JSON, files, and the forms of other methods.
SKIP_PREFIXES = ("/api/", "/static/", "/hooks/", "/slack/")

# Measured in the page: the page's own sideways overflow, blocks whose content spills out of
# them (a long URL printed over the next value), and chart text drawn too small to read.
MEASURE = """() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > innerWidth) {
    const wide = [...document.body.querySelectorAll('*')]
      .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
      .slice(-3).map(el => el.tagName.toLowerCase() + '.' + el.classList.value);
    problems.push(`page is ${doc.scrollWidth}px wide: ${wide.join(' ')}`);
  }
  const scrolls = el => {
    for (let up = el; up && up !== document.body; up = up.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  const spilling = [...document.body.querySelectorAll('*')].filter(el => {
    if (el.matches('input, select, textarea, svg *') || !el.checkVisibility()) return false;
    const display = getComputedStyle(el).display;
    if (display === 'inline' || display === 'none') return false;
    return el.clientWidth && el.scrollWidth > el.clientWidth + 1 && !scrolls(el);
  });
  // The innermost block is the culprit; its ancestors spill only because it does.
  for (const el of spilling.filter(el => !spilling.some(o => o !== el && el.contains(o)))) {
    problems.push(`${el.tagName.toLowerCase()}.${el.classList.value} spills: `
      + `${el.scrollWidth}px in ${el.clientWidth}px "${el.innerText.slice(0, 40)}"`);
  }
  for (const text of document.querySelectorAll('.chart svg text')) {
    const box = text.getBoundingClientRect();
    if (box.width && text.textContent.trim() && box.height < 9) {
      problems.push(`chart text "${text.textContent.slice(0, 30)}" is ${box.height.toFixed(1)}px`);
      break;
    }
  }
  return problems;
}"""


def _samples(session) -> dict[str, int]:
    """One demo record for each kind of URL parameter the app's pages take."""
    incident = session.scalar(select(Review.incident_id).order_by(Review.revision.desc()))
    return {
        "incident_id": incident,
        "number": 1,
        "change_id": session.scalar(select(Change.id).order_by(Change.id)),
        "item_id": session.scalar(select(PreventionItem.id).order_by(PreventionItem.id)),
        "user_id": session.scalar(select(User.id).order_by(User.id)),
        "team_id": session.scalar(select(Team.id).order_by(Team.id)),
    }


def discover_pages(app, samples: dict[str, int]) -> list[str]:
    """The GET pages in the url_map, detail pages filled in with a sample record."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIP_PREFIXES):
            continue
        if rule.endpoint == "auth.login":  # signed-in users are sent on; checked signed out
            continue
        missing = rule.arguments - samples.keys()
        assert not missing, (f"{rule.rule}: add a demo record for {sorted(missing)} to "
                             "_samples so this page's layout is checked")
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **{a: samples[a] for a in rule.arguments}))
    return sorted(set(urls))


class Tab:
    """One signed-in role's browser tab: navigations start together and are awaited after,
    so the served app renders the roles' pages side by side."""

    def __init__(self, context, role: str):
        self.role, self.page, self.status = role, context.new_page(), 0
        self.page.on("response", self._seen)

    def _seen(self, response) -> None:
        if response.request.is_navigation_request() and response.frame == self.page.main_frame:
            self.status = response.status

    def start(self, url: str) -> None:
        self.url, self.status = url, 0
        self.page.evaluate("url => { window.leaving = true; location.assign(url); }", url)

    def check(self, problems: list[str]) -> None:
        self.page.wait_for_function(
            "() => !window.leaving && document.readyState == 'complete'", polling=20)
        assert 0 < self.status < 500, f"{self.url} as {self.role}: {self.status}"
        for width, height in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": height})
            path = self.url.split("/", 3)[-1]
            problems.extend(f"/{path} as {self.role} at {width}px: {problem}"
                            for problem in self.page.evaluate(MEASURE))


def test_every_page_fits_both_widths_for_every_role(app, live_server, session,
                                                   browser_instance, client):
    demo.load(session=session)
    session.commit()
    pages = discover_pages(app, _samples(session))
    assert "/reports/recurrence" in pages and "/admin/paging" in pages
    assert any(url.startswith("/prevention/") for url in pages)

    problems: list[str] = []
    contexts = []
    try:
        tabs = []
        for role in (None, *ROLES):
            contexts.append(context := browser_instance.new_context())
            if role:
                user = session.scalar(select(User).where(User.email == f"{role}@linecheck.test"))
                sign_in_directly(client, user)
                context.add_cookies([{"name": "session", "url": live_server,
                                      "value": client.get_cookie("session").value}])
            tabs.append(tab := Tab(context, role or "nobody"))
            tab.page.goto(f"{live_server}/static/linecheck.css")
        tabs[0].start(f"{live_server}/login")
        tabs[0].check(problems)
        for url in pages:
            for tab in tabs[1:]:
                tab.start(live_server + url)
            for tab in tabs[1:]:
                tab.check(problems)
    finally:
        for context in contexts:
            context.close()
    assert not problems, "\n".join(problems)


def test_discovery_finds_new_pages_and_asks_for_their_records(app):
    app.add_url_rule("/widgets/<int:widget_id>", "widget", lambda widget_id: "")
    known = {"incident_id": 1, "number": 1, "change_id": 1, "item_id": 1, "user_id": 1,
             "team_id": 1}
    with pytest.raises(AssertionError, match="widget_id"):
        discover_pages(app, known)
    pages = discover_pages(app, known | {"widget_id": 7})
    assert "/widgets/7" in pages and "/incidents" in pages and "/api/v1/incidents" not in pages

