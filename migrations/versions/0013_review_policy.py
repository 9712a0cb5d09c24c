"""review policy: required / optional / not required per severity, skipped reviews with a
reason, the reviewer asked, and sign-off by someone other than the authors

Revision ID: 0013
Revises: 0009
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('review_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sev1', sa.String(length=20), nullable=False),
    sa.Column('sev2', sa.String(length=20), nullable=False),
    sa.Column('sev3', sa.String(length=20), nullable=False),
    sa.Column('sev4', sa.String(length=20), nullable=False),
    sa.Column('require_approval', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_review_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_settings'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_revision', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('skip_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('skipped_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('skipped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_reviews_reviewer_id_users'), 'users', ['reviewer_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_reviews_approved_by_id_users'), 'users', ['approved_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_reviews_skipped_by_id_users'), 'users', ['skipped_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reviews_skipped_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_reviews_approved_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_reviews_reviewer_id_users'), type_='foreignkey')
        batch_op.drop_column('skipped_at')
        batch_op.drop_column('skipped_by_id')
        batch_op.drop_column('skip_reason')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_revision')
        batch_op.drop_column('approved_by_id')
        batch_op.drop_column('reviewer_id')
    op.drop_table('review_settings')
