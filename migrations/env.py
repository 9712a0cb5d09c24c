"""Alembic environment: the URL comes from the caller, then DATABASE_URL, then the default."""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from incidents import INSTANCE_PATH
from incidents.config import default_database_url
from incidents.incident.models import described_by_models
from incidents.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def include_object(_object, name, type_, _reflected, _compare_to) -> bool:
    # The search index each database keeps itself (FTS5 tables, a GIN expression index).
    return described_by_models(name, type_)


def database_url() -> str:
    return (
        config.attributes.get("database_url")
        or os.environ.get("DATABASE_URL")
        or default_database_url(INSTANCE_PATH)
    )


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    # Batch mode lets SQLite alter tables (it copies them), with the named constraints.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True,
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
