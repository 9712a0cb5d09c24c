"""Portable SQL pieces the report is built from: durations, months, grouped medians.

PostgreSQL has `percentile_cont`; SQLite does not, so there the median is taken with window
functions (ROW_NUMBER and COUNT per group) inside the same single query. Either way one
statement answers a whole grouped figure, however many rows it covers.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def seconds_between(start, end, dialect_name: str) -> ColumnElement[float]:
    """`end - start` in seconds (NULL when either is NULL)."""
    if dialect_name == "postgresql":
        return func.extract("epoch", end - start)
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
        part = source.c[group] if group else None
        ranks = []
        for name in medians:
            value = source.c[name]
            ranks.append(func.row_number().over(partition_by=part,
                                                order_by=(value.is_(None), value))
                         .label(f"{name}__rn"))
            ranks.append(func.count(value).over(partition_by=part).label(f"{name}__n"))
        source = select(source, *ranks).subquery()
        columns = []
        for name in medians:
            rn, n, value = source.c[f"{name}__rn"], source.c[f"{name}__n"], source.c[name]
            # The middle row (odd n) or the two middle rows (even n) of the non-NULL values.
            middle = and_(value.is_not(None), 2 * rn >= n, 2 * rn <= n + 2)
            columns.append(func.avg(case((middle, value))).label(name))
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
