"""Privacy engine tables: purge ledger and purge runs."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.model.base  # noqa: F401

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('at', core.model.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )
    op.create_table('purge_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('purged_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge_ledger'))
    )
    op.create_table('purge_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('reading_history', sa.Integer(), nullable=False),
    sa.Column('settled_fees', sa.Integer(), nullable=False),
    sa.Column('sent_notices', sa.Integer(), nullable=False),
    sa.Column('staff_notes', sa.Integer(), nullable=False),
    sa.Column('patrons', sa.Integer(), nullable=False),
    sa.Column('audit_events', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge_runs'))
    )
    with op.batch_alter_table('purge_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purge_runs_at'), ['at'], unique=False)

    # Deleting a patron nulls its wards' guardian_id; the index keeps that from scanning patrons.
    with op.batch_alter_table('patrons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrons_guardian_id'), ['guardian_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('patrons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrons_guardian_id'))
    op.drop_table('purge_runs')
    op.drop_table('purge_ledger')
    op.drop_table('audit_checkpoints')
