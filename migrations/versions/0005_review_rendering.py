"""review rendering: HTML and blame flags stored at save time

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-27

Existing rows keep NULL: the app computes what is missing when it reads such a review, and
`flask --app app reviews refresh` stores it (a migration does not import the live renderer).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('blame_flags', sa.JSON(), nullable=True))
    with op.batch_alter_table('review_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('html', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('review_revisions', schema=None) as batch_op:
        batch_op.drop_column('html')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('blame_flags')
        batch_op.drop_column('html')
