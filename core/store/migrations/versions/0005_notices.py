"""Privacy engine tables: notices."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.model.base  # noqa: F401

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sent_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('sent_at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_sent_notices_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_notices'))
    )
    with op.batch_alter_table('sent_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_notices_patron_id'), ['patron_id'], unique=False)


def downgrade() -> None:
    op.drop_table('sent_notices')
