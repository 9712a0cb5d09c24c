"""`/api/v1/prevention-items`: create, list with filters, read, move along statuses."""

from __future__ import annotations

from datetime import timedelta

from incidents.db import utcnow
from incidents.incident import service as incidents
from incidents.prevention import service

GUARD = "https://ci.example.com/checks/contract-test"


def create(api, **fields):
    body = {"title": "Contract test for the payment client", "kind": "detect", **fields}
    return api.post("/api/v1/prevention-items", json=body)


def test_create_answers_the_item_with_strength_overdue_and_outcome(api):
    response = create(api, station_id=4, owner_team="payments", due_date="2026-01-31",
                      tracker_url="https://tracker.example.com/PAY-12")
    assert response.status_code == 201, response.json
    item = response.json
    assert item["kind"] == "detect" and item["strength"] == 4 and item["structural"] is True
    assert item["station_id"] == 4 and item["station"] == "CI integration tests"
    assert item["owner_team"] == "payments" and item["due_date"] == "2026-01-31"
    assert item["status"] == "proposed" and item["outcome"] is None
    assert item["overdue"] is (utcnow().date().isoformat() > "2026-01-31")
    assert item["guard_url"] is None and item["incident_ids"] == []
    assert api.get(f"/api/v1/prevention-items/{item['id']}").json == item


def test_create_refuses_bad_input_with_the_field_named(api):
    cases = [
        ({"kind": "pray"}, "kind"),
        ({"title": ""}, "title"),
        ({"due_date": "next week"}, "due_date"),
        ({"tracker_url": "ftp://tracker/1"}, "tracker_url"),
        ({"station_id": "four"}, "station_id"),
        ({"station_id": 2**31}, "station_id"),  # past the database's integers
    ]
    for fields, field in cases:
        response = create(api, **fields)
        assert response.status_code == 400, fields
        assert response.json["field"] == field, response.json
    assert create(api, station_id=999).status_code == 404
    no_json = api.post("/api/v1/prevention-items", data="nope", content_type="application/json")
    assert no_json.status_code == 400 and "error" in no_json.json


def test_patch_moves_through_statuses_to_done_with_the_guard(api):
    item_id = create(api).json["id"]
    url = f"/api/v1/prevention-items/{item_id}"
    assert api.patch(url, json={"status": "committed"}).json["status"] == "committed"
    assert api.patch(url, json={"status": "in_progress"}).json["status"] == "in_progress"
    refused = api.patch(url, json={"status": "done"})
    assert refused.status_code == 422 and refused.json["field"] == "guard_url"
    done = api.patch(url, json={"status": "done", "guard_url": GUARD})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "done" and done.json["guard_url"] == GUARD
    assert done.json["completed_at"] is not None and done.json["outcome"] == "watching"
    back = api.patch(url, json={"status": "proposed"})
    assert back.status_code == 422 and back.json["field"] == "status"
    assert api.patch(url, json={"status": "in_progress"}).json["completed_at"] is None


def test_patch_drop_needs_a_reason(api):
    url = f"/api/v1/prevention-items/{create(api).json['id']}"
    refused = api.patch(url, json={"status": "dropped"})
    assert refused.status_code == 422 and refused.json["field"] == "dropped_reason"
    dropped = api.patch(url, json={"status": "dropped", "dropped_reason": "duplicate"})
    assert dropped.json["status"] == "dropped" and dropped.json["dropped_reason"] == "duplicate"


def test_patch_refuses_bad_input_unknown_items_and_read_only_tokens(api, api_reader):
    url = f"/api/v1/prevention-items/{create(api).json['id']}"
    assert api.patch(url, json={"status": "finished"}).json["field"] == "status"
    assert api.patch(url, json={"guard_url": "not a url"}).json["field"] == "guard_url"
    assert api.patch("/api/v1/prevention-items/999", json={"status": "done"}).status_code == 404
    assert api.get("/api/v1/prevention-items/999").status_code == 404
    assert api_reader.patch(url, json={"status": "committed"}).status_code == 403
    assert api_reader.post("/api/v1/prevention-items", json={"title": "x", "kind": "detect"}
                           ).status_code == 403
    assert api.client.get(url).status_code == 401


def test_list_filters_and_pages(api, session):
    late = create(api, kind="eliminate", owner_team="payments", due_date="2020-01-01",
                  station_id=4).json
    create(api, kind="advice", owner_team="payments")
    create(api, kind="eliminate", owner_team="search")
    incident = incidents.declare(session=session, title="Checkout 500s")
    service.link(session=session, incident=incident,
                 item=service.get(session=session, item_id=late["id"]))
    session.commit()

    def ids(query):
        response = api.get(f"/api/v1/prevention-items?{query}")
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids("team=payments&strength=5") == [late["id"]]
    assert ids("overdue=true") == [late["id"]]
    assert ids("station_id=4&kind=eliminate&status=proposed") == [late["id"]]
    assert ids(f"incident_id={incident.id}") == [late["id"]]
    assert api.get(f"/api/v1/prevention-items/{late['id']}").json["incident_ids"] == [
        incident.id]
    assert api.get("/api/v1/prevention-items?strength=7").status_code == 400
    assert api.get("/api/v1/prevention-items?outcome=lost").status_code == 400
    assert api.get(f"/api/v1/prevention-items?incident_id={2**40}").json["field"] == (
        "incident_id")

    first = api.get("/api/v1/prevention-items?limit=2").json
    assert len(first["items"]) == 2 and first["next"]
    second = api.get(first["next"]).json
    assert second["next"] is None
    assert len({i["id"] for i in first["items"] + second["items"]}) == 3


def test_outcome_filter_finds_quiet_items_without_a_proven_guard_unverified(api, session):
    item_id = create(api, kind="contain").json["id"]
    api.patch(f"/api/v1/prevention-items/{item_id}", json={"status": "done"})
    item = service.get(session=session, item_id=item_id)
    item.completed_at = utcnow() - timedelta(days=91)
    session.commit()
    # No guard proved it through the watch window: quiet, but never silently held.
    assert [i["id"] for i in api.get(
        "/api/v1/prevention-items?outcome=unverified").json["items"]] == [item_id]
    assert api.get("/api/v1/prevention-items?outcome=held").json["items"] == []
    assert api.get(f"/api/v1/prevention-items/{item_id}").json["outcome"] == "unverified"
    assert api.get("/api/v1/prevention-items?outcome=watching").json["items"] == []


def test_openapi_documents_the_prevention_routes(api):
    paths = api.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/prevention-items"])
    assert {"get", "patch"} <= set(paths["/api/v1/prevention-items/{item_id}"])


def test_nul_characters_are_dropped_not_a_server_error(api):
    created = create(api, title="Contract\x00 test", owner_team="pay\x00ments",
                     description="a\x00b")
    assert created.status_code == 201, created.json
    assert created.json["title"] == "Contract test" and created.json["owner_team"] == "payments"
    url = f"/api/v1/prevention-items/{created.json['id']}"
    assert api.patch(url, json={"guard_url": "https://ci/\x00x"}).json["guard_url"] == (
        "https://ci/x")
    assert api.get("/api/v1/prevention-items?team=pay%00ments").json["items"][0]["id"] == (
        created.json["id"])
