"""trackers: a tracker per team, an issue link per prevention item

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trackers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('vendor', sa.String(length=20), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=False),
    sa.Column('site_url', sa.String(length=500), nullable=True),
    sa.Column('issue_type', sa.String(length=100), nullable=True),
    sa.Column('credential', sa.Text(), nullable=True),
    sa.Column('credential_hint', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_trackers_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trackers')),
    sa.UniqueConstraint('team_id', name=op.f('uq_trackers_team_id'))
    )
    op.create_table('tracker_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prevention_item_id', sa.Integer(), nullable=False),
    sa.Column('tracker_id', sa.Integer(), nullable=True),
    sa.Column('vendor', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('site_url', sa.String(length=500), nullable=True),
    sa.Column('creation_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_name', sa.String(length=100), nullable=True),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('vendor_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('drift', sa.Text(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['prevention_item_id'], ['prevention_items.id'], name=op.f('fk_tracker_links_prevention_item_id_prevention_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tracker_id'], ['trackers.id'], name=op.f('fk_tracker_links_tracker_id_trackers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_links')),
    sa.UniqueConstraint('prevention_item_id', name=op.f('uq_tracker_links_prevention_item_id')),
    sa.UniqueConstraint('vendor', 'reference', name=op.f('uq_tracker_links_vendor_reference'))
    )
    with op.batch_alter_table('tracker_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_links_tracker_id'), ['tracker_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tracker_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_links_tracker_id'))

    op.drop_table('tracker_links')
    op.drop_table('trackers')
