"""The line admin page: rename, add, remove (history kept), reorder."""

import pytest

from incidents.line import service as line
from incidents.line.models import Station
from incidents.review import service as reviews
from tests.test_review_support import make_incident


def _names(session):
    session.expire_all()
    return [s.name for s in line.stations(session=session)]


def test_admin_sees_the_line_in_order_with_what_each_catches(auth, client, session):
    auth.login_as("admin")
    html = client.get("/admin/line").get_data(as_text=True)
    assert html.count('data-testid="station-row"') == 12
    assert html.index("Editor and linter") < html.index("Production telemetry")
    assert "Logic errors in a single unit" in html
    assert 'href="/admin/line"' in html  # the nav link appears once the page exists


@pytest.mark.parametrize("role", ["viewer", "reviewer", "lead"])
def test_only_admins_edit_the_line(auth, client, session, role):
    auth.login_as(role)
    assert client.get("/admin/line").status_code == 403
    assert client.post("/admin/line/stations", data={"name": "Fuzzing"}).status_code == 403


def test_rename_a_station_and_what_it_catches(auth, client, session):
    auth.login_as("admin")
    station = line.stations(session=session)[2]
    response = client.post(f"/admin/line/stations/{station.id}",
                           data={"name": "Unit tests", "catches": "Logic and boundary errors"})
    assert response.status_code == 302
    session.expire_all()
    renamed = session.get(Station, station.id)
    assert (renamed.name, renamed.catches) == ("Unit tests", "Logic and boundary errors")


def test_add_a_station_at_the_end(auth, client, session):
    auth.login_as("admin")
    client.post("/admin/line/stations", data={"name": "Contract tests",
                                              "catches": "Provider/consumer mismatches"})
    assert _names(session)[-1] == "Contract tests"


@pytest.mark.parametrize(("data", "message"), [
    ({"name": ""}, "was not added"),
    ({"name": "x" * 121}, "was not added"),
    ({"name": "   "}, "was not added"),
])
def test_add_rejects_bad_names(auth, client, session, data, message):
    auth.login_as("admin")
    response = client.post("/admin/line/stations", data=data, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert len(_names(session)) == 12


def test_edit_unknown_station_says_so(auth, client):
    auth.login_as("admin")
    response = client.post("/admin/line/stations/999", data={"name": "x"},
                           follow_redirects=True)
    assert "no station 999" in response.get_data(as_text=True)


def test_reorder_moves_a_station_up_and_down(auth, client, session):
    auth.login_as("admin")
    before = line.stations(session=session)
    client.post(f"/admin/line/stations/{before[3].id}/move", data={"direction": "up"})
    assert _names(session)[2:4] == [before[3].name, before[2].name]
    client.post(f"/admin/line/stations/{before[3].id}/move", data={"direction": "down"})
    assert _names(session) == [s.name for s in before]
    client.post(f"/admin/line/stations/{before[0].id}/move", data={"direction": "up"})
    assert _names(session) == [s.name for s in before]  # the first stays first


def test_reorder_rejects_a_bad_direction(auth, client, session):
    auth.login_as("admin")
    station = line.stations(session=session)[1]
    assert client.post(f"/admin/line/stations/{station.id}/move",
                       data={"direction": "sideways"}).status_code == 400


def test_removed_station_leaves_the_line_but_keeps_its_findings(auth, client, session):
    incident = make_incident(session)
    review = reviews.start(session=session, incident_id=incident.id)
    station = line.stations(session=session)[7]
    reviews.set_finding(session=session, review=review, station_id=station.id,
                        reason="signal_missed", note="diff too large to read")
    session.commit()
    auth.login_as("admin")
    client.post(f"/admin/line/stations/{station.id}/remove")
    assert station.name not in _names(session)
    html = client.get("/admin/line").get_data(as_text=True)
    removed = html.split('data-testid="removed"')[1]
    assert station.name in removed and "1 finding(s) still name it" in removed
    session.expire_all()
    [finding] = reviews.find(session=session, incident_id=incident.id).findings
    assert finding.station.name == station.name and finding.note == "diff too large to read"
    assert not finding.station.active


@pytest.mark.parametrize("name", ["Canary", "canary", "  CANARY ", "Code  review"])
def test_add_refuses_a_name_the_line_already_has(auth, client, session, name):
    auth.login_as("admin")
    response = client.post("/admin/line/stations", data={"name": name}, follow_redirects=True)
    assert "already has a station named" in response.get_data(as_text=True)
    assert len(_names(session)) == 12


def test_rename_refuses_another_stations_name(auth, client, session):
    auth.login_as("admin")
    canary = line.stations(session=session)[9]
    response = client.post(f"/admin/line/stations/{canary.id}",
                           data={"name": "production ROLLOUT", "catches": ""},
                           follow_redirects=True)
    assert "already has a station named &#39;Production rollout&#39;" in response.get_data(
        as_text=True)
    assert _names(session)[9] == "Canary"
    # Its own name in another case is a rename, not a clash.
    client.post(f"/admin/line/stations/{canary.id}", data={"name": "CANARY", "catches": ""})
    assert _names(session)[9] == "CANARY"


def test_the_database_refuses_two_stations_with_one_name(session):
    from sqlalchemy.exc import IntegrityError

    session.add(Station(name="code review", position=99))
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_removed_station_is_restored_with_its_findings(auth, client, session):
    incident = make_incident(session)
    review = reviews.start(session=session, incident_id=incident.id)
    station = line.stations(session=session)[7]
    reviews.set_finding(session=session, review=review, station_id=station.id,
                        reason="signal_missed", note="diff too large to read")
    session.commit()
    auth.login_as("admin")
    client.post(f"/admin/line/stations/{station.id}/remove")
    # Adding it again would split its history: the admin is sent to restore it instead.
    response = client.post("/admin/line/stations", data={"name": station.name.upper()},
                           follow_redirects=True)
    assert "is a removed station: restore it" in response.get_data(as_text=True)
    assert client.get("/admin/line").get_data(as_text=True).count(
        f'aria-label="Restore {station.name}"') == 1

    response = client.post(f"/admin/line/stations/{station.id}/restore",
                           follow_redirects=True)
    assert "Station restored" in response.get_data(as_text=True)
    assert _names(session)[-1] == station.name  # back, at the end of the line
    session.expire_all()
    assert session.get(Station, station.id).active
    assert reviews.findings_per_station(session=session)[station.id] == 1
    html = client.get("/admin/line").get_data(as_text=True)
    assert 'data-testid="removed"' not in html
    assert html.count('data-testid="station-row"') == 12


def test_restore_unknown_station_says_so(auth, client):
    auth.login_as("admin")
    response = client.post("/admin/line/stations/999/restore", follow_redirects=True)
    assert "no station 999" in response.get_data(as_text=True)


def test_a_published_review_keeps_the_station_name_it_was_published_with(
        auth, client, session, api):
    from tests.test_review_support import first_station, make_publishable

    incident = make_incident(session)
    review = make_publishable(session, reviews.start(session=session, incident_id=incident.id))
    reviews.publish(session=session, review=review)
    session.commit()
    station = first_station(session)
    auth.login_as("admin")
    client.post(f"/admin/line/stations/{station.id}",
                data={"name": "IDE checks", "catches": station.catches})

    page = client.get(f"/incidents/{incident.id}/review").get_data(as_text=True)
    assert "Editor and linter" in page and "IDE checks" not in page
    body = api.get(f"/api/v1/incidents/{incident.id}/review").get_json()
    assert body["findings"][0]["station"] == "Editor and linter"

    # Reopened, it is a draft again and shows the station's current name; publishing again
    # records that one.
    session.expire_all()  # the rename happened in the app's session
    review = reviews.find(session=session, incident_id=incident.id)
    reviews.reopen(session=session, review=review)
    session.commit()
    body = api.get(f"/api/v1/incidents/{incident.id}/review").get_json()
    assert body["findings"][0]["station"] == "IDE checks"
    reviews.publish(session=session, review=review)
    session.commit()
    client.post(f"/admin/line/stations/{station.id}",
                data={"name": "Editor", "catches": station.catches})
    body = api.get(f"/api/v1/incidents/{incident.id}/review").get_json()
    assert body["findings"][0]["station"] == "IDE checks"
