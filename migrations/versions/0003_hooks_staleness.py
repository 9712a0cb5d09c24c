"""hooks: stale paging incidents, rejected deliveries

Revision ID: 0003
Revises: 0005
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Senders that repeat a firing group (every repeat_interval): their incidents go stale after a
# day without one. The others send each change once and are never stale unless an admin says.
REPEATING_SENDERS = ('alertmanager', 'grafana')


def upgrade() -> None:
    op.create_table('rejected_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejected_deliveries'))
    )
    with op.batch_alter_table('rejected_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_rejected_deliveries_sender_id', ['sender', 'id'], unique=False)

    op.create_table('paging_signals',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('last_firing_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_paging_signals_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_paging_signals'))
    )
    with op.batch_alter_table('sender_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stale_after_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resolve_stale', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('sender_settings', schema=None) as batch_op:
        batch_op.alter_column('resolve_stale', server_default=None)
    settings = sa.table('sender_settings', sa.column('sender', sa.String),
                        sa.column('stale_after_hours', sa.Integer))
    op.execute(settings.update().where(settings.c.sender.in_(REPEATING_SENDERS))
               .values(stale_after_hours=24))


def downgrade() -> None:
    with op.batch_alter_table('sender_settings', schema=None) as batch_op:
        batch_op.drop_column('resolve_stale')
        batch_op.drop_column('stale_after_hours')

    op.drop_table('paging_signals')
    with op.batch_alter_table('rejected_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_rejected_deliveries_sender_id')

    op.drop_table('rejected_deliveries')
