"""team keys: a team's name normalised (case and spaces do not count) and unique, so one team
cannot be split by spelling; teams that were split already are merged into their oldest

Revision ID: 0009
Revises: 0010
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(name: str) -> str:
    # The rule of incidents.auth.models.team_key, frozen here as it was at this revision.
    return " ".join(name.replace("\x00", "").split()).casefold()


def _merge_split_teams(connection) -> dict[int, str]:
    """Point every row of a team spelt twice at its oldest spelling; return id -> key."""
    meta = sa.MetaData()
    teams = sa.Table('teams', meta, autoload_with=connection)
    keys: dict[int, str] = {}
    survivors: dict[str, tuple[int, str]] = {}
    losers: list[tuple[int, int, str, str]] = []  # (loser id, survivor id, loser, survivor)
    for team_id, name in connection.execute(
            sa.select(teams.c.id, teams.c.name).order_by(teams.c.id)).all():
        key = _key(name)
        if key in survivors:
            losers.append((team_id, survivors[key][0], name, survivors[key][1]))
        else:
            survivors[key] = (team_id, name)
            keys[team_id] = key
    if not losers:
        return keys
    pointers = [('incidents', 'team_id'), ('prevention_items', 'owner_team_id'),
                ('users', 'team_id'), ('sender_settings', 'default_team_id')]
    one_per_team = [('trackers', 'team_id'), ('guard_settings', 'team_id')]
    settings = sa.Table('sender_settings', meta, autoload_with=connection)
    for loser, survivor, loser_name, survivor_name in losers:
        for table_name, column in pointers:
            table = sa.Table(table_name, meta, autoload_with=connection)
            connection.execute(table.update().where(table.c[column] == loser)
                               .values({column: survivor}))
        for table_name, column in one_per_team:
            table = sa.Table(table_name, meta, autoload_with=connection)
            taken = connection.scalar(sa.select(sa.func.count()).select_from(table)
                                      .where(table.c[column] == survivor))
            if taken:
                connection.execute(table.delete().where(table.c[column] == loser))
            else:
                connection.execute(table.update().where(table.c[column] == loser)
                                   .values({column: survivor}))
        for sender, mapping in connection.execute(
                sa.select(settings.c.sender, settings.c.service_teams)).all():
            if mapping and loser_name in mapping.values():
                fixed = {service: survivor_name if team == loser_name else team
                         for service, team in mapping.items()}
                connection.execute(settings.update().where(settings.c.sender == sender)
                                   .values(service_teams=fixed))
        connection.execute(teams.delete().where(teams.c.id == loser))
    return keys


def upgrade() -> None:
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key', sa.String(length=100), nullable=True))
    connection = op.get_bind()
    teams = sa.table('teams', sa.column('id', sa.Integer), sa.column('key', sa.String))
    for team_id, key in _merge_split_teams(connection).items():
        connection.execute(teams.update().where(teams.c.id == team_id).values(key=key))
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=100), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_teams_key'), ['key'])


def downgrade() -> None:
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_teams_key'), type_='unique')
        batch_op.drop_column('key')
