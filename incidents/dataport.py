"""Export every row to JSON lines and import them into an empty database.

This is how a team that outgrows SQLite moves to PostgreSQL (and back): `flask export FILE`
on the old database, `alembic upgrade head` and `flask import FILE` on the new one.

The file is a header line, one line per row (tables in foreign-key order, rows in primary-key
order, so two exports of the same data are byte-identical), a trailer with the row counts, and
a signature line: HMAC-SHA256 of every line before it, under SECRET_KEY or a key given to both
commands. Import checks the signature before it reads a row, so a truncated or altered file
(a planted password hash or token) is refused instead of imported. The file holds every
credential hash, so it is written readable by its owner only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Column, Table, func, insert, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

import incidents.models  # noqa: F401  (registers every table on Base.metadata)
from incidents.appdb import new_session
from incidents.db import Base, as_utc
from incidents.errors import Conflict, InvalidInput
from incidents.line.models import Station
from incidents.line.service import DEFAULT_LINE

FORMAT = "linecheck-export"
VERSION = 2  # 2: signed
BATCH = 500
SIGNATURE_PREFIX = "hmac-sha256:"
KEY_HELP = ("Key the file is signed with (default: SECRET_KEY). Give the same key to export "
            "and import; LINECHECK_EXPORT_KEY in the environment keeps it out of the process "
            "list.")


def _python_type(column: Column) -> type | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance  # UTCDateTime reports `object`; its impl knows better
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _encode(column: Column, value):
    if value is None:
        return None
    kind = _python_type(column)
    if kind is datetime:
        return as_utc(value).isoformat()
    if kind is date:
        return value.isoformat()
    if kind is Decimal:
        return str(value)
    if kind is bytes:
        return base64.b64encode(value).decode()
    return value  # str, int, float, bool and JSON columns are JSON already


def _decode(column: Column, value):
    if value is None:
        return None
    kind = _python_type(column)
    if kind is datetime:
        return as_utc(datetime.fromisoformat(value))
    if kind is date:
        return date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    if kind is bytes:
        return base64.b64decode(value)
    return value


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _revision(session: Session) -> str | None:
    """The Alembic revision of the database, if it was migrated with Alembic."""
    if not inspect(session.connection()).has_table("alembic_version"):
        return None
    return session.scalar(text("SELECT version_num FROM alembic_version"))


def _signer(key: bytes):
    return hmac.new(key, digestmod=hashlib.sha256)


def export_lines(*, session: Session, key: bytes) -> Iterator[str]:
    """Every row of every table as JSON lines, in a stable order, then the signature line."""
    signer = _signer(key)
    for line in _unsigned_lines(session):
        signer.update(line.encode() + b"\n")
        yield line
    yield json.dumps({"signature": SIGNATURE_PREFIX + signer.hexdigest()})


def _unsigned_lines(session: Session) -> Iterator[str]:
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot for the whole file, while the app keeps writing.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    tables = _tables()
    yield json.dumps({"format": FORMAT, "version": VERSION, "revision": _revision(session),
                      "tables": [t.name for t in tables]})
    counts: dict[str, int] = {}
    for table in tables:
        counts[table.name] = 0
        rows = session.execute(
            select(table).order_by(*table.primary_key.columns).execution_options(yield_per=BATCH)
        )
        for row in rows.mappings():
            encoded = {c.name: _encode(c, row[c.name]) for c in table.columns}
            yield json.dumps({"table": table.name, "row": encoded}, ensure_ascii=False)
            counts[table.name] += 1
    yield json.dumps({"end": True, "counts": counts})


def _is_empty(session: Session) -> bool:
    """True for a freshly migrated database: no rows, except the untouched default line."""
    for table in _tables():
        if table.name == Station.__tablename__:
            continue
        if session.execute(select(table).limit(1)).first() is not None:
            return False
    seeded = session.execute(
        select(Station.name, Station.removed_at).order_by(Station.position, Station.id)
    ).all()
    return not seeded or (
        [name for name, _ in seeded] == [name for name, _ in DEFAULT_LINE]
        and all(removed is None for _, removed in seeded)
    )


def _parse(line_no: int, line: str) -> dict:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        raise InvalidInput(f"line {line_no} is not JSON") from None
    if not isinstance(record, dict):
        raise InvalidInput(f"line {line_no} is not a JSON object")
    return record


def _meaningful(lines: Iterable[str]) -> Iterator[str]:
    return (line.rstrip("\r\n") for line in lines if line.strip())


def _check_header(first: str | None) -> dict:
    header = _parse(1, first) if first else {}
    if header.get("format") != FORMAT:
        raise InvalidInput(f"not a {FORMAT} version {VERSION} file")
    if header.get("version") != VERSION:
        raise InvalidInput(f"this is a {FORMAT} version {header.get('version')} file; this "
                           f"version reads only version {VERSION} (signed): export it again")
    return header


def check_signature(*, lines: Iterable[str], key: bytes) -> None:
    """Refuse a file that is not exactly what an export under `key` wrote."""
    meaningful = _meaningful(lines)
    first = next(meaningful, None)
    _check_header(first)
    signer = _signer(key)
    last = first
    for line in meaningful:
        signer.update(last.encode() + b"\n")
        last = line
    try:
        signature = json.loads(last).get("signature")
    except (ValueError, RecursionError, AttributeError):
        signature = None
    if not isinstance(signature, str):
        raise InvalidInput("the file ends early (no signature line): it was cut off")
    if not hmac.compare_digest(signature, SIGNATURE_PREFIX + signer.hexdigest()):
        raise InvalidInput("the signature does not match: the file was altered after export, "
                           "or signed with another key (give the exporting key with --key)")


def import_lines(*, session: Session, lines: Iterable[str]) -> dict[str, int]:
    """Insert an export into an empty database; return the rows inserted per table.

    Check the signature first (`check_signature`). The caller commits: on any error nothing is
    kept, and a row the database refuses is named by its line, table and key.
    """
    tables = {t.name: t for t in _tables()}
    numbered = enumerate(_meaningful(lines), start=1)
    _, first = next(numbered, (0, None))
    header = _check_header(first)
    ours = _revision(session)
    if header.get("revision") and ours and header["revision"] != ours:
        raise Conflict(f"the file was exported at schema revision {header['revision']}, this "
                       f"database is at {ours}; migrate both to the same revision first")
    if not _is_empty(session):
        raise Conflict("the database is not empty; import only into a freshly migrated one")
    session.execute(Station.__table__.delete())  # the seeded default line; the file has its own

    counts = dict.fromkeys(tables, 0)
    pending: list[tuple[int, dict]] = []
    pending_table: Table | None = None
    trailer = None

    def flush() -> None:
        if pending:
            _insert_batch(session, pending_table, pending)
            pending.clear()

    for line_no, line in numbered:
        record = _parse(line_no, line)
        if record.get("end"):
            trailer = record
            break
        if "signature" in record:
            break  # the signature came before any trailer
        table = tables.get(record.get("table"))
        row = record.get("row")
        if table is None or not isinstance(row, dict):
            raise InvalidInput(f"line {line_no}: unknown table {record.get('table')!r}")
        unknown = set(row) - set(table.columns.keys())
        if unknown:
            raise InvalidInput(f"line {line_no}: {table.name} has no column(s) "
                               f"{', '.join(sorted(unknown))}")
        if table is not pending_table or len(pending) >= BATCH:
            flush()
            pending_table = table
        try:
            pending.append((line_no, {name: _decode(table.columns[name], value)
                                      for name, value in row.items()}))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"line {line_no}: {exc}") from None
        counts[table.name] += 1
    flush()
    if trailer is None:
        raise InvalidInput("the file ends early (no trailer line): it was cut off")
    expected = {name: n for name, n in (trailer.get("counts") or {}).items() if n}
    if expected != {name: n for name, n in counts.items() if n}:
        raise InvalidInput("row counts differ from the trailer: the file was altered")
    _advance_sequences(session)
    return counts


def _insert_batch(session: Session, table: Table, rows: list[tuple[int, dict]]) -> None:
    """Insert rows in one statement; if the database refuses it, name the row it refused."""
    try:
        with session.begin_nested():
            session.execute(insert(table), [row for _, row in rows])
        return
    except SQLAlchemyError:
        pass
    for line_no, row in rows:
        try:
            with session.begin_nested():
                session.execute(insert(table), [row])
        except SQLAlchemyError as exc:
            key = ", ".join(f"{c.name}={row.get(c.name)}" for c in table.primary_key.columns)
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise InvalidInput(f"nothing imported: line {line_no}, {table.name} row {key}: "
                               f"{reason}") from None
    raise InvalidInput(f"nothing imported: the database refused the {table.name} rows")


def _advance_sequences(session: Session) -> None:
    """PostgreSQL: move each id sequence past the ids inserted explicitly."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or _python_type(pk[0]) is not int:
            continue
        column = pk[0]
        highest = session.scalar(select(func.max(column)))
        sequence = session.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        )
        if sequence is not None:
            session.execute(text("SELECT setval(:seq, :value, :called)"),
                            {"seq": sequence, "value": highest or 1,
                             "called": highest is not None})


def _key(given: str | None) -> bytes:
    return (given or current_app.config["SECRET_KEY"]).encode()


def _write_private(path: str, lines: Iterable[str]) -> None:
    """Write the file readable by its owner only (it holds every credential hash), whole or
    not at all: a partial file is renamed into place only once complete."""
    partial = f"{path}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file of that name kept its mode through O_CREAT
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            for line in lines:
                file.write(line + "\n")
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--key", envvar="LINECHECK_EXPORT_KEY", default=None, help=KEY_HELP)
@with_appcontext
def export_command(file: str, key: str | None):
    """Write every row of the database to FILE as signed JSON lines ("-" for stdout).

    The file holds password and token hashes: it is created readable by its owner only.
    """
    with new_session() as session:
        lines = export_lines(session=session, key=_key(key))
        if file == "-":
            for line in lines:
                click.echo(line)
        else:
            _write_private(file, lines)


def _seekable(file: IO[str]) -> IO[str]:
    """The file itself, or (standard input) a temporary copy: import reads it twice."""
    if file.seekable():
        return file
    copy = tempfile.TemporaryFile("w+", encoding="utf-8")
    shutil.copyfileobj(file, copy)
    copy.seek(0)
    return copy


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--key", envvar="LINECHECK_EXPORT_KEY", default=None, help=KEY_HELP)
@with_appcontext
def import_command(file: str, key: str | None):
    """Load a signed export FILE into this empty, migrated database, in one transaction."""
    opened = sys.stdin if file == "-" else open(file, encoding="utf-8")
    with _seekable(opened) as source, new_session() as session:
        try:
            check_signature(lines=source, key=_key(key))
            source.seek(0)
            counts = import_lines(session=session, lines=source)
        except (InvalidInput, Conflict) as exc:
            session.rollback()
            raise click.ClickException(exc.message) from None
        except SQLAlchemyError as exc:
            session.rollback()
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise click.ClickException(f"nothing imported: {reason}") from None
        session.commit()
    click.echo(f"imported {sum(counts.values())} rows into {sum(1 for n in counts.values() if n)}"
               " tables")
