"""The OpenAPI document describes every /api/v1 route the app serves."""

import re

from openapi_spec_validator import OpenAPIV30SpecValidator


def _document_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    return doc


def test_every_api_route_is_in_the_document(app, client):
    doc = _document_paths(client)
    documented = {
        (re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper())
        for path, operations in doc["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    served = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method))
    api_routes = {(path, method) for path, method in served
                  if path.startswith("/api/v1/") and path != "/api/v1/openapi.json"}
    assert api_routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - served == set(), "documented routes the app does not serve"


def test_document_declares_bearer_auth_and_error_shape(client):
    doc = _document_paths(client)
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"bearerAuth": []} in doc["security"]
    incidents_get = doc["paths"]["/api/v1/incidents"]["get"]
    assert {"200", "401", "403"} <= set(incidents_get["responses"])


def test_document_is_valid_openapi_3_0(client):
    doc = _document_paths(client)
    assert doc["openapi"] == "3.0.3"
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
              for e in OpenAPIV30SpecValidator(doc).iter_errors()]
    assert errors == []


def test_every_documented_response_has_a_description(client):
    doc = _document_paths(client)
    undescribed = [f"{method.upper()} {path} {code}"
                   for path, operations in doc["paths"].items()
                   for method, operation in operations.items() if isinstance(operation, dict)
                   for code, response in operation.get("responses", {}).items()
                   if "$ref" not in response and not response.get("description")]
    assert undescribed == []


def test_blame_check_flags_document_their_phrase(client):
    doc = _document_paths(client)
    flag = doc["components"]["schemas"]["FlagOut"]
    assert "phrase" in flag["properties"] and "phrase" in flag["required"]
