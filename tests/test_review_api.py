"""The review API: shapes from SPEC.md, the 409 on a stale save, the 422 publish gate."""

import pytest

from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.review import service
from tests.test_review_support import make_incident, make_publishable, structural_item


@pytest.fixture
def incident(app, session):
    return make_incident(session)


@pytest.fixture
def url(incident):
    return f"/api/v1/incidents/{incident.id}/review"


def _station_id(session):
    return line.stations(session=session)[2].id


def test_get_before_start_is_an_empty_draft(api_reader, url, incident):
    response = api_reader.get(url)
    assert response.status_code == 200
    body = response.json
    assert body["id"] is None and body["incident_id"] == incident.id
    assert (body["markdown"], body["defect_class"], body["revision"], body["state"]) == (
        "", None, 0, "draft")
    assert body["missing"] == ["station_finding", "defect_class", "structural_prevention_item"]


def test_get_unknown_incident_is_404(api_reader):
    response = api_reader.get("/api/v1/incidents/999/review")
    assert response.status_code == 404 and "error" in response.json


def test_put_saves_and_returns_the_next_revision_with_flags(api, url):
    response = api.put(url, json={"markdown": "Dana forgot to run the migration check.",
                                  "defect_class": "data", "revision": 0})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["revision"] == 1 and body["defect_class"] == "data"
    [flag] = body["flags"]
    assert (flag["rule"], flag["phrase"], flag["where"], flag["kept_reason"]) == (
        "forgot", "Dana forgot to", "write-up", None)
    assert "blame_flags" in body["missing"]
    again = api.get(url + "/revisions").json
    assert [(r["revision"], r["author"]) for r in again["items"]] == [(1, "token:test")]


def test_put_with_a_stale_revision_is_409_with_the_current_review(api, url):
    api.put(url, json={"markdown": "theirs", "revision": 0})
    response = api.put(url, json={"markdown": "mine", "revision": 0})
    assert response.status_code == 409
    assert response.json["field"] == "revision"
    assert response.json["current"]["markdown"] == "theirs"
    assert response.json["current"]["revision"] == 1
    assert api.get(url).json["markdown"] == "theirs"


@pytest.mark.parametrize(("body", "field"), [
    ({"markdown": "x"}, "revision"),
    ({"markdown": "x", "revision": -1}, "revision"),
    ({"markdown": "x", "revision": "one"}, "revision"),
    ({"defect_class": "gremlins", "revision": 0}, "defect_class"),
    ({"markdown": 5, "revision": 0}, "markdown"),
])
def test_put_rejects_bad_fields(api, url, body, field):
    response = api.put(url, json=body)
    assert response.status_code == 400
    assert field in response.json["fields"]


def test_put_rejects_a_body_that_is_not_json(api, url):
    response = api.put(url, data="not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "error" in response.json


def test_read_token_cannot_write_and_no_token_is_401(api_reader, client, url):
    assert api_reader.put(url, json={"markdown": "x", "revision": 0}).status_code == 403
    assert client.get(url).status_code == 401


def test_findings_create_then_update(api, url, session):
    station_id = _station_id(session)
    body = {"station_id": station_id, "reason": "not_covered", "note": "no contract test",
            "cheapest": True}
    created = api.post(url + "/findings", json=body)
    assert created.status_code == 201, created.json
    assert created.json["cheapest"] is True and created.json["reason"] == "not_covered"
    updated = api.post(url + "/findings", json={**body, "reason": "flaky"})
    assert updated.status_code == 200 and updated.json["reason"] == "flaky"
    assert [f["station_id"] for f in api.get(url).json["findings"]] == [station_id]
    assert api.client.delete(url + f"/findings/{station_id}",
                             headers={"Authorization": f"Bearer {api.token}"}).status_code == 204
    assert api.get(url).json["findings"] == []


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"station_id": 9999, "reason": "no_check"}, 404, None),
    ({"reason": "no_check"}, 400, "station_id"),
    ({"station_id": 1, "reason": "bad_luck"}, 400, "reason"),
    ({"station_id": 1, "reason": "no_check", "note": "x" * 5001}, 400, "note"),
    ({"station_id": 1, "reason": "no_check", "cheapest": "maybe"}, 400, "cheapest"),
])
def test_findings_reject_bad_input(api, url, body, status, field):
    response = api.post(url + "/findings", json=body)
    assert response.status_code == status
    if field:
        assert field in response.json["fields"]


def test_link_prevention_item_and_weak_items_say_why(api, url, session):
    strong = structural_item(session)
    weak = structural_item(session, title="Remind people to check the currency table",
                           kind="detect")
    session.commit()
    first = api.post(url + "/prevention-items", json={"id": strong.id})
    assert first.status_code == 201 and first.json["weak"] is None
    assert api.post(url + "/prevention-items", json={"id": strong.id}).status_code == 200
    linked_weak = api.post(url + "/prevention-items", json={"id": weak.id})
    assert "reads as advice" in linked_weak.json["weak"]
    assert api.post(url + "/prevention-items", json={"id": 9999}).status_code == 404
    assert api.post(url + "/prevention-items", json={}).status_code == 400
    items = api.get(url).json["prevention_items"]
    assert {i["id"] for i in items} == {strong.id, weak.id}


def test_publish_refused_while_the_incident_is_open(api, session):
    incident = incidents.declare(session=session, title="Checkout 500s, still firing",
                                 service="checkout")
    session.commit()
    url = f"/api/v1/incidents/{incident.id}/review"
    review = service.start(session=session, incident_id=incident.id)
    make_publishable(session, review)
    assert api.get(url).json["missing"] == ["incident_resolved"]
    refused = api.post(url + "/publish")
    assert refused.status_code == 422
    assert refused.json["missing"] == ["incident_resolved"]
    assert "the incident resolved" in refused.json["error"]
    assert api.get(url).json["state"] == "draft"

    incidents.resolve(session=session, incident=incident)
    session.commit()
    published = api.post(url + "/publish")
    assert published.status_code == 200 and published.json["state"] == "published"


def test_publish_refused_with_each_missing_piece_then_published(api, url, session):
    refused = api.post(url + "/publish")
    assert refused.status_code == 422
    assert refused.json["missing"] == [
        "station_finding", "defect_class", "structural_prevention_item"]
    assert "error" in refused.json

    api.put(url, json={"markdown": "Root cause: human error.", "defect_class": "contract",
                       "revision": 0})
    api.post(url + "/findings", json={"station_id": _station_id(session), "reason": "no_check"})
    assert api.post(url + "/publish").json["missing"] == [
        "structural_prevention_item", "blame_flags"]

    item = structural_item(session)
    session.commit()
    api.post(url + "/prevention-items", json={"id": item.id})
    assert api.post(url + "/publish").json["missing"] == ["blame_flags"]

    kept = api.post(url + "/kept-flags", json={"rule": "human_error", "phrase": "human error",
                                                "reason": "Quoting the vendor's RCA"})
    assert kept.status_code == 201 and kept.json["missing"] == []
    published = api.post(url + "/publish")
    assert published.status_code == 200, published.json
    assert published.json["state"] == "published" and published.json["published_at"]

    assert api.put(url, json={"markdown": "late edit", "revision": published.json["revision"]}
                   ).status_code == 422
    reopened = api.post(url + "/reopen")
    assert reopened.status_code == 200 and reopened.json["state"] == "in_review"


@pytest.mark.parametrize("body", [
    {"rule": "vibes", "phrase": "x", "reason": "r"},
    {"rule": "forgot", "phrase": "", "reason": "r"},
    {"rule": "forgot", "phrase": "forgot", "reason": ""},
])
def test_keep_flag_rejects_bad_input(api, url, body):
    assert api.post(url + "/kept-flags", json=body).status_code == 400


def test_blame_check_answers_flags_with_spans(api_reader):
    text = "The alert failed to fire. @dana pushed a bad config."
    response = api_reader.post("/api/v1/blame-check", json={"text": text})
    assert response.status_code == 200
    [flag] = response.json["flags"]
    assert set(flag) == {"start", "end", "rule", "question", "phrase", "label", "reason",
                         "confidence"}
    assert text[flag["start"]:flag["end"]] == flag["phrase"] == "@dana pushed a bad"
    assert flag["label"] and flag["reason"] and flag["confidence"] is None


@pytest.mark.parametrize("body", [{}, {"text": 5}, [1]])
def test_blame_check_rejects_bad_input(api_reader, body):
    response = api_reader.post("/api/v1/blame-check", json=body)
    assert response.status_code == 400 and "error" in response.json


def test_openapi_describes_the_review_routes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    review = "/api/v1/incidents/{incident_id}/review"
    assert {"get", "put"} <= set(paths[review])
    assert "409" in paths[review]["put"]["responses"]
    assert "422" in paths[review + "/publish"]["post"]["responses"]
    for path in (review + "/findings", review + "/prevention-items", "/api/v1/blame-check"):
        assert "post" in paths[path]


@pytest.mark.parametrize(("path", "body"), [
    ("", {"markdown": "x", "revision": 2**63}),
    ("/findings", {"station_id": 2**63, "reason": "no_check"}),
    ("/prevention-items", {"id": 2**40}),
])
def test_out_of_range_numbers_are_400_not_a_crash(api, url, path, body):
    send = api.put if path == "" else api.post
    response = send(url + path, json=body)
    assert response.status_code == 400 and "fields" in response.json


def test_nul_characters_are_dropped_not_a_crash(api, url, session):
    saved = api.put(url, json={"markdown": "before\u0000after", "revision": 0})
    assert saved.status_code == 200 and saved.json["markdown"] == "beforeafter"
    finding = api.post(url + "/findings", json={"station_id": _station_id(session),
                                                 "reason": "flaky", "note": "n\u0000ote"})
    assert finding.status_code == 201 and finding.json["note"] == "note"
    kept = api.post(url + "/kept-flags", json={"rule": "forgot", "phrase": "for\u0000got",
                                                "reason": "quoted\u0000"})
    assert kept.status_code == 201
