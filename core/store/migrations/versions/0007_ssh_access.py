"""SSH access: staff public keys and single-use session tickets."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.model.base  # noqa: F401

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.String(length=4000), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=False),
    sa.Column('added_at', core.model.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_staff_keys_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_keys')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_staff_keys_fingerprint'))
    )
    with op.batch_alter_table('staff_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_keys_staff_id'), ['staff_id'], unique=False)
    op.create_table('session_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', core.model.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_session_tickets_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_tickets')),
    sa.UniqueConstraint('ticket_hash', name=op.f('uq_session_tickets_ticket_hash'))
    )


def downgrade() -> None:
    op.drop_table('session_tickets')
    op.drop_table('staff_keys')
