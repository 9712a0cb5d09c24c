"""/api/v1/incidents, timeline and stations: shapes from SPEC.md "API essentials", every error."""

import pytest


def _create(api, **fields):
    body = {"title": "Checkout errors", "severity": "SEV2", "service": "checkout", **fields}
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_incident_returns_201_with_spec_fields(api):
    incident = _create(api, started_at="2026-05-01T10:00:00+02:00",
                       detected_at="2026-05-01T10:05:00+02:00", change_origin="ai_assisted")
    for field in ("id", "title", "severity", "status", "source", "service", "started_at",
                  "detected_at", "resolved_at", "created_at", "change_origin"):
        assert field in incident
    assert incident["status"] == "investigating"
    assert incident["source"] == "api"
    assert incident["started_at"] == "2026-05-01T08:00:00+00:00"
    assert incident["detected_at"] == "2026-05-01T08:05:00+00:00"
    assert incident["resolved_at"] is None
    assert incident["change_origin"] == "ai_assisted"


def test_get_incident_by_id(api):
    created = _create(api)
    fetched = api.get(f"/api/v1/incidents/{created['id']}").get_json()
    assert fetched == created


def test_list_is_newest_first_and_paginated_with_next(api):
    ids = [_create(api, title=f"Incident {n}")["id"] for n in range(5)]
    first = api.get("/api/v1/incidents?limit=2").get_json()
    assert [i["id"] for i in first["items"]] == ids[::-1][:2]
    second = api.get(first["next"]).get_json()
    assert [i["id"] for i in second["items"]] == ids[::-1][2:4]
    third = api.get(second["next"]).get_json()
    assert [i["id"] for i in third["items"]] == ids[:1]
    assert third["next"] is None


@pytest.mark.parametrize(("query", "expected"), [
    ("status=resolved", ["Old disk"]),
    ("severity=SEV1", ["DB down"]),
    ("service=search", ["Old disk"]),
    ("source=api", ["Old disk", "DB down", "Slow page"]),
    ("q=disk", ["Old disk"]),
    ("q=DB+down", ["DB down"]),
    ("q=100%25", []),
])
def test_list_filters(api, query, expected):
    _create(api, title="Slow page", severity="SEV4", service="web")
    _create(api, title="DB down", severity="SEV1", service="db")
    old = _create(api, title="Old disk", severity="SEV3", service="search")
    api.patch(f"/api/v1/incidents/{old['id']}", json={"status": "resolved"})
    items = api.get(f"/api/v1/incidents?{query}").get_json()["items"]
    assert sorted(i["title"] for i in items) == sorted(expected)


def test_patch_changes_fields_and_puts_status_and_severity_on_timeline(api):
    incident = _create(api, started_at="2026-05-01T10:00:00+00:00")
    response = api.patch(f"/api/v1/incidents/{incident['id']}", json={
        "severity": "SEV1", "status": "identified", "title": "Checkout down",
        "detected_at": "2026-05-01T10:20:00+00:00"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["severity"], body["status"], body["title"]) == ("SEV1", "identified",
                                                                  "Checkout down")
    assert body["detected_at"] == "2026-05-01T10:20:00+00:00"
    texts = [e["text"] for e in
             api.get(f"/api/v1/incidents/{incident['id']}/timeline").get_json()["items"]]
    assert "Severity changed from SEV2 to SEV1" in texts
    assert "Status changed from investigating to identified" in texts


def test_resolving_sets_resolved_at_and_adds_resolution_event(api):
    incident = _create(api)
    body = api.patch(f"/api/v1/incidents/{incident['id']}",
                     json={"status": "resolved", "summary": "Rolled back",
                           "resolved_at": "2030-01-01T00:00:00+00:00"}).get_json()
    assert body["status"] == "resolved"
    assert body["resolved_at"] == "2030-01-01T00:00:00+00:00"
    events = api.get(f"/api/v1/incidents/{incident['id']}/timeline").get_json()["items"]
    assert events[-1]["kind"] == "resolution" and events[-1]["text"] == "Resolved: Rolled back"


def test_patch_refuses_detected_before_started(api):
    incident = _create(api, started_at="2026-05-01T10:00:00+00:00")
    response = api.patch(f"/api/v1/incidents/{incident['id']}",
                         json={"detected_at": "2026-05-01T09:00:00+00:00"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "detected_at"
    still = api.get(f"/api/v1/incidents/{incident['id']}").get_json()
    assert still["detected_at"] == incident["detected_at"]


def test_timeline_post_and_list(api):
    incident = _create(api)
    response = api.post(f"/api/v1/incidents/{incident['id']}/timeline", json={
        "text": "Rolled back build 4411", "kind": "deploy",
        "occurred_at": "2030-01-01T00:00:00Z", "link": "https://ci.example/4411"})
    assert response.status_code == 201
    event = response.get_json()
    assert event["kind"] == "deploy" and event["occurred_at"] == "2030-01-01T00:00:00+00:00"
    assert event["link"] == "https://ci.example/4411"
    assert event["author"].startswith("token:")
    items = api.get(f"/api/v1/incidents/{incident['id']}/timeline?limit=1").get_json()
    assert len(items["items"]) == 1 and items["next"]
    rest = api.get(items["next"]).get_json()
    assert rest["items"][-1]["text"] == "Rolled back build 4411" and rest["next"] is None


def test_stations_are_the_line_in_order(api_reader):
    items = api_reader.get("/api/v1/stations").get_json()["items"]
    assert [s["position"] for s in items] == sorted(s["position"] for s in items)
    assert items[0].keys() >= {"id", "name", "position", "catches"}
    assert len(items) == 12


# --- errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/stations",
                                  "/api/v1/incidents/1", "/api/v1/incidents/1/timeline"])
def test_missing_or_bad_token_is_401_json(client, path):
    assert client.get(path).status_code == 401
    bad = client.get(path, headers={"Authorization": "Bearer lc_not-a-token"})
    assert bad.status_code == 401 and "error" in bad.get_json()
    basic = client.get(path, headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401


def test_read_token_cannot_write_403(api_reader):
    response = api_reader.post("/api/v1/incidents", json={"title": "x"})
    assert response.status_code == 403 and "api:write" in response.get_json()["error"]


def test_hooks_token_cannot_use_api(client, make_token):
    raw = make_token("hooks")
    response = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403


def test_revoked_token_is_401(client, session, make_token):
    from incidents.auth import service

    raw = make_token("api:read")
    token = service.token_for(session=session, raw=raw)
    service.revoke_token(session=session, token_id=token.id)
    session.commit()
    assert client.get("/api/v1/incidents",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_malformed_json_is_400(api, session):
    from sqlalchemy import func, select

    from incidents.models import Incident

    response = api.post("/api/v1/incidents", data='{"title": ', content_type="application/json")
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_non_object_json_is_400(api):
    response = api.post("/api/v1/incidents", json=["title"])
    assert response.status_code == 400
    assert response.get_json()["error"] == "request body must be a JSON object"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"title": "x", "severity": "SEV5"}, "severity"),
    ({"title": "x", "change_origin": "robots"}, "change_origin"),
    ({"title": "x", "started_at": "yesterday"}, "started_at"),
    ({"title": "x", "started_at": "2026-05-01T10:00:00"}, "started_at"),
    ({"title": "x", "unknown_field": 1}, "unknown_field"),
    ({"title": 5}, "title"),
])
def test_invalid_fields_are_400_naming_the_field(api, body, field):
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 400
    payload = response.get_json()
    assert field in payload["fields"], payload


def test_patch_invalid_status_is_400(api):
    incident = _create(api)
    response = api.patch(f"/api/v1/incidents/{incident['id']}", json={"status": "done"})
    assert response.status_code == 400 and "status" in response.get_json()["fields"]


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/incidents/999"), ("patch", "/api/v1/incidents/999"),
    ("get", "/api/v1/incidents/999/timeline"), ("post", "/api/v1/incidents/999/timeline"),
])
def test_unknown_incident_is_404_json(api, method, path):
    body = {"text": "x"} if method == "post" else {}
    response = getattr(api, method)(path, json=body)
    assert response.status_code == 404 and "999" in response.get_json()["error"]


def test_invalid_limit_is_400(api):
    assert api.get("/api/v1/incidents?limit=0").status_code == 400
    assert api.get("/api/v1/incidents?limit=201").status_code == 400
    assert api.get("/api/v1/incidents?limit=abc").status_code == 400


def test_invalid_filter_value_is_400(api):
    response = api.get("/api/v1/incidents?status=sleeping")
    assert response.status_code == 400 and "status" in response.get_json()["fields"]


def test_timeline_refuses_empty_text_and_bad_kind(api):
    incident = _create(api)
    url = f"/api/v1/incidents/{incident['id']}/timeline"
    assert api.post(url, json={"text": ""}).status_code == 400
    assert api.post(url, json={"text": "x", "kind": "gossip"}).status_code == 400
    assert api.post(url, json={"text": "x", "link": "javascript:alert(1)"}).status_code == 400


def test_unknown_api_route_is_404_json(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and "error" in response.get_json()


def test_wrong_method_is_405_json(api):
    response = api.put("/api/v1/incidents", json={})
    assert response.status_code == 405 and "error" in response.get_json()


def test_oversized_body_is_413_json(api):
    response = api.post("/api/v1/incidents", data="x" * (1024 * 1024 + 1),
                        content_type="application/json")
    assert response.status_code == 413 and "1 MiB" in response.get_json()["error"]
