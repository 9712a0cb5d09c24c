"""Cheap requests stay cheap and answers stay where they belong: bounded search, deeply nested
JSON refused, links built from PUBLIC_BASE_URL (never the Host header), HSTS and no-store,
spreadsheet formulas in every disguise, a token's last use recorded once a minute."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from incidents import create_app
from incidents.auth.models import ApiToken
from incidents.incident import search
from incidents.incident import service as incidents
from incidents.line.models import Station
from incidents.report.service import to_csv
from tests.helpers import ApiClient, count_queries

WRITE_METHODS = {"POST", "PUT", "PATCH"}
DEEP = "[" * 100_000 + "]" * 100_000  # 200 KB, far past Python's recursion limit
NEARLY_TOO_DEEP = '{"a":' * 900 + "1" + "}" * 900


@pytest.fixture
def checkout(session):
    incident = incidents.declare(session=session, title="Checkout errors after deploy",
                                 severity="SEV2", service="checkout")
    session.commit()
    return incident


# --- search ----------------------------------------------------------------------------------

def test_a_search_of_1500_different_words_is_refused_at_once(api, auth, client, checkout):
    words = " ".join(f"word{i}" for i in range(1500))
    started = time.perf_counter()
    response = api.get("/api/v1/incidents", query_string={"q": words})
    assert response.status_code == 400
    assert response.get_json()["field"] == "q" and "20" in response.get_json()["error"]
    auth.login_as("viewer")
    page = client.get("/incidents", query_string={"q": words})
    assert page.status_code == 200 and b"at most 20 different words" in page.data
    assert time.perf_counter() - started < 5


def test_a_search_repeating_its_words_is_one_search_of_each(api, checkout):
    words = " ".join(["Checkout", "ERRORS", "checkout", "deploy"] * 500)
    started = time.perf_counter()
    response = api.get("/api/v1/incidents", query_string={"q": words})
    assert response.status_code == 200
    assert [i["id"] for i in response.get_json()["items"]] == [checkout.id]
    assert time.perf_counter() - started < 5


def test_a_search_word_is_cut_to_100_characters(api, checkout):
    response = api.get("/api/v1/incidents", query_string={"q": "checkout" + "x" * 100_000})
    assert response.status_code == 200 and response.get_json()["items"] == []
    assert search.search_words("a" * 1000 + " b") == ["a" * 100, "b"]


# --- deeply nested JSON ----------------------------------------------------------------------

def _json_write_routes(app):
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/api/v1/"):
                continue
            url = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, 1))
            for method in sorted(rule.methods & WRITE_METHODS):
                yield method, url


@pytest.mark.parametrize("body", [DEEP, NEARLY_TOO_DEEP], ids=["deep", "nearly-too-deep"])
def test_deeply_nested_json_to_any_api_route_is_400(app, api, checkout, body):
    routes = list(_json_write_routes(app))
    assert len(routes) >= 10
    for method, url in routes:
        response = api.client.open(url, method=method, data=body,
                                   content_type="application/json",
                                   headers={"Authorization": f"Bearer {api.token}"})
        assert response.status_code < 500, (method, url, response.status_code)
        assert "error" in response.get_json(), (method, url)
    for url in ("/api/v1/incidents", "/api/v1/prevention-items", "/api/v1/blame-check",
                f"/api/v1/incidents/{checkout.id}/timeline"):
        response = api.post(url, data=body, content_type="application/json")
        assert response.status_code == 400, url


def test_an_integer_past_python_digit_limit_is_400(api):
    response = api.post("/api/v1/incidents", data='{"title": ' + "9" * 5000 + "}",
                        content_type="application/json")
    assert response.status_code == 400


def test_deeply_nested_json_to_the_live_preview_is_400(client, auth, checkout):
    auth.login_as("reviewer")
    response = client.post(f"/incidents/{checkout.id}/review/preview", data=DEEP,
                           content_type="application/json")
    assert response.status_code == 400


# --- links -----------------------------------------------------------------------------------

def test_next_links_ignore_the_host_header(api, checkout, session):
    for n in range(3):
        incidents.declare(session=session, title=f"Incident {n}", severity="SEV3")
    session.commit()
    evil = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"}
    listing = api.get("/api/v1/incidents?limit=2", headers=evil).get_json()
    assert listing["next"].startswith("http://linecheck.test/api/v1/incidents?")
    assert "before=" in listing["next"] and "attacker" not in listing["next"]
    events = api.get(f"/api/v1/incidents/{checkout.id}/timeline?limit=1", headers=evil)
    for n in range(2):
        api.post(f"/api/v1/incidents/{checkout.id}/timeline", json={"text": f"note {n}"})
    events = api.get(f"/api/v1/incidents/{checkout.id}/timeline?limit=1", headers=evil)
    assert events.get_json()["next"].startswith(
        f"http://linecheck.test/api/v1/incidents/{checkout.id}/timeline?")


def test_next_links_keep_the_path_of_public_base_url(app_config, make_token, checkout,
                                                     session):
    incidents.declare(session=session, title="Second", severity="SEV3")
    session.commit()
    app = create_app({**app_config, "PUBLIC_BASE_URL": "https://tools.example/linecheck/"})
    try:
        client = ApiClient(app.test_client(), make_token("api:read"))
        listing = client.get("/api/v1/incidents?limit=1", headers={"Host": "attacker.example"})
        assert listing.get_json()["next"].startswith(
            "https://tools.example/linecheck/api/v1/incidents?")
    finally:
        app.extensions["linecheck.engine"].dispose()


def test_hook_urls_on_the_settings_page_ignore_the_host_header(client, auth):
    auth.login_as("admin")
    # The cookie jar sends the session to the host it came from only.
    client.set_cookie("session", client.get_cookie("session").value, domain="attacker.example")
    page = client.get("/admin/paging", headers={"Host": "attacker.example"}).get_data(
        as_text=True)
    assert "POST http://linecheck.test/hooks/alertmanager" in page
    assert "attacker.example" not in page


# --- headers ---------------------------------------------------------------------------------

def test_hsts_outside_debug_only(monkeypatch, database_url):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    production = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "s" * 64})
    debug = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "dev", "DEBUG": True})
    try:
        hsts = production.test_client().get("/login").headers["Strict-Transport-Security"]
        assert "max-age=31536000" in hsts
        assert "Strict-Transport-Security" not in debug.test_client().get("/login").headers
    finally:
        for app in (production, debug):
            app.extensions["linecheck.engine"].dispose()


def test_signed_in_pages_and_the_new_token_are_never_cached(app, client, auth, checkout):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    auth.login_as("admin")
    for path in ("/incidents", f"/incidents/{checkout.id}", "/profile", "/admin/users",
                 "/admin/tokens"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    created = client.post("/admin/tokens", data={"name": "pager", "scope": "hooks"})
    assert b"lc_" in created.data and created.headers["Cache-Control"] == "no-store"
    static = client.get("/static/linecheck.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_api_answers_are_never_cached(api_reader, checkout):
    response = api_reader.get(f"/api/v1/incidents/{checkout.id}")
    assert response.headers["Cache-Control"] == "no-store"


# --- CSV formulas ----------------------------------------------------------------------------

FORMULAS = [
    "=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " =1+1", "\n=HYPERLINK(\"x\")",
    "\u3000=1", "＝1+1", "＋1", "－1", "＠SUM(A1)", "﹦1", "\u200b=1+1", "\ufeff=1",
    "\u2060@x", "\u200e+1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_csv_cells_never_start_a_formula_in_any_disguise(text):
    rows = list(csv.reader(io.StringIO(to_csv({"filters": {"service": text}}))))
    assert rows[1][3] == "'" + text


def test_csv_keeps_plain_text_and_numbers_as_they_are():
    rows = list(csv.reader(io.StringIO(to_csv({"filters": {"service": "checkout", "n": -3}}))))
    assert [row[3] for row in rows[1:]] == ["checkout", "-3"]


def test_report_csv_quotes_a_disguised_formula_in_a_station_name(api_reader, session):
    session.add(Station(name="\u200b＝HYPERLINK(\"https://evil.example\")", position=99))
    session.commit()
    body = api_reader.get("/api/v1/reports/recurrence", query_string={"format": "csv"})
    cells = [cell for row in csv.reader(io.StringIO(body.get_data(as_text=True)))
             for cell in row]
    assert "'\u200b＝HYPERLINK(\"https://evil.example\")" in cells


# --- token use -------------------------------------------------------------------------------

def _last_used(session, raw_prefix: str):
    session.expire_all()
    return session.scalar(select(ApiToken.last_used_at).where(ApiToken.prefix == raw_prefix))


def test_a_read_only_token_records_its_use_at_most_once_a_minute(app, api_reader, session,
                                                                 checkout):
    prefix = api_reader.token[:10]
    assert _last_used(session, prefix) is None
    assert api_reader.get("/api/v1/incidents").status_code == 200
    first = _last_used(session, prefix)
    assert first is not None  # saved although a read never commits

    with count_queries(app.extensions["linecheck.engine"]) as statements:
        api_reader.get(f"/api/v1/incidents/{checkout.id}")
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert _last_used(session, prefix) == first

    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    token.last_used_at = first - timedelta(minutes=2)
    session.commit()
    assert api_reader.get("/api/v1/incidents/999999").status_code == 404
    assert _last_used(session, prefix) > first  # a failed request was a use too
