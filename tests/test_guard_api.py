"""Naming a guard: pasted links read into structured guards where they can be, the API's
`guard` and `guard_url`, manual confirmations, and guard_url rows carried over by the
migration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from incidents.guard import urls
from incidents.guard.models import Provider
from tests import guard_payloads as payloads
from tests.conftest import GITHUB_SECRET, GITLAB_TOKEN
from tests.helpers import github_delivery, gitlab_delivery
from tests.test_migration_upgrade import alembic_config, blank_url  # noqa: F401  (fixture)

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("url, expected", [
    ("https://github.com/Acme/Checkout/actions/workflows/ci.yml",
     (Provider.GITHUB, "acme/checkout", ".github/workflows/ci.yml", None, None)),
    ("https://github.com/acme/checkout/blob/main/.github/workflows/contract.yaml",
     (Provider.GITHUB, "acme/checkout", ".github/workflows/contract.yaml", None, None)),
    ("https://github.com/acme/checkout/actions/runs/289782451",
     (Provider.GITHUB, "acme/checkout", None, "workflow_run", "289782451")),
    ("https://github.com/acme/checkout/actions/runs/289782451/attempts/2",
     (Provider.GITHUB, "acme/checkout", None, "workflow_run", "289782451")),
    ("https://github.com/acme/checkout/actions/runs/289782451/job/128620228",
     (Provider.GITHUB, "acme/checkout", None, "check_run", "128620228")),
    ("https://github.com/acme/checkout/runs/128620228?check_suite_focus=true",
     (Provider.GITHUB, "acme/checkout", None, "check_run", "128620228")),
    ("https://github.example.com/acme/checkout/runs/7",
     (Provider.GITHUB, "acme/checkout", None, "check_run", "7")),
    ("https://gitlab.com/acme/shop/checkout/-/jobs/1977",
     (Provider.GITLAB, "acme/shop/checkout", None, "job", "1977")),
    ("https://gitlab.example.com/acme/checkout/-/pipelines/31/",
     (Provider.GITLAB, "acme/checkout", None, "pipeline", "31")),
])
def test_ci_links_are_read(url, expected):
    parsed = urls.parse(url)
    assert (parsed.provider, parsed.repository, parsed.name, parsed.run_kind,
            parsed.run_id) == expected


@pytest.mark.parametrize("url", [
    "https://grafana.example.com/alerting/grafana/abc/view",
    "https://github.com/acme/checkout",
    "https://github.com/acme/checkout/pull/12",
    "https://gitlab.com/-/jobs/12",
    "https://evil.example/acme/checkout/actions/workflows/ci.yml",
    "https://github.com/" + "a/" * 5000 + "runs/1",
])
def test_other_links_are_not_read_as_ci(url):
    assert urls.parse(url) is None


def test_parsing_a_long_gitlab_like_path_stays_linear():
    import time

    path = "https://gitlab.example.com/" + "a/-/" * 20_000 + "jobs/x"
    started = time.perf_counter()
    assert urls.parse(path) is None
    assert time.perf_counter() - started < 0.5


@pytest.fixture
def item_url(api):
    item = api.post("/api/v1/prevention-items", json={"title": "Contract test for amounts",
                                                      "kind": "detect"}).json
    return f"/api/v1/prevention-items/{item['id']}"


def test_a_workflow_link_becomes_a_github_guard(api, item_url):
    link = "https://github.com/Acme/Checkout/actions/workflows/ci.yml"
    done = api.patch(item_url, json={"status": "done", "guard_url": link})
    assert done.status_code == 200, done.json
    assert done.json["guard"] == {
        "provider": "github", "repository": "acme/checkout", "name": ".github/workflows/ci.yml",
        "test_id": None, "branch": None, "url": link, "health": "unverified",
        "last_run_at": None, "last_passed_at": None, "stale_after_days": 14,
        "verified": False}
    assert done.json["guard_url"] == link and done.json["guard_broken"] is False


def test_a_link_to_a_run_takes_its_check_from_the_run_received(api, client, item_url):
    body = payloads.check_run(run_id=128620228, name="contract-tests", conclusion="success",
                              at=AT, branch="release")
    client.post("/hooks/github", **github_delivery("check_run", body, secret=GITHUB_SECRET))
    link = "https://github.com/acme/checkout/actions/runs/99/job/128620228"
    guard = api.patch(item_url, json={"guard_url": link}).json["guard"]
    assert (guard["provider"], guard["name"], guard["branch"]) == ("github", "contract-tests",
                                                                   "release")
    assert (guard["last_run_at"], guard["last_passed_at"]) == (
        "2026-11-20T09:30:00+00:00", "2026-11-20T09:30:00+00:00")
    job = payloads.gitlab_build(build_id=1977, name="unit", status="success", at=AT)
    client.post("/hooks/gitlab", **gitlab_delivery("Job Hook", job, token=GITLAB_TOKEN))
    guard = api.patch(item_url, json={
        "guard": {"url": "https://gitlab.example.com/acme/checkout/-/jobs/1977"}}).json["guard"]
    assert (guard["provider"], guard["repository"], guard["name"], guard["branch"]) == (
        "gitlab", "acme/checkout", "unit", None)


def test_the_list_filters_by_guard_health(api, item_url):
    api.patch(item_url, json={"guard_url": "https://github.com/a/b/actions/workflows/x.yml"})
    listed = api.get("/api/v1/prevention-items?guard_health=unverified").json["items"]
    assert [i["guard"]["name"] for i in listed] == [".github/workflows/x.yml"]
    assert api.get("/api/v1/prevention-items?guard_health=broken").json["items"] == []
    assert api.get("/api/v1/prevention-items?guard_health=dead").json["field"] == (
        "guard_health")


def test_a_link_linecheck_cannot_watch_becomes_a_manual_guard(api, item_url):
    link = "https://github.com/acme/checkout/actions/runs/1"  # a run never received
    guard = api.patch(item_url, json={"guard_url": link}).json["guard"]
    assert (guard["provider"], guard["url"], guard["stale_after_days"]) == ("manual", link, 30)


def test_a_structured_guard_and_its_errors(api, item_url):
    given = {"provider": "gitlab", "repository": "Acme/Checkout", "name": " contract-tests ",
             "test_id": "AmountTest.cents", "branch": "release"}
    guard = api.patch(item_url, json={"status": "done", "guard": given}).json["guard"]
    assert {k: guard[k] for k in given} == {**given, "repository": "acme/checkout",
                                            "name": "contract-tests"}
    for body, field in [
        ({"guard": {"provider": "github", "name": "x"}}, "guard.repository"),
        ({"guard": {"provider": "github", "repository": "a/b"}}, "guard.name"),
        ({"guard": {"provider": "manual", "repository": "a/b", "name": "x"}}, "guard.provider"),
        ({"guard": {"provider": "manual"}}, "guard.name"),
        ({"guard": {"provider": "jenkins"}}, "guard"),
        ({"guard": {"provider": "github", "repository": "a/b", "name": "x",
                    "url": "ftp://x"}}, "guard.url"),
        ({"guard": {"url": "not a link"}}, "guard.url"),
        ({"guard": {"provider": "github", "repository": "a/b", "name": "x", "extra": 1}},
         "guard"),
        ({"guard": None}, "guard_url"),  # a done detect item cannot lose its guard
        ({"guard": {"url": "https://a.example"}, "guard_url": "https://a.example"}, "guard"),
    ]:
        response = api.patch(item_url, json=body)
        assert response.status_code in (400, 422), (body, response.json)
        assert response.json["field"] == field or response.json.get("fields", {}).get(
            field.split(".")[0]), (body, response.json)
    assert api.get(item_url).json["guard"]["name"] == "contract-tests"  # unchanged


def test_migration_turns_guard_urls_into_manual_guards(blank_url):  # noqa: F811
    config = alembic_config(blank_url)
    command.upgrade(config, "0002")
    engine = create_engine(blank_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO prevention_items (id, title, description, kind, status, guard_url, "
            "completed_at, created_at, updated_at) VALUES "
            "(1, 'Contract test', '', 'detect', 'done', 'https://ci.example/job/1', "
            "'2026-03-01 12:00:00', '2026-02-01 12:00:00', '2026-03-01 12:00:00'), "
            "(2, 'Open item', '', 'detect', 'proposed', NULL, NULL, "
            "'2026-02-01 12:00:00', '2026-02-01 12:00:00')"))
    command.upgrade(config, "head")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT prevention_item_id, provider, url, created_at FROM guards")).all()
        columns = conn.execute(text("SELECT * FROM prevention_items")).keys()
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, "manual", "https://ci.example/job/1")]
    assert str(rows[0][3]).startswith("2026-03-01 12:00:00")  # when the item was done
    assert "guard_url" not in columns
    command.downgrade(config, "0002")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, guard_url FROM prevention_items ORDER BY id")
                            ).all() == [(1, "https://ci.example/job/1"), (2, None)]
    engine.dispose()
