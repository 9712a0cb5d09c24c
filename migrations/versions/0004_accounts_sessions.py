"""accounts and sessions: a random session version per user; sign-in failures by address

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.String(length=32), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_version', sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        # Each user a random version of their own. Sessions signed in before this revision
        # carry none, so they end: everyone signs in once more.
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_version=secrets.token_hex(16)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_version', existing_type=sa.String(length=32),
                              nullable=False)

    # Failures now count per account (`key`, the email) and per address on their own. Older
    # rows keyed "email|address" keep their key, name no address, and age out within a day.
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
    op.execute("UPDATE login_attempts SET address = ''")
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.alter_column('address', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_address'), ['address'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_address'))
        batch_op.drop_column('address')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
