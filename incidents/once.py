"""INSERT … ON CONFLICT DO NOTHING in the dialect in use: exactly once, kept by a constraint."""

from __future__ import annotations

from functools import cache

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_once(session: Session, entity, *unique: str, returning) -> Insert:
    """An INSERT of `entity` that skips a row whose `unique` columns match one already there.

    Nothing is raised and no savepoint is needed: a refused row simply returns no row, and
    a concurrent insert of the same key waits for the other transaction, then skips.
    """
    return _statement(session.get_bind().dialect.name, entity, unique, returning)


@cache
def _statement(dialect: str, entity, unique: tuple[str, ...], returning) -> Insert:
    # Built once per shape: compiled-statement caching then skips the cache-key walk too.
    return _INSERTS[dialect](entity).on_conflict_do_nothing(index_elements=list(unique)) \
        .returning(returning)
