"""The declarative base, the UTC timestamp type, engines, and sessions that write or only read.

Nothing here knows Flask: the worker, the CLI and the benchmarks open a `Database` of their own;
the web app keeps one per app (`incidents.appdb`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String, Table, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Ids are 32-bit integer columns on PostgreSQL; a larger one cannot name a row.
MAX_ID = 2**31 - 1
# The execution option that makes a SQLite transaction begin deferred (False) or immediate.
WRITES = "linecheck_writes"

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
            # A writing transaction takes the write lock up front (IMMEDIATE): a deferred one
            # that reads and then writes fails at once with "database is locked" when another
            # writer committed in between, where an immediate one waits its turn (busy timeout
            # above). A reading transaction stays deferred, so it never holds writers up.
            if connection.get_execution_options().get(WRITES, True):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class DatabaseSession(Session):
    """A session whose transactions either write (`write=True`) or only read.

    The mode is chosen per transaction: `get_bind` hands out the engine, or its read-only
    twin (same pool, an execution option that makes SQLite begin deferred). With
    `reads_after_write`, once the first writing transaction ends the session only reads: a page
    rendered after its request committed never takes the write lock again.
    """

    def __init__(self, *, writer: Engine, reader: Engine, write: bool,
                 reads_after_write: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.writer, self.reader = writer, reader
        self.write = write
        self.reads_after_write = reads_after_write

    def get_bind(self, mapper=None, clause=None, **kwargs):  # SQLAlchemy's routing recipe
        return self.writer if self.write else self.reader

    @property
    def wrote(self) -> bool:
        """Whether the open transaction has written anything (rolling it back would lose it)."""
        return bool(self.info.get("wrote"))


@event.listens_for(DatabaseSession, "after_flush")
def _flushed(session: DatabaseSession, _context) -> None:
    session.info["wrote"] = True


@event.listens_for(DatabaseSession, "do_orm_execute")
def _executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


@event.listens_for(DatabaseSession, "after_transaction_end")
def _transaction_ended(session: DatabaseSession, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("wrote", None)
        if session.reads_after_write:
            session.write = False


class Database:
    """One database: its engine, and sessions that write or only read."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._reader = self.engine.execution_options(**{WRITES: False})
        self._sessions = sessionmaker(class_=DatabaseSession, expire_on_commit=False)

    def session(self, *, write: bool = True, reads_after_write: bool = False) -> DatabaseSession:
        """A new session; the caller closes it (`with database.session() as session:`)."""
        return self._sessions(writer=self.engine, reader=self._reader, write=write,
                              reads_after_write=reads_after_write)

    def dispose(self) -> None:
        self.engine.dispose()
