"""The declarative base, the UTC timestamp type, and the per-app engine and session."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, String, Table, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class NulFree(TypeDecorator):
    """A text column that never holds a NUL character, on any database.

    PostgreSQL refuses NUL in text and SQLite stores it, so the same input used to land on one
    and fail on the other, and a SQLite database holding NUL could not move to PostgreSQL. NUL
    carries no meaning in anything Linecheck keeps: it is dropped here, on the way in on every
    database and on the way out of SQLite (rows written before this rule), so both hold and
    show the same text and an export is the same from either.
    """

    impl = String
    cache_ok = True

    def __init__(self, wrapped: String):
        super().__init__()
        self.impl = wrapped
        self.wrapped = wrapped  # part of the cache key: String(20) and Text differ

    def process_bind_param(self, value, dialect):
        return value.replace("\x00", "") if isinstance(value, str) else value

    def result_processor(self, dialect, coltype):
        if dialect.name == "postgresql":
            return None  # PostgreSQL text never contains NUL: nothing to do per row
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value, dialect):
        return value.replace("\x00", "") if isinstance(value, str) else value


def nul_free(table: Table) -> None:
    """Make every text column of `table` NulFree (the one place NUL is handled)."""
    for column in table.columns:
        if type(column.type) in (String, Text):  # not Enum, JSON or NulFree already
            column.type = NulFree(column.type)


class Base(DeclarativeBase):
    """Every model. Its text columns are NulFree, whichever module declares them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("__table__")
        if isinstance(table, Table):
            nul_free(table)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Return an aware UTC datetime; naive values are taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always read back aware.

    SQLite has no time zones and hands back naive values; this is the one place that
    normalises them, so no other code has to care which database it runs on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        value = as_utc(value)
        if value is not None and dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return as_utc(value)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            # Take transaction control from pysqlite (SQLAlchemy's documented recipe), so
            # SAVEPOINTs work; foreign keys are off by default; WAL lets readers run beside a
            # writer.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
            # then writes can fail at once with "database is locked" under concurrent writers,
            # where an immediate one simply waits its turn (busy timeout above).
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["linecheck.engine"] = engine
    app.extensions["linecheck.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["linecheck.engine"]


def new_session() -> Session:
    """A session outside the request (CLI, background work); the caller closes it."""
    return current_app.extensions["linecheck.sessionmaker"]()


def get_session() -> Session:
    """The session of the current request or app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
