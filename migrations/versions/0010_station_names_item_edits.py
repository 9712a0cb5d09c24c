"""station names unique and kept by published reviews; prevention items edited

Prevention items get `assignee_id` (a user) and `revision` (0 for existing items), for edits
that name the revision they started from.

Stations get `name_key`, the name folded for comparison (whitespace collapsed, casefolded),
unique over every station, removed ones included. Names that already collide keep the first
station's name; each later one gets " (<id>)" appended, so nothing is lost and an admin can
rename them. Findings of published reviews get `published_station_name`, filled with the
station's name as it stands now (the best record there is of what was published).

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fold(name: str) -> str:
    # The same rule as incidents.line.models.fold, written out: a migration never imports the app.
    return " ".join(name.split()).casefold()


def upgrade() -> None:
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=240), nullable=True))
    stations = sa.table('stations', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('name_key', sa.String))
    conn = op.get_bind()
    seen: set[str] = set()
    for station_id, name in conn.execute(
            sa.select(stations.c.id, stations.c.name).order_by(stations.c.id)).all():
        if _fold(name) in seen:
            name = f"{name[:100]} ({station_id})"
        seen.add(_fold(name))
        conn.execute(stations.update().where(stations.c.id == station_id)
                     .values(name=name, name_key=_fold(name)))
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=240), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_stations_name_key'), ['name_key'])

    with op.batch_alter_table('station_findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_station_name', sa.String(length=120),
                                      nullable=True))
    op.execute(
        "UPDATE station_findings SET published_station_name = "
        "(SELECT name FROM stations WHERE stations.id = station_findings.station_id) "
        "WHERE review_id IN (SELECT id FROM reviews WHERE state = 'published')"
    )

    with op.batch_alter_table('prevention_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_index(batch_op.f('ix_prevention_items_assignee_id'), ['assignee_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_prevention_items_assignee_id_users'),
                                    'users', ['assignee_id'], ['id'])
    with op.batch_alter_table('prevention_items', schema=None) as batch_op:
        batch_op.alter_column('revision', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('prevention_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_prevention_items_assignee_id_users'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_prevention_items_assignee_id'))
        batch_op.drop_column('revision')
        batch_op.drop_column('assignee_id')
    with op.batch_alter_table('station_findings', schema=None) as batch_op:
        batch_op.drop_column('published_station_name')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_stations_name_key'), type_='unique')
        batch_op.drop_column('name_key')
