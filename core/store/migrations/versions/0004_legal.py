"""Privacy engine tables: legal requests and disclosures."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.model.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('legal_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('instrument', sa.String(length=16), nullable=False),
    sa.Column('court', sa.String(length=200), nullable=False),
    sa.Column('case_number', sa.String(length=100), nullable=False),
    sa.Column('scope_classes', sa.String(length=200), nullable=False),
    sa.Column('received_at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decision_reason', sa.String(length=1000), nullable=True),
    sa.Column('reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('reviewed_at', core.model.base.UTCDateTime(), nullable=True),
    sa.Column('second_reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('second_reviewed_at', core.model.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', core.model.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_requests'))
    )
    op.create_table('legal_request_patrons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['legal_requests.id'], name=op.f('fk_legal_request_patrons_request_id_legal_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_request_patrons'))
    )
    with op.batch_alter_table('legal_request_patrons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_request_patrons_request_id'), ['request_id'], unique=False)

    op.create_table('legal_disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('disclosed_by', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('classes', sa.String(length=200), nullable=False),
    sa.Column('patrons', sa.Text(), nullable=False),
    sa.Column('patrons_not_held', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['legal_requests.id'], name=op.f('fk_legal_disclosures_request_id_legal_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_disclosures'))
    )
    with op.batch_alter_table('legal_disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_disclosures_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('legal_disclosures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_disclosures_request_id'))

    op.drop_table('legal_disclosures')
    with op.batch_alter_table('legal_request_patrons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_request_patrons_request_id'))

    op.drop_table('legal_request_patrons')
    op.drop_table('legal_requests')
