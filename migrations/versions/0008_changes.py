"""changes: merged and deployed changes, review approvals, attribution rules, and the changes
confirmed as incidents' triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('change_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repository', sa.String(length=200), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=200), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_approvals')),
    sa.UniqueConstraint('repository', 'number', 'reviewer', name=op.f('uq_change_approvals_repository_number_reviewer'))
    )
    op.create_table('change_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('pattern', sa.String(length=200), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_rules'))
    )
    with op.batch_alter_table('change_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_rules_position'), ['position'], unique=False)

    op.create_table('changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repository', sa.String(length=200), nullable=False),
    sa.Column('revision', sa.String(length=255), nullable=False),
    sa.Column('service', sa.String(length=200), nullable=True),
    sa.Column('environment', sa.String(length=100), nullable=True),
    sa.Column('version', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=200), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approvals', sa.Integer(), nullable=True),
    sa.Column('checks_passed', sa.Boolean(), nullable=True),
    sa.Column('failing_checks', sa.JSON(), nullable=False),
    sa.Column('canary', sa.Boolean(), nullable=True),
    sa.Column('squashed', sa.Boolean(), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('trailers', sa.JSON(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('declared_origin', sa.String(length=20), nullable=True),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('origin_reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_changes')),
    sa.UniqueConstraint('repository', 'revision', name=op.f('uq_changes_repository_revision'))
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index('ix_changes_deployed_at', ['deployed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_changes_origin'), ['origin'], unique=False)
        batch_op.create_index('ix_changes_repository_number', ['repository', 'number'], unique=False)
        batch_op.create_index('ix_changes_service_deployed_at', ['service', 'deployed_at'], unique=False)

    op.create_table('incident_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by_label', sa.String(length=200), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['changes.id'], name=op.f('fk_incident_changes_change_id_changes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_incident_changes_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_changes_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_changes')),
    sa.UniqueConstraint('incident_id', 'change_id', name=op.f('uq_incident_changes_incident_id_change_id'))
    )
    with op.batch_alter_table('incident_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_changes_change_id'), ['change_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incident_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_changes_change_id'))

    op.drop_table('incident_changes')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index('ix_changes_service_deployed_at')
        batch_op.drop_index('ix_changes_repository_number')
        batch_op.drop_index(batch_op.f('ix_changes_origin'))
        batch_op.drop_index('ix_changes_deployed_at')

    op.drop_table('changes')
    with op.batch_alter_table('change_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_rules_position'))

    op.drop_table('change_rules')
    op.drop_table('change_approvals')
