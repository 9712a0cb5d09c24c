"""HTTP conventions every /api/v1 route keeps: 401 names its scheme, writes are JSON."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import ApiClient


@pytest.fixture
def incident_id(api):
    response = api.post("/api/v1/incidents", json={"title": "Checkout down",
                                                   "severity": "SEV2", "service": "checkout"})
    assert response.status_code == 201
    return response.json["id"]


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwdw=="])
def test_401_names_the_bearer_scheme(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/api/v1/incidents", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json["error"]


def test_401_on_a_write_names_the_bearer_scheme(client):
    response = client.post("/api/v1/incidents", json={"title": "x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_403_has_no_challenge(client, make_token):
    reader = ApiClient(client, make_token("api:read"))
    response = reader.post("/api/v1/incidents", json={"title": "x"})
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response.headers


def _api_writes(app, incident_id):
    """Every /api/v1 write route the app serves, its ids filled in."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        url = re.sub(r"<(?:\w+:)?incident_id>", str(incident_id), rule.rule)
        url = re.sub(r"<(?:\w+:)?\w+>", "1", url)
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            yield method, url


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_json_body_without_json_type_is_refused_with_415(app, api, incident_id, content_type):
    headers = {"Authorization": f"Bearer {api.token}"}
    if content_type:
        headers["Content-Type"] = content_type
    before = api.get(f"/api/v1/incidents/{incident_id}").json
    writes = list(_api_writes(app, incident_id))
    assert len(writes) >= 15
    for method, url in writes:
        response = api.client.open(url, method=method, headers=headers,
                                   data=json.dumps({"title": "x", "text": "human error"}))
        assert response.status_code == 415, (method, url, response.get_data(as_text=True))
        assert "application/json" in response.json["error"]
    assert api.get(f"/api/v1/incidents/{incident_id}").json == before  # nothing written


def test_json_type_with_a_charset_is_accepted(api):
    response = api.post("/api/v1/blame-check", data=json.dumps({"text": "human error"}),
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200
    assert response.json["flags"][0]["phrase"] == "human error"


def test_a_write_without_a_body_needs_no_type(api, incident_id):
    # Publish takes no body: an empty POST is the gate's answer, not a 415.
    response = api.post(f"/api/v1/incidents/{incident_id}/review/publish")
    assert response.status_code in (200, 422)


def test_hooks_keep_reading_raw_bodies(client, make_token):
    # /hooks/* are not /api/v1: senders there may omit the type; they answer on the content.
    token = make_token("hooks")
    response = client.post("/hooks/generic", data=json.dumps({"title": "x"}),
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "text/plain"})
    assert response.status_code != 415
