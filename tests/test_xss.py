"""XSS corpus through every rendered field, checked in the HTML and in headless Chromium.

Each vector carries `data-xss` on whatever element it tries to inject and calls alert():
the HTML check fails on any element or attribute the vector managed to create, and the
`page` fixture fails on any JavaScript dialog.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from incidents.auth import service as auth
from incidents.auth.models import Team, team_key
from incidents.hooks import service as hook_settings
from incidents.incident import service as incidents
from incidents.incident.models import Incident
from incidents.line import service as line
from incidents.prevention.models import PreventionItem
from incidents.team import service as teams
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
    _slack_fixture,
)
from tests.hooks_payloads import HookClient

VECTORS = [
    "<script data-xss>alert(1)</script>",
    '<img src=x onerror="alert(1)" data-xss>',
    "<svg data-xss onload=alert(1)><circle r=5 /></svg>",
    '<a data-xss href="javascript:alert(1)">click</a>',
    '<a data-xss href="JaVaScRiPt:alert(1)">mixed case</a>',
    '<a data-xss href="jav&#x09;ascript:alert(1)">entity tab</a>',
    '<iframe data-xss src="data:text/html,<script>alert(1)</script>"></iframe>',
    '<object data-xss data="javascript:alert(1)"></object>',
    '"><img src=x onerror=alert(1) data-xss>',
    "'><svg/onload=alert(1) data-xss>",
    "<scr<script>ipt data-xss>alert(1)</script>",
    "<details data-xss open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1) data-xss>",
    "&lt;script data-xss&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;",
    "<!--<img src=x onerror=alert(1) data-xss>-->",
    '<form data-xss action="javascript:alert(1)"><button>go</button></form>',
    "<style data-xss>body{background:url(javascript:alert(1))}</style>",
    '<base data-xss href="https://evil.example/">',
    '<meta data-xss http-equiv="refresh" content="0;url=javascript:alert(1)">',
]
MARKDOWN_VECTORS = [
    "[click me](javascript:alert(1))",
    "[encoded](&#106;avascript:alert(1))",
    "![img](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[ref link][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "```\n</code><script data-xss>alert(1)</script>\n```",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1) data-xss> | x |",
]
ALL_TEXT = "\n\n".join(VECTORS + MARKDOWN_VECTORS)
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster"}
BANNED_TAGS = {"iframe", "object", "embed", "base", "frame", "applet"}


class InjectionFinder(HTMLParser):
    """Everything a page must never contain that an injected vector would bring."""

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        values = dict(attrs)
        if "data-xss" in names:
            self.problems.append(f"injected <{tag} data-xss>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                cleaned = "".join(ch for ch in value if ch > " ").lower()
                # The layout's own `<link rel=icon href="data:,">` (no favicon request).
                if tag == "link" and cleaned == "data:,":
                    continue
                if cleaned.startswith(BAD_SCHEMES):
                    self.problems.append(f"{name}={value!r} on <{tag}>")
        if tag in BANNED_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script" and "src" not in values and values.get("nonce") != self.nonce:
            self.problems.append("inline <script> without the response's nonce")
        if tag == "meta" and "http-equiv" in names:
            self.problems.append("<meta http-equiv>")

    handle_startendtag = handle_starttag


def injection_problems(response) -> list[str]:
    policy = response.headers.get("Content-Security-Policy", "")
    nonce = policy.split("'nonce-")[1].split("'")[0] if "'nonce-" in policy else None
    finder = InjectionFinder(nonce)
    finder.feed(response.get_data(as_text=True))
    return finder.problems


@pytest.fixture
def hostile(app, client, api, make_token, session, slack, fake_slack):
    """Every vector in every field people can fill, entered through the app's own doors."""
    # Teams are an admin's to name, and an admin may name them anything.
    for name in {VECTORS[9], VECTORS[0], VECTORS[10][:90], VECTORS[2][:90],
                 *(vector[:90] for vector in VECTORS[:8])}:
        if session.scalar(select(Team).where(Team.key == team_key(name))) is None:
            teams.create_team(session=session, name=name)
    admin = auth.create_user(session=session, email="admin-xss@example.com",
                             password="correct-horse-battery", role="admin",
                             name=VECTORS[1], team=VECTORS[9])
    session.commit()
    ids = []
    for vector in VECTORS:
        created = api.post("/api/v1/incidents", json={"title": vector, "severity": "SEV2",
                                                      "service": vector[:190]})
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])
    main = ids[0]
    incident = session.get(Incident, main)
    incidents.update(session=session, incident=incident, changes=incidents.Changes(
        description=ALL_TEXT, team=VECTORS[0]))
    session.commit()
    for vector in VECTORS + MARKDOWN_VECTORS:
        assert api.post(f"/api/v1/incidents/{main}/timeline",
                        json={"text": vector, "kind": "note"}).status_code == 201
    hooks = HookClient(client, make_token("hooks"))
    for n, vector in enumerate(VECTORS[:6]):
        hooks.post("generic", {"dedup_key": f"xss-{n}", "status": "trigger", "title": vector,
                               "text": vector, "service": "xss"})
    incident.slack_channel_id = "C-xss"
    session.commit()
    for vector in VECTORS[:4]:
        assert slack.command(f"note {vector}", channel_id="C-xss").status_code == 200
    review = api.get(f"/api/v1/incidents/{main}/review").get_json()
    saved = api.put(f"/api/v1/incidents/{main}/review",
                    json={"markdown": ALL_TEXT, "defect_class": "logic",
                          "revision": review.get("revision", 0)})
    assert saved.status_code == 200, saved.get_json()
    again = api.put(f"/api/v1/incidents/{main}/review",
                    json={"markdown": ALL_TEXT + "\n\nsecond", "defect_class": "logic",
                          "revision": saved.get_json()["revision"]})
    assert again.status_code == 200
    station = line.stations(session=session)[0]
    for vector in VECTORS[:8]:
        item = api.post("/api/v1/prevention-items", json={
            "title": vector, "kind": "detect", "station_id": station.id,
            "owner_team": vector[:90]})
        assert item.status_code == 201, item.get_json()
        api.post(f"/api/v1/incidents/{main}/review/prevention-items",
                 json={"id": item.get_json()["id"]})
    auth.create_token(session=session, name=VECTORS[3], scopes=["api:read"])
    for vector in VECTORS[:3]:  # admin-entered text is rendered to everyone too
        line.add_station(session=session, name=vector[:120], catches=vector)
    hook_settings.save_settings(session=session, sender="generic", enabled=True,
                                default_severity="SEV3", default_team=VECTORS[10][:90],
                                service_teams={VECTORS[1][:100]: VECTORS[2][:90]})
    session.commit()
    return {"admin": admin, "incident_ids": ids, "main": main}


def pages_to_check(session, main: int) -> list[str]:
    item = session.scalars(select(PreventionItem.id).order_by(PreventionItem.id)).first()
    hook_incident = session.scalars(
        select(Incident.id).where(Incident.source == "generic")).first()
    return [
        "/incidents", f"/incidents?q={VECTORS[0]}", f"/incidents/{main}",
        f"/incidents/{hook_incident}", f"/incidents/{main}/review",
        f"/incidents/{main}/review/revisions", f"/incidents/{main}/review/revisions/1",
        f"/incidents/{main}/recurrences", "/prevention", f"/prevention/{item}",
        "/reports/recurrence", "/admin/users", "/admin/tokens", "/admin/paging", "/profile",
        "/incidents/new", "/admin/line",
    ]


def test_no_vector_survives_into_any_page(client, session, hostile):
    response = client.post("/login", data={"email": "admin-xss@example.com",
                                           "password": "correct-horse-battery"})
    assert response.status_code == 302
    for url in pages_to_check(session, hostile["main"]):
        page = client.get(url)
        assert page.status_code == 200, url
        assert injection_problems(page) == [], url
    # The text itself is still there, shown as text.
    detail = client.get(f"/incidents/{hostile['main']}").get_data(as_text=True)
    assert "&lt;script data-xss&gt;alert(1)&lt;/script&gt;" in detail


def test_review_preview_sanitises_every_vector(client, session, hostile):
    client.post("/login", data={"email": "admin-xss@example.com",
                                "password": "correct-horse-battery"})
    for vector in VECTORS + MARKDOWN_VECTORS + [ALL_TEXT]:
        response = client.post(f"/incidents/{hostile['main']}/review/preview",
                               json={"markdown": vector})
        assert response.status_code == 200
        html = response.get_json()["html"]
        finder = InjectionFinder(nonce=None)
        finder.feed(html)
        assert finder.problems == [] and "<script" not in html, (vector, html)


def test_api_answers_are_json_not_html(api, hostile):
    response = api.get(f"/api/v1/incidents/{hostile['main']}")
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data(as_text=True))["title"] == VECTORS[0]


def sign_in(page, live_server) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "admin-xss@example.com")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server}/incidents")


@pytest.mark.browser
def test_no_vector_runs_or_injects_in_chromium(live_server, page, session, hostile):
    sign_in(page, live_server)
    for url in pages_to_check(session, hostile["main"]):
        page.goto(live_server + url)
        page.wait_for_load_state("load")
        injected = page.evaluate("document.querySelectorAll('[data-xss]').length")
        assert injected == 0, url
    assert page.dialogs == []


@pytest.mark.browser
def test_live_preview_in_chromium_injects_nothing(live_server, page, hostile):
    sign_in(page, live_server)
    page.goto(f"{live_server}/incidents/{hostile['main']}/review#write-up")
    textarea = page.locator("#markdown")
    textarea.fill("")
    with page.expect_response(lambda r: r.url.endswith("/review/preview")):
        textarea.fill("# Typed\n\n" + ALL_TEXT)
    page.locator("#preview h1", has_text="Typed").wait_for()
    assert page.evaluate("document.querySelectorAll('[data-xss]').length") == 0
    assert page.evaluate("document.querySelectorAll('#preview a[href^=javascript]').length") == 0
