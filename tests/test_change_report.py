"""The report's per-change figures, checked against rates computed by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from incidents.change import service as changes
from incidents.change import suspects
from incidents.change.sources import ChangeFacts
from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.report import service as report
from incidents.review import service as reviews
from tests.change_payloads import sha
from tests.helpers import count_queries

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def deploy(session, n: int, *, service: str, origin: str | None, at: datetime,
           deployed: bool = True) -> int:
    fact = ChangeFacts(source="changes", repository=f"acme/{service}", revision=sha(f"c{n}"),
                       service=service, environment="production", title=f"change {n}",
                       merged_at=at - timedelta(hours=1), deployed_at=at if deployed else None,
                       declared_origin=origin)
    return changes.apply(session=session, facts=[fact],
                         settings=changes.Settings()).changes[0].id


# (service, origin, how many) deployed in March 2026.
MARCH_CHANGES = [("checkout", "ai_assisted", 8), ("search", "ai_assisted", 2),
                 ("checkout", "human", 5), ("search", "config", 4),
                 ("checkout", "third_party", 1), ("checkout", None, 5)]
# (title, service, team, origin, day of March, stations whose findings name it)
MARCH_INCIDENTS = [
    ("AI one", "checkout", "payments", "ai_assisted", 3, ["Code review", "Canary"]),
    ("AI two", "checkout", "payments", "ai_assisted", 9, ["Code review"]),
    ("AI three", "search", "discovery", "ai_assisted", 12, []),
    ("Human one", "checkout", "payments", "human", 15, ["CI unit tests"]),
    ("Config one", "search", "discovery", "config", 20, []),
    ("Unknown one", "checkout", "payments", "unknown", 25, []),
]


@pytest.fixture
def history(session):
    n = 0
    ids: dict[str, list[int]] = {}
    for service, origin, count in MARCH_CHANGES:
        for i in range(count):
            n += 1
            ids.setdefault(origin or "unknown", []).append(
                deploy(session, n, service=service, origin=origin,
                       at=MARCH + timedelta(days=1 + i, hours=n)))
    for i in range(3):  # deployed in April: outside the period
        deploy(session, 100 + i, service="checkout", origin="ai_assisted",
               at=datetime(2026, 4, 2 + i, tzinfo=UTC))
    for i in range(2):  # merged, never deployed: no denominator
        deploy(session, 200 + i, service="checkout", origin="human", at=MARCH, deployed=False)
    stations = {s.name: s.id for s in line.stations(session=session)}
    made = {}
    for title, service, team, origin, day, leaked in MARCH_INCIDENTS:
        incident = incidents.declare(session=session, title=title, service=service, team=team,
                                     change_origin=origin,
                                     started_at=MARCH + timedelta(days=day - 1, hours=12))
        made[title] = incident
        if leaked:
            review = reviews.start(session=session, incident_id=incident.id)
            for station in leaked:
                reviews.set_finding(session=session, review=review,
                                    station_id=stations[station], reason="no_check")
    # Two incidents confirmed to one of their changes (same origin, so nothing moves).
    suspects.confirm(session=session, incident_id=made["AI one"].id,
                     change_id=ids["ai_assisted"][0])
    suspects.confirm(session=session, incident_id=made["Human one"].id,
                     change_id=ids["human"][0])
    session.commit()
    return made


def figures(session, **filters) -> dict:
    return report.recurrence_report(
        session=session, now=NOW, watch_window_days=90,
        filters=report.ReportFilter(start=date(2026, 3, 1), end=date(2026, 3, 31), **filters))


def rates(got) -> dict:
    return {row["change_origin"]: (row["changes"], row["incidents"],
                                   row["incidents_per_100_changes"], row["share_of_changes"])
            for row in got["by_change_origin"]}


def test_incidents_per_100_changes_match_the_hand_computed_figures(session, history):
    got = figures(session)
    # 25 changes deployed in March: 10 AI-assisted, 5 human, 4 config, 1 third-party, 5 unknown.
    assert rates(got) == {
        "ai_assisted": (10, 3, 30.0, 0.4),  # 3 incidents / 10 changes × 100
        "human": (5, 1, 20.0, 0.2),  # 1 / 5 × 100
        "config": (4, 1, 25.0, 0.16),  # 1 / 4 × 100
        "unknown": (5, 1, 20.0, 0.2),  # 1 / 5 × 100
        "third_party": (1, 0, 0.0, 0.04),  # 0 / 1 × 100
    }
    assert [row["change_origin"] for row in got["by_change_origin"]] == [
        "ai_assisted", "human", "unknown", "config", "third_party"]  # incidents, then changes
    assert got["change_attribution"] == {
        "changes": 25, "unknown_changes": 5, "unknown_share": 0.2,
        "attribution_coverage": 0.8, "incidents_linked_to_a_change": 2}
    assert got["leaks_by_origin"] == [
        {"station_id": 8, "station": "Code review", "ai_assisted": 2, "human": 0, "config": 0,
         "third_party": 0, "unknown": 0, "total": 2},
        {"station_id": 3, "station": "CI unit tests", "ai_assisted": 0, "human": 1,
         "config": 0, "third_party": 0, "unknown": 0, "total": 1},
        {"station_id": 10, "station": "Canary", "ai_assisted": 1, "human": 0, "config": 0,
         "third_party": 0, "unknown": 0, "total": 1},
    ]


def test_service_team_and_origin_filters_narrow_both_sides(session, history):
    checkout = rates(figures(session, service="checkout"))
    # checkout: 8 AI, 5 human, 1 third-party, 5 unknown changes; 2 AI, 1 human, 1 unknown.
    assert checkout["ai_assisted"] == (8, 2, 25.0, round(8 / 19, 3))
    assert checkout["human"] == (5, 1, 20.0, round(5 / 19, 3))
    assert "config" not in checkout
    assert rates(figures(session, team="discovery")) == {
        "ai_assisted": (2, 1, 50.0, round(2 / 6, 3)), "config": (4, 1, 25.0, round(4 / 6, 3))}
    ai = figures(session, origin="ai_assisted")
    assert ai["incidents"] == 3 and rates(ai) == {"ai_assisted": (10, 3, 30.0, 1.0)}
    assert [row["station"] for row in ai["leaks_by_origin"]] == ["Code review", "Canary"]
    assert ai["change_attribution"]["incidents_linked_to_a_change"] == 1
    assert ai["filters"]["origin"] == "ai_assisted"


def test_no_changes_means_no_rate_not_zero(session):
    incidents.declare(session=session, title="Lonely", service="x", change_origin="human",
                      started_at=MARCH + timedelta(days=2))
    session.commit()
    got = figures(session)
    assert rates(got) == {"human": (0, 1, None, None)}
    assert got["change_attribution"]["unknown_share"] is None


def test_csv_json_and_page_carry_the_figures(session, history, api_reader, client, auth):
    query = "from=2026-03-01&to=2026-03-31"
    body = api_reader.get(f"/api/v1/reports/recurrence?{query}").json
    assert body["change_attribution"]["attribution_coverage"] == 0.8
    text = api_reader.get(f"/api/v1/reports/recurrence?{query}&format=csv").get_data(
        as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert ["by_change_origin", "ai_assisted", "incidents_per_100_changes", "30.0"] in rows
    assert ["change_attribution", "", "unknown_share", "0.2"] in rows
    assert ["leaks_by_origin", "Code review", "ai_assisted", "2"] in rows
    bad = api_reader.get(f"/api/v1/reports/recurrence?{query}&origin=robot")
    assert bad.status_code == 400
    auth.login_as("lead")
    page = client.get(f"/reports/recurrence?{query}&origin=ai_assisted").get_data(as_text=True)
    assert '<option value="ai_assisted" selected>' in page
    assert "Attribution coverage 100%" in page  # only AI-assisted changes in this view
    page = client.get(f"/reports/recurrence?{query}").get_data(as_text=True)
    assert "Attribution coverage 80%" in page
    assert "<tr><td>AI-assisted</td><td>10</td><td>40%</td><td>3</td><td>30</td></tr>" in page


def test_report_query_count_does_not_grow_with_changes(app, session, api_reader, history):
    path = "/api/v1/reports/recurrence"
    api_reader.get(path)
    with count_queries(app.extensions["linecheck.engine"]) as few:
        api_reader.get(path)
    for n in range(80):
        deploy(session, 500 + n, service="checkout", origin=["human", None][n % 2],
               at=MARCH + timedelta(days=n % 28, minutes=n))
    for n in range(10):
        incidents.declare(session=session, title=f"More {n}", service="checkout",
                          change_origin="human", started_at=MARCH + timedelta(days=n))
    session.commit()
    with count_queries(app.extensions["linecheck.engine"]) as many:
        api_reader.get(path)
    assert len(many) == len(few)
