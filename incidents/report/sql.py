"""Portable SQL pieces the report is built from: durations, months, grouped medians.

PostgreSQL has `percentile_cont`; SQLite does not, so there `median()` is a small aggregate
function registered on the connection. Either way one statement answers a whole grouped
figure, however many rows it covers.
"""

from __future__ import annotations

import statistics

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def seconds_between(start, end, dialect_name: str) -> ColumnElement[float]:
    """`end - start` in seconds (NULL when either is NULL)."""
    if dialect_name == "postgresql":
        # date_part is double precision; EXTRACT answers numeric, slower to sort and sum.
        return func.date_part("epoch", end - start)
    return func.round((func.julianday(end) - func.julianday(start)) * 86400)


def month_of(column, dialect_name: str) -> ColumnElement[str]:
    """`YYYY-MM` of a UTC timestamp."""
    if dialect_name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def grouped(session: Session, rows: Select, *, group: str | None = None,
            medians: tuple[str, ...] = (), sums: tuple[str, ...] = ()) -> list[dict]:
    """Aggregate the labelled columns of `rows` per `group` (or overall): a `count` of rows,
    the median of each column in `medians` (NULLs ignored), the sum of each in `sums`."""
    source = rows.subquery()
    if dialect(session) == "postgresql":
        columns = [func.percentile_cont(0.5).within_group(source.c[name]).label(name)
                   for name in medians]
    else:
        _register_median(session)
        columns = [func.median(source.c[name]).label(name) for name in medians]
    columns += [func.coalesce(func.sum(source.c[name]), 0).label(name) for name in sums]
    query = select(*([source.c[group]] if group else []), func.count().label("count"), *columns)
    if group:
        query = query.group_by(source.c[group]).order_by(source.c[group])
    result = []
    for row in session.execute(query).mappings():
        item = dict(row)
        for name in medians:
            item[name] = None if item[name] is None else round(float(item[name]), 1)
        for name in sums:
            item[name] = int(item[name])
        result.append(item)
    return result


class _Median:
    """SQLite aggregate `median(x)`: PostgreSQL's percentile_cont(0.5), NULLs ignored."""

    def __init__(self):
        self.values: list[float] = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def _register_median(session: Session) -> None:
    # One pass that keeps each group's values beats window functions, which sort every row
    # once per median. Registering is per connection and cheap, so it is done on each use.
    session.connection().connection.driver_connection.create_aggregate("median", 1, _Median)
