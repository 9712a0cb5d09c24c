"""`flask export` / `flask import`: every row survives SQLite → PostgreSQL → SQLite."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import stat
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

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
    session.add(m.LoginAttempt(key="someone@example.com", address="127.0.0.1", attempted_at=stamp))
    auth.create_token(session=session, name="export test", scopes=["api:read", "hooks"])
    event = timeline.add_event(session=session, incident=first, text=odd, external_key="ext-1",
                               fingerprint="fp-1", link="https://example.com/a?b=c&d=é")
    timeline.edit_event(session=session, event_id=event.id, text="edited " + odd, editor=admin)
    session.add(m.Delivery(sender="generic", delivery_key="d-1", incident_id=first.id))
    session.add(m.OutboxJob(kind="slack.notice", key="change:1", incident_id=first.id,
                            payload={"lines": [odd], "n": [1, 2.5, None, True]}, attempts=2,
                            state="dead", last_error=odd, leased_until=stamp))
    session.add(m.RejectedDelivery(sender="grafana", status=401, reason="invalid or revoked token"))
    session.add(m.PagingSignal(incident_id=first.id, sender="alertmanager"))
    session.add(m.SenderSettings(sender="alertmanager", enabled=False, default_severity="SEV2",
                                 stale_after_hours=12, resolve_stale=True,
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
                      published_by_id=admin.id, updated_by_id=admin.id,
                      reviewer_id=admin.id, approved_by_id=admin.id, approved_revision=2,
                      approved_at=stamp, skip_reason=odd, skipped_at=stamp)
    session.add(review)
    session.add(m.ReviewSettings(id=1, sev3="required", sev4="optional", require_approval=True,
                                 updated_at=stamp, updated_by_id=admin.id))
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


@pytest.fixture(autouse=True)
def _without_the_seeded_teams(request):
    """Imports go into a freshly migrated database: take away the teams every test app has."""
    if "session" in request.fixturenames:
        session = request.getfixturevalue("session")
        session.execute(delete(m.Team))
        session.execute(delete(m.AuditEntry).where(m.AuditEntry.entity_type == "team"))
        session.commit()


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
    header, trailer, signature, rows = lines[0], lines[-2], lines[-1], lines[1:-2]
    assert header["version"] == 2 and signature["signature"].startswith("hmac-sha256:")
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


SIGNING_KEY = b"test"  # the SECRET_KEY of make_app


def _body(exported) -> list[str]:
    """The export's lines without its signature line."""
    with open(exported, encoding="utf-8") as file:
        lines = file.read().splitlines()
    assert json.loads(lines[-1])["signature"].startswith("hmac-sha256:")
    return lines[:-1]


def signature_line(body: list[str], key: bytes = SIGNING_KEY) -> str:
    """The signature an export under `key` ends with: HMAC-SHA256 of every line before it."""
    digest = hmac.new(key, "".join(line + "\n" for line in body).encode(), hashlib.sha256)
    return json.dumps({"signature": "hmac-sha256:" + digest.hexdigest()})


def _broken_file(exported, tmp_path, change, *, resign: bool) -> str:
    """The export with its body changed, under its original signature or signed afresh."""
    body = _body(exported)
    changed = change(list(body))
    signature = signature_line(changed) if resign else signature_line(body)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([*changed, signature]) + "\n")
    return str(broken)


def _incident_row(lines: list[str], *, declared_by_someone: bool = False) -> int:
    return next(i for i, line in enumerate(lines) if '"table": "incidents"' in line
                and not (declared_by_someone and '"declared_by_id": null' in line))


ALTERED = "the signature does not match"

# (change to the body, refusal of the altered file, refusal once it is signed again: the
# checks behind the signature still hold for a file made by someone who has the key)
DAMAGE = [
    (lambda lines: lines[:-1], ALTERED, "no trailer line): it was cut off"),
    (lambda lines: lines[: len(lines) // 2], ALTERED, "cut off"),
    (lambda lines: lines[1:], "not a linecheck-export", "not a linecheck-export"),
    (lambda lines: ["{not json"] + lines[1:], "line 1 is not JSON", "line 1 is not JSON"),
    (lambda lines: lines[:3] + ["[1, 2]"] + lines[3:], ALTERED, "not a JSON object"),
    (lambda lines: lines[:3] + ['{"table": "nope", "row": {}}'] + lines[3:], ALTERED,
     "unknown table 'nope'"),
    (lambda lines: lines[:-1] + ['{"end": true, "counts": {}}'], ALTERED, "row counts differ"),
    (lambda lines: [
        line.replace('"title":', '"colour": "red", "title":') if i == _incident_row(lines)
        else line for i, line in enumerate(lines)], ALTERED, "incidents has no column(s) colour"),
    (lambda lines: [
        line.replace('"started_at": "', '"started_at": "yesterday') if i == _incident_row(
            lines) else line for i, line in enumerate(lines)], ALTERED, "Invalid isoformat"),
    (lambda lines: [
        line.replace('"declared_by_id": ', '"declared_by_id": 9999') if i == _incident_row(
            lines, declared_by_someone=True) else line for i, line in enumerate(lines)],
     ALTERED, "nothing imported: line"),
]
DAMAGE_IDS = ["no-trailer", "half", "no-header", "bad-json", "not-object", "unknown-table",
              "wrong-counts", "unknown-column", "bad-timestamp", "dangling-foreign-key"]


@pytest.mark.parametrize(("change", "altered", "signed"), DAMAGE, ids=DAMAGE_IDS)
def test_import_refuses_an_altered_file_and_writes_nothing(exported, tmp_path, database_url,
                                                           session, change, altered, signed):
    path = _broken_file(exported, tmp_path, change, resign=False)
    result = run_cli(database_url, "import", path)
    assert result.exit_code != 0
    assert altered in result.output
    assert_only_the_default_line(database_url)


@pytest.mark.parametrize(("change", "altered", "signed"), DAMAGE, ids=DAMAGE_IDS)
def test_import_refuses_a_damaged_file_even_when_signed(exported, tmp_path, database_url,
                                                        session, change, altered, signed):
    path = _broken_file(exported, tmp_path, change, resign=True)
    result = run_cli(database_url, "import", path)
    assert result.exit_code != 0
    assert signed in result.output
    assert_only_the_default_line(database_url)


def test_import_refuses_a_planted_admin_password_and_token(exported, tmp_path, database_url,
                                                          session):
    """The attack the signature stops: rows rewritten to let someone in after the move."""
    planted_hash = generate_password_hash("attacker-password")

    def plant(lines):
        planted = []
        for text in lines:
            record = json.loads(text)
            if record.get("table") == "users" and record["row"]["role"] == "admin":
                record["row"]["password_hash"] = planted_hash
            if record.get("table") == "api_tokens":
                record["row"]["token_hash"] = auth.hash_token("lc_planted")
                record["row"]["revoked_at"] = None
            planted.append(json.dumps(record, ensure_ascii=False))
        return planted

    result = run_cli(database_url, "import", _broken_file(exported, tmp_path, plant,
                                                          resign=False))
    assert result.exit_code != 0 and ALTERED in result.output
    assert_only_the_default_line(database_url)


def test_import_refuses_a_file_from_another_schema_revision(exported, tmp_path, database_url,
                                                             session):
    path = _broken_file(exported, tmp_path, lambda lines: [
        lines[0].replace('"revision": null', '"revision": "0001"')] + lines[1:], resign=True)
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


def test_import_refuses_an_unsigned_version_1_file(exported, tmp_path, database_url, session):
    body = _body(exported)
    old = tmp_path / "v1.jsonl"
    old.write_text("\n".join([body[0].replace('"version": 2', '"version": 1'), *body[1:]])
                   + "\n")
    result = run_cli(database_url, "import", str(old))
    assert result.exit_code != 0 and "version 1 file" in result.output
    assert_only_the_default_line(database_url)


def test_export_and_import_under_a_key_of_their_own(tmp_path, database_url, monkeypatch):
    """Moving between installations with different SECRET_KEYs: the same --key on both."""
    out = tmp_path / "keyed.jsonl"
    source = filled_sqlite(tmp_path / "source.db")
    assert run_cli(source, "export", str(out), "--key", "moving-day-key").exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[-1] == signature_line(lines[:-1], b"moving-day-key")

    refused = run_cli(database_url, "import", str(out))  # signed with another key
    assert refused.exit_code != 0 and ALTERED in refused.output
    monkeypatch.setenv("LINECHECK_EXPORT_KEY", "moving-day-key")
    result = run_cli(database_url, "import", str(out))
    assert result.exit_code == 0, result.output
    assert dump(database_url)["incidents"] == dump(source)["incidents"]


def test_export_file_is_readable_by_its_owner_only(tmp_path):
    source = filled_sqlite(tmp_path / "source.db")
    out = tmp_path / "export.jsonl"
    out.write_text("an older file, world-readable\n")
    out.chmod(0o644)
    assert run_cli(source, "export", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not (tmp_path / "export.jsonl.partial").exists()
    assert json.loads(out.read_text().splitlines()[-2])["end"] is True


def test_import_reads_standard_input(exported, database_url):
    app = make_app(database_url)
    try:
        with open(exported, encoding="utf-8") as file:
            result = app.test_cli_runner().invoke(args=["import", "-"], input=file.read())
    finally:
        app.extensions["linecheck.engine"].dispose()
    assert result.exit_code == 0, result.output
    assert "imported" in result.output


def _with_raw_sqlite(url: str, *statements: tuple[str, tuple]) -> None:
    """Write through the driver, past the models' types: rows as an older version left them."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for sql, params in statements:
            conn.exec_driver_sql(sql, params)
    engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")
def test_sqlite_text_holding_nul_moves_to_postgresql_and_back(tmp_path, postgres_url):
    source = filled_sqlite(tmp_path / "source.db")
    _with_raw_sqlite(
        source,
        ("UPDATE incidents SET title = ?, service = ? WHERE id = 1", ("Disk\x00 full", "db\x00")),
        ("UPDATE timeline_events SET text = ? WHERE id = 1", ("paged\x00 on-call",)),
        ("UPDATE users SET name = ? WHERE id = 1", ("Ana\x00",)))
    raw = sqlite3.connect(source.removeprefix("sqlite:///"))
    assert "\x00" in raw.execute("SELECT title FROM incidents WHERE id = 1").fetchone()[0]
    raw.close()
    original = dump(source)  # what the app reads: the same text on either database
    assert original["incidents"][0]["title"] == "Disk full"

    first = tmp_path / "from-sqlite.jsonl"
    assert run_cli(source, "export", str(first)).exit_code == 0
    assert "\\u0000" not in first.read_text()
    _truncate_all(postgres_url)
    result = run_cli(postgres_url, "import", str(first))
    assert result.exit_code == 0, result.output
    assert dump(postgres_url) == original

    second = tmp_path / "from-postgresql.jsonl"
    assert run_cli(postgres_url, "export", str(second)).exit_code == 0
    assert second.read_bytes() == first.read_bytes()
    target = empty_sqlite(tmp_path / "target.db")
    assert run_cli(target, "import", str(second)).exit_code == 0
    assert dump(target) == original


def test_text_with_nul_is_the_same_on_both_databases(session):
    """Through the app's types NUL never reaches the database, whichever one it is."""
    incident = incidents.declare(session=session, title="Checkout\x00 errors", severity="SEV2",
                                 service="pay\x00ments")
    timeline.add_event(session=session, incident=incident, text="note\x00 text")
    session.commit()
    session.expire_all()
    stored = session.get(m.Incident, incident.id)
    assert (stored.title, stored.service) == ("Checkout errors", "payments")
    assert [e.text for e in stored.events][-1] == "note text"
    assert session.scalar(select(func.count()).select_from(m.Incident)
                          .where(m.Incident.service == "pay\x00ments")) == 1


def test_every_text_column_drops_nul():
    from sqlalchemy import String

    from incidents.db import NulFree

    plain = [f"{t.name}.{c.name}" for t in Base.metadata.tables.values() for c in t.columns
             if isinstance(c.type, String) and not isinstance(c.type, NulFree)]
    assert not plain, plain


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")
def test_import_names_the_row_postgresql_cannot_take(tmp_path, postgres_url):
    """SQLite does not enforce VARCHAR lengths; PostgreSQL does. The refusal says which row."""
    source = filled_sqlite(tmp_path / "source.db")
    _with_raw_sqlite(source, ("UPDATE teams SET name = ? WHERE id = 2", ("t" * 150,)))
    out = tmp_path / "long.jsonl"
    assert run_cli(source, "export", str(out)).exit_code == 0
    line_no = next(i for i, line in enumerate(out.read_text().splitlines(), start=1)
                   if '"table": "teams"' in line and '"id": 2,' in line)
    _truncate_all(postgres_url)
    result = run_cli(postgres_url, "import", str(out))
    assert result.exit_code != 0
    assert f"line {line_no}, teams row id=2: value too long" in result.output
    assert not any(dump(postgres_url).values())


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
    lines = result.output.splitlines()
    assert json.loads(lines[-2])["end"] is True
    assert lines[-1] == signature_line(lines[:-1])
