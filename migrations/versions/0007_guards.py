"""guards: structured guards, CI runs, manual confirmations, each team's N

Every item's `guard_url` becomes a manual guard with that link (plain SQL: nothing watched
those links before, so a person confirms them, or names the check, from now on); the column
goes. Downgrading writes each guard's link back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('guards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prevention_item_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('repository', sa.String(length=300), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('test_id', sa.String(length=500), nullable=True),
    sa.Column('branch', sa.String(length=255), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('announced_health', sa.String(length=20), nullable=True),
    sa.Column('announcements', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['prevention_item_id'], ['prevention_items.id'], name=op.f('fk_guards_prevention_item_id_prevention_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guards')),
    sa.UniqueConstraint('prevention_item_id', name=op.f('uq_guards_prevention_item_id'))
    )
    op.create_table('guard_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('run_key', sa.String(length=255), nullable=False),
    sa.Column('repository', sa.String(length=300), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=True),
    sa.Column('branch', sa.String(length=255), nullable=True),
    sa.Column('on_default_branch', sa.Boolean(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('has_tests', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guard_runs')),
    sa.UniqueConstraint('source', 'repository', 'run_key', name=op.f('uq_guard_runs_source_repository_run_key'))
    )
    with op.batch_alter_table('guard_runs', schema=None) as batch_op:
        batch_op.create_index('ix_guard_runs_match', ['repository', 'name', 'completed_at'], unique=False)
        batch_op.create_index('ix_guard_runs_path', ['repository', 'path'], unique=False)

    op.create_table('guard_run_tests',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('test_id', sa.String(length=500), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['guard_runs.id'], name=op.f('fk_guard_run_tests_run_id_guard_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'test_id', name=op.f('pk_guard_run_tests'))
    )
    op.create_table('guard_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guard_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('in_place', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['guard_id'], ['guards.id'], name=op.f('fk_guard_confirmations_guard_id_guards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_guard_confirmations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guard_confirmations'))
    )
    with op.batch_alter_table('guard_confirmations', schema=None) as batch_op:
        batch_op.create_index('ix_guard_confirmations_guard', ['guard_id', 'confirmed_at'], unique=False)

    op.create_table('guard_settings',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('stale_after_days', sa.Integer(), nullable=False),
    sa.Column('confirm_every_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_guard_settings_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_guard_settings'))
    )
    # Each guard link becomes a manual guard, dated when its item was done (else created).
    op.execute(
        "INSERT INTO guards (prevention_item_id, provider, url, created_at, announcements) "
        "SELECT id, 'manual', guard_url, COALESCE(completed_at, created_at), 0 "
        "FROM prevention_items WHERE guard_url IS NOT NULL AND guard_url <> ''")
    with op.batch_alter_table('prevention_items', schema=None) as batch_op:
        batch_op.drop_column('guard_url')


def downgrade() -> None:
    with op.batch_alter_table('prevention_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guard_url', sa.String(length=2000), nullable=True))
    op.execute(
        "UPDATE prevention_items SET guard_url = (SELECT url FROM guards "
        "WHERE guards.prevention_item_id = prevention_items.id)")
    op.drop_table('guard_settings')
    with op.batch_alter_table('guard_confirmations', schema=None) as batch_op:
        batch_op.drop_index('ix_guard_confirmations_guard')
    op.drop_table('guard_confirmations')
    op.drop_table('guard_run_tests')
    with op.batch_alter_table('guard_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_guard_runs_path')
        batch_op.drop_index('ix_guard_runs_match')
    op.drop_table('guard_runs')
    op.drop_table('guards')
