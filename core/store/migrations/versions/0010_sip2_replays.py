"""SIP2 transactions already applied: a keyed hash and the first answer, for a replay window."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.model.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sip2_replays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('created_at', core.model.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sip2_replays'))
    )
    with op.batch_alter_table('sip2_replays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sip2_replays_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_sip2_replays_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sip2_replays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sip2_replays_created_at'))
        batch_op.drop_index(batch_op.f('ix_sip2_replays_key'))
    op.drop_table('sip2_replays')
