"""Migrations: they match the models, undo cleanly, and keep every row on the way up."""

from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, Table, create_engine, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from incidents import ROOT
from incidents.db import Base
from incidents.incident.models import described_by_models
from tests.conftest import BACKENDS, _postgres_base_url
from tests.test_dataport import dump, filled_sqlite


def fresh_postgres(worker_id: str, purpose: str) -> str:
    """A new, empty PostgreSQL database of this worker's own, for one purpose."""
    base = make_url(_postgres_base_url())
    name = f"{base.database}_{worker_id}_{purpose}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def blank_url(request, tmp_path, worker_id) -> str:
    """A database with no tables at all, for Alembic to build."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    return fresh_postgres(worker_id, "migrations")


def alembic_config(url: str) -> Config:
    config = Config(os.path.join(ROOT, "alembic.ini"))
    # alembic.ini predates Alembic 1.16's path_separator; say it here so no warning fires.
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False  # leave pytest's log capture alone
    return config


def first_revision(config: Config) -> str:
    return ScriptDirectory.from_config(config).get_base()


def tables_in(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {name for name in inspect(engine).get_table_names()
                if described_by_models(name, "table")} - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_head_then_downgrade_base_leaves_nothing(blank_url):
    config = alembic_config(blank_url)
    command.upgrade(config, "head")
    assert tables_in(blank_url) == set(Base.metadata.tables)
    command.downgrade(config, "base")
    assert tables_in(blank_url) == set()
    command.upgrade(config, "head")  # and it can be built again
    assert tables_in(blank_url) == set(Base.metadata.tables)


def test_migrations_match_the_models(blank_url):
    command.upgrade(alembic_config(blank_url), "head")
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda _o, name, type_, *_: described_by_models(name, type_)})
        drift = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert drift == [], "models and migrations differ; generate a migration:\n" + "\n".join(
        map(str, drift))


def _copy_into(rows: dict[str, list[dict]], url: str) -> dict[str, set[str]]:
    """Insert the rows into a database at an older revision, in the columns it has then.

    Returns the columns each table had, so the comparison after the upgrade can look at them.
    """
    engine = create_engine(url)
    existing = MetaData()
    existing.reflect(engine)
    kept: dict[str, set[str]] = {}
    with engine.begin() as conn:
        conn.execute(existing.tables["stations"].delete())  # the seeded line; the rows have one
        for model in Base.metadata.sorted_tables:
            if model.name not in existing.tables:
                continue
            names = {c.name for c in existing.tables[model.name].columns} & set(model.c.keys())
            # The models' types (UTCDateTime…) bind the values the way the app would.
            table = Table(model.name, MetaData(), *[Column(n, model.columns[n].type)
                                                     for n in names])
            if rows[model.name]:
                conn.execute(insert(table), [{n: row[n] for n in names}
                                             for row in rows[model.name]])
            kept[model.name] = names
    engine.dispose()
    return kept


def test_upgrade_from_the_first_migration_keeps_every_row(blank_url, tmp_path):
    original = dump(filled_sqlite(tmp_path / "source.db"))
    config = alembic_config(blank_url)
    command.upgrade(config, first_revision(config))
    kept = _copy_into(original, blank_url)

    command.upgrade(config, "head")

    engine = create_engine(blank_url)
    with Session(engine) as session:
        for name, columns in kept.items():
            table = Base.metadata.tables[name]
            query = select(*[table.c[c] for c in sorted(columns)])
            after = [dict(row) for row in session.execute(
                query.order_by(*table.primary_key.columns)).mappings()]
            before = [{c: row[c] for c in columns} for row in original[name]]
            assert after == before, f"rows of {name} changed in the upgrade"
    engine.dispose()
