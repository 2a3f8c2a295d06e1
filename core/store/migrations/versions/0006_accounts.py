"""Account management and secret rules: tombstones, the rule each secret was set under, key ids."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.model.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_rule', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('removed_at', core.model.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table('sip_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_rule', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('removed_at', core.model.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table('patrons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_rule', sa.String(length=32), nullable=True))
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_column('key_id')
    with op.batch_alter_table('patrons', schema=None) as batch_op:
        batch_op.drop_column('pin_rule')
    with op.batch_alter_table('sip_accounts', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
        batch_op.drop_column('secret_rule')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
        batch_op.drop_column('secret_rule')
