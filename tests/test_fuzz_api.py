"""Schemathesis against /api/v1/openapi.json: no 5xx, and every answer matches the document.

Every operation in the document (the JSON API and the paging-tool hooks) gets a bounded number
of generated requests, valid and invalid, with a token that may do everything. Generated ids
are folded onto rows that exist, so most requests reach the code behind the lookup.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from incidents import demo
from incidents.incident import service as incidents

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
EXAMPLES_PER_OPERATION = 12
EXISTING = {"incident_id": 14, "item_id": 3, "station_id": 12}  # ids 1..n exist


@pytest.fixture
def fuzz_token(session, make_token):
    demo.load(session=session)
    session.commit()
    return make_token("api:write", "hooks")


def _fold_ids(case) -> None:
    for name, count in EXISTING.items():
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, int) and value > 0:
            case.path_parameters[name] = value % count + 1


def _fuzz(operation, mode: GenerationMode, token: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        if mode is GenerationMode.POSITIVE:
            _fold_ids(case)  # a negative case's out-of-range id must stay out of range
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()


def test_api_survives_generated_requests(app, api, fuzz_token):
    for n in range(3):  # prevention items 1..3, so item ids hit real rows
        assert api.post("/api/v1/prevention-items", json={
            "title": f"Contract test {n}", "kind": "detect", "station_id": 3}).status_code == 201
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Unknown query parameters are ignored, like most HTTP APIs do (cache busters, tracing).
    schema.config.generation.allow_extra_parameters = False
    # Authentication is the matrix's business (test_authz_matrix.py); here every call has
    # the token, so the generator must not count a mangled Authorization as the negation.
    schema.config.generation.with_security_parameters = False
    # A body over the 1 MiB limit is refused with 413: a rejection like any other.
    schema.config.checks.negative_data_rejection.expected_statuses.append("413")
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, fuzz_token)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no inputs)
            except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures
                failures.append(f"--- {operation.label} ({mode}) ---\n{exc}")
    assert operations >= 25
    assert not failures, "\n".join(failures)


# --- what the fuzzer found, pinned down -------------------------------------------------------

BIG, HUGE = 2**40, 2**70  # past PostgreSQL's integer, past SQLite's


@pytest.mark.parametrize("number", [BIG, HUGE])
@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", "/api/v1/incidents/{n}", None),
    ("PATCH", "/api/v1/incidents/{n}", {"title": "x"}),
    ("GET", "/api/v1/incidents/{n}/timeline", None),
    ("GET", "/api/v1/incidents?before={n}", None),
    ("GET", "/api/v1/incidents/1/timeline?after={n}", None),
    ("POST", "/api/v1/incidents/2/recurrences", {"of": "{n}"}),
    ("POST", "/api/v1/prevention-items", {"title": "x", "kind": "detect", "station_id": "{n}"}),
    ("POST", "/api/v1/incidents/1/review/prevention-items", {"id": "{n}"}),
    ("GET", "/incidents/{n}", None),
])
def test_ids_past_the_database_range_are_refused_not_crashed(api, session, method, url, body,
                                                             number):
    for title in ("first", "second"):  # incidents 1 and 2, so lookups reach the body's id
        incidents.declare(session=session, title=title)
    session.commit()
    url = url.format(n=number)
    body = {k: number if v == "{n}" else v for k, v in (body or {}).items()} or None
    response = api.client.open(url, method=method, json=body, headers={
        "Authorization": f"Bearer {api.token}"})
    # 405: PATCH has its own rule, which no longer matches such an id at all.
    assert response.status_code in (400, 404, 405), response.get_data(as_text=True)
    assert "error" in response.get_json() if url.startswith("/api/") else True


def test_path_ids_are_documented_with_their_range(client):
    document = client.get("/api/v1/openapi.json").get_json()
    path = document["paths"]["/api/v1/incidents/{incident_id}"]
    parameters = path.get("parameters", []) + path["get"].get("parameters", [])
    parameter = next(p for p in parameters if p["name"] == "incident_id")
    assert parameter["schema"]["maximum"] == 2**31 - 1
