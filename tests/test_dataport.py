"""`flask export` / `flask import`: every row survives SQLite → PostgreSQL → SQLite."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

import incidents.models as m
from incidents import create_app, demo
from incidents.auth import service as auth
from incidents.db import Base
from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.timeline import service as timeline
from tests.conftest import BACKENDS, _truncate_all


def fill_every_table(session: Session) -> None:
    """The demo set plus at least one row in every table, with awkward values in each type."""
    demo.load(session=session)
    admin = session.scalar(select(m.User).where(m.User.email == "admin@linecheck.test"))
    odd = "Ünïcode ✓ 🚒 \"quotes\" <b>tags</b>\nsecond line\ttab \\ backslash"
    stamp = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
    # Two incidents the demo set left without a review, so this one can add its own.
    first, second = session.scalars(
        select(m.Incident).where(m.Incident.id.not_in(select(m.Review.incident_id)))
        .order_by(m.Incident.id).limit(2))
    session.add(m.LoginAttempt(key="someone@example.com|127.0.0.1", attempted_at=stamp))
    auth.create_token(session=session, name="export test", scopes=["api:read", "hooks"])
    event = timeline.add_event(session=session, incident=first, text=odd, external_key="ext-1",
                               fingerprint="fp-1", link="https://example.com/a?b=c&d=é")
    timeline.edit_event(session=session, event_id=event.id, text="edited " + odd, editor=admin)
    session.add(m.Delivery(sender="generic", delivery_key="d-1", incident_id=first.id))
    session.add(m.OutboxJob(kind="slack.notice", key="change:1", incident_id=first.id,
                            payload={"lines": [odd], "n": [1, 2.5, None, True]}, attempts=2,
                            state="dead", last_error=odd, leased_until=stamp))
    session.add(m.SenderSettings(sender="alertmanager", enabled=False, default_severity="SEV2",
                                 service_teams={"checkout": "payments", "nested": {"a": [1, 2.5,
                                                None, True]}, "é": "ü"}))
    station = line.stations(session=session)[2]
    item = m.PreventionItem(title="Contract test for amounts " + odd, kind="detect",
                            station_id=station.id, due_date=date(2026, 12, 31),
                            tracker_url="https://tracker.example/LC-1", status="done",
                            completed_at=stamp,
                            escaped_at=stamp + timedelta(days=1),
                            escaped_by_incident_id=second.id, owner_team=auth.team_named(
                                session=session, name="payments"))
    session.add(item)
    session.flush()
    session.add(m.PreventionLink(incident_id=first.id, prevention_item_id=item.id))
    guard = m.Guard(prevention_item_id=item.id, provider="github", repository="acme/payments",
                    name="contract " + odd[:40], test_id="Amounts.test_cents", branch=None,
                    url="https://ci.example/job/1", announced_health="failing", announcements=1)
    manual = m.PreventionItem(title="NOT NULL on amounts", kind="eliminate", status="done",
                              completed_at=stamp)
    session.add_all([guard, manual])
    session.flush()
    run = m.GuardRun(source="github", kind="check_run", run_key="check_run:1:" + odd[:20],
                     repository="acme/payments", name=guard.name, branch="main",
                     on_default_branch=True, result="passed", completed_at=stamp,
                     external_id="1", has_tests=True)
    session.add(run)
    session.add(m.Guard(prevention_item_id=manual.id, provider="manual", name="orders.amount"))
    session.flush()
    session.add(m.GuardRunTest(run_id=run.id, test_id="Amounts.test_cents", result="passed"))
    session.add(m.GuardConfirmation(guard_id=guard.id, confirmed_at=stamp, in_place=False,
                                    note=odd, user_id=admin.id, actor_label="admin"))
    session.add(m.GuardSettings(team_id=item.owner_team_id, stale_after_days=7,
                                confirm_every_days=45))
    session.add(m.RecurrenceLink(incident_id=second.id, earlier_incident_id=first.id,
                                 reasons="same service\nsame class", confirmed_by_id=admin.id))
    session.add(m.DismissedCandidate(incident_id=second.id, candidate_id=first.id,
                                     dismissed_by_id=admin.id))
    review = m.Review(incident_id=first.id, state="published", markdown="# Summary\n" + odd,
                      defect_class="contract", revision=2, published_at=stamp,
                      published_by_id=admin.id, updated_by_id=admin.id)
    session.add(review)
    session.flush()
    session.add(m.ReviewRevision(review_id=review.id, revision=1, markdown="draft",
                                 defect_class=None, state="draft", author_id=admin.id))
    session.add(m.StationFinding(review_id=review.id, station_id=station.id, reason="no_check",
                                 note=odd, cheapest=True))
    session.add(m.StationFinding(review_id=review.id, station_id=station.id + 1,
                                 reason="flaky", note="", cheapest=False))
    session.add(m.KeptBlameFlag(review_id=review.id, rule="human_error", phrase="human error",
                                reason="quoting the customer", kept_by_id=admin.id))
    session.flush()


def dump(url: str) -> dict[str, list[dict]]:
    """Every row of every table, as Python values, in primary-key order."""
    engine = create_engine(url)
    with Session(engine) as session:
        tables = {
            table.name: [dict(row) for row in session.execute(
                select(table).order_by(*table.primary_key.columns)).mappings()]
            for table in Base.metadata.sorted_tables
        }
    engine.dispose()
    return tables


def make_app(url: str):
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})


def run_cli(url: str, *args: str):
    app = make_app(url)
    try:
        return app.test_cli_runner().invoke(args=list(args))
    finally:
        app.extensions["linecheck.engine"].dispose()


def empty_sqlite(path) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


def filled_sqlite(path) -> str:
    url = empty_sqlite(path)
    engine = create_engine(url)
    with Session(engine) as session:
        fill_every_table(session)
        session.commit()
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> str:
    """An export of the filled SQLite database, made once for this module."""
    folder = tmp_path_factory.mktemp("export")
    out = folder / "export.jsonl"
    result = run_cli(filled_sqlite(folder / "source.db"), "export", str(out))
    assert result.exit_code == 0, result.output
    return str(out)


def assert_only_the_default_line(url: str) -> None:
    rows = dump(url)
    assert len(rows.pop("stations")) == len(line.DEFAULT_LINE)
    assert all(not table_rows for table_rows in rows.values())


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")
def test_round_trip_sqlite_postgresql_sqlite_keeps_every_row(tmp_path, postgres_url):
    source = filled_sqlite(tmp_path / "source.db")
    original = dump(source)
    assert all(original.values()), [name for name, rows in original.items() if not rows]

    first = tmp_path / "from-sqlite.jsonl"
    result = run_cli(source, "export", str(first))
    assert result.exit_code == 0, result.output

    _truncate_all(postgres_url)
    result = run_cli(postgres_url, "import", str(first))
    assert result.exit_code == 0, result.output
    assert dump(postgres_url) == original

    second = tmp_path / "from-postgresql.jsonl"
    assert run_cli(postgres_url, "export", str(second)).exit_code == 0
    assert second.read_bytes() == first.read_bytes()

    target = empty_sqlite(tmp_path / "target.db")
    result = run_cli(target, "import", str(second))
    assert result.exit_code == 0, result.output
    assert dump(target) == original


def test_export_preserves_types_as_json(tmp_path):
    source = filled_sqlite(tmp_path / "source.db")
    out = tmp_path / "export.jsonl"
    assert run_cli(source, "export", str(out)).exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    header, trailer, rows = lines[0], lines[-1], lines[1:-1]
    assert header["format"] == "linecheck-export"
    assert trailer["end"] is True and sum(trailer["counts"].values()) == len(rows)
    settings = next(r["row"] for r in rows if r["table"] == "sender_settings")
    assert settings["enabled"] is False
    assert settings["service_teams"]["nested"] == {"a": [1, 2.5, None, True]}
    item = next(r["row"] for r in rows if r["table"] == "prevention_items"
                and r["row"]["title"].startswith("Contract test for amounts"))
    assert item["due_date"] == "2026-12-31"
    assert item["completed_at"] == "2026-03-01T12:30:45.123456+00:00"
    incident = next(r["row"] for r in rows if r["table"] == "incidents")
    assert incident["started_at"].endswith("+00:00")


def test_import_refuses_a_database_that_is_not_empty(exported, database_url, session):
    incidents.declare(session=session, title="already here", severity="SEV3")
    session.commit()
    result = run_cli(database_url, "import", exported)
    assert result.exit_code != 0
    assert "not empty" in result.output
    assert session.scalar(select(func.count()).select_from(m.Incident)) == 1


def test_import_replaces_the_untouched_default_line(exported, database_url, session):
    line.seed_default_line(session=session)  # what `alembic upgrade head` leaves behind
    session.commit()
    assert run_cli(database_url, "import", exported).exit_code == 0
    assert session.scalar(select(func.count()).select_from(m.Station)) == len(line.DEFAULT_LINE)
    assert session.scalar(select(func.count()).select_from(m.Incident)) == len(demo.INCIDENTS)


def test_import_refuses_a_renamed_line(exported, database_url, session):
    session.add(m.Station(name="Our own station", position=99))
    session.commit()
    result = run_cli(database_url, "import", exported)
    assert result.exit_code != 0 and "not empty" in result.output


def _broken_file(exported, tmp_path, change) -> str:
    with open(exported, encoding="utf-8") as file:
        lines = file.read().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(change(lines)) + "\n")
    return str(broken)


def _incident_row(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if '"table": "incidents"' in line)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda lines: lines[:-1], "cut off"),
        (lambda lines: lines[: len(lines) // 2], "cut off"),
        (lambda lines: lines[1:], "not a linecheck-export"),
        (lambda lines: ["{not json"] + lines[1:], "line 1 is not JSON"),
        (lambda lines: lines[:3] + ["[1, 2]"] + lines[3:], "not a JSON object"),
        (lambda lines: lines[:3] + ['{"table": "nope", "row": {}}'] + lines[3:],
         "unknown table 'nope'"),
        (lambda lines: lines[:-1] + ['{"end": true, "counts": {}}'], "row counts differ"),
        (lambda lines: [
            line.replace('"title":', '"colour": "red", "title":') if i == _incident_row(lines)
            else line for i, line in enumerate(lines)], "incidents has no column(s) colour"),
        (lambda lines: [
            line.replace('"started_at": "', '"started_at": "yesterday') if i == _incident_row(
                lines) else line for i, line in enumerate(lines)], "Invalid isoformat"),
        (lambda lines: [
            line.replace('"declared_by_id": ', '"declared_by_id": 9999') if i == _incident_row(
                lines) else line for i, line in enumerate(lines)], "nothing imported"),
    ],
    ids=["no-trailer", "half", "no-header", "bad-json", "not-object", "unknown-table",
         "wrong-counts", "unknown-column", "bad-timestamp", "dangling-foreign-key"],
)
def test_import_refuses_a_damaged_file_and_writes_nothing(exported, tmp_path, database_url,
                                                           session, change, message):
    path = _broken_file(exported, tmp_path, change)
    result = run_cli(database_url, "import", path)
    assert result.exit_code != 0
    assert message in result.output
    assert_only_the_default_line(database_url)


def test_import_refuses_a_file_from_another_schema_revision(exported, tmp_path, database_url,
                                                             session):
    path = _broken_file(exported, tmp_path, lambda lines: [
        lines[0].replace('"revision": null', '"revision": "0001"')] + lines[1:])
    session.connection().exec_driver_sql(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    session.connection().exec_driver_sql("INSERT INTO alembic_version VALUES ('9999')")
    session.commit()
    try:
        result = run_cli(database_url, "import", path)
        assert result.exit_code != 0 and "revision 0001" in result.output
    finally:
        session.connection().exec_driver_sql("DROP TABLE alembic_version")
        session.commit()


def test_new_rows_after_import_get_fresh_ids(exported, database_url, session):
    assert run_cli(database_url, "import", exported).exit_code == 0
    highest = session.scalar(select(func.max(m.Incident.id)))
    incident = incidents.declare(session=session, title="after the move", severity="SEV2")
    auth.create_user(session=session, email="new@example.com", password="long-enough-pw")
    session.commit()
    assert incident.id == highest + 1


def test_export_to_stdout(tmp_path):
    result = run_cli(filled_sqlite(tmp_path / "source.db"), "export", "-")
    assert result.exit_code == 0
    assert json.loads(result.output.splitlines()[-1])["end"] is True
