"""Initial schema: catalogue, patrons, circulation, fees, statistics, audit, accounts."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.model.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_subject'), ['subject'], unique=False)

    op.create_table('circulation_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('branch', sa.String(length=32), nullable=False),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('patron_category', sa.String(length=32), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circulation_counts')),
    sa.UniqueConstraint('day', 'branch', 'media_type', 'patron_category', 'event', name=op.f('uq_circulation_counts_day'))
    )
    op.create_table('instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.model.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance'))
    )
    op.create_table('patrons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=64), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('home_branch', sa.String(length=32), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('pin_hash', sa.String(length=200), nullable=True),
    sa.Column('pin_failed_attempts', sa.Integer(), nullable=False),
    sa.Column('pin_locked_until', core.model.base.UTCDateTime(), nullable=True),
    sa.Column('is_minor', sa.Boolean(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=True),
    sa.Column('card_lost', sa.Boolean(), nullable=False),
    sa.Column('staff_block', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('note_expires_on', sa.Date(), nullable=True),
    sa.Column('policy_version', sa.String(length=32), nullable=True),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('last_activity_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['guardian_id'], ['patrons.id'], name=op.f('fk_patrons_guardian_id_patrons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrons')),
    sa.UniqueConstraint('barcode', name=op.f('uq_patrons_barcode'))
    )
    op.create_table('records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('author', sa.String(length=300), nullable=False),
    sa.Column('isbn', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records'))
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_records_isbn'), ['isbn'], unique=False)

    op.create_table('sip_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.model.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sip_accounts')),
    sa.UniqueConstraint('login', name=op.f('uq_sip_accounts_login'))
    )
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('training_version', sa.String(length=32), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.model.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_users_username'))
    )
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False),
    sa.Column('granted_at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('policy_version', sa.String(length=32), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_consents_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('patron_id', 'kind', name=op.f('uq_consents_patron_id'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_patron_id'), ['patron_id'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('call_number', sa.String(length=100), nullable=False),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('home_branch', sa.String(length=32), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('properties', sa.String(length=255), nullable=False),
    sa.Column('rfid_tag', sa.String(length=64), nullable=True),
    sa.Column('status_changed_at', core.model.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_items_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('barcode', name=op.f('uq_items_barcode')),
    sa.UniqueConstraint('rfid_tag', name=op.f('uq_items_rfid_tag'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_record_id'), ['record_id'], unique=False)

    op.create_table('reading_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('author', sa.String(length=300), nullable=False),
    sa.Column('returned_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_reading_history_patron_id_patrons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_reading_history_record_id_records'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reading_history'))
    )
    with op.batch_alter_table('reading_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reading_history_patron_id'), ['patron_id'], unique=False)

    op.create_table('fees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('settled_at', core.model.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_fees_item_id_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_fees_patron_id_patrons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fees'))
    )
    with op.batch_alter_table('fees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fees_patron_id'), ['patron_id'], unique=False)

    op.create_table('holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('pickup_branch', sa.String(length=32), nullable=False),
    sa.Column('placed_at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', core.model.base.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('trapped_item_id', sa.Integer(), nullable=True),
    sa.Column('shelf_expires_at', core.model.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_holds_item_id_items')),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_holds_patron_id_patrons')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_holds_record_id_records')),
    sa.ForeignKeyConstraint(['trapped_item_id'], ['items.id'], name=op.f('fk_holds_trapped_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds')),
    sa.UniqueConstraint('trapped_item_id', name=op.f('uq_holds_trapped_item_id'))
    )
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holds_patron_id'), ['patron_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holds_record_id'), ['record_id'], unique=False)

    op.create_table('loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('branch', sa.String(length=32), nullable=False),
    sa.Column('checked_out_at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('due_at', core.model.base.UTCDateTime(), nullable=False),
    sa.Column('renewals', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_loans_item_id_items')),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_loans_patron_id_patrons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loans')),
    sa.UniqueConstraint('item_id', name=op.f('uq_loans_item_id'))
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loans_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_loans_patron_id'), ['patron_id'], unique=False)

    op.create_table('fee_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fee_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('transaction_id', sa.String(length=64), nullable=True),
    sa.Column('paid_at', core.model.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['fee_id'], ['fees.id'], name=op.f('fk_fee_payments_fee_id_fees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_payments'))
    )
    with op.batch_alter_table('fee_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_payments_fee_id'), ['fee_id'], unique=False)




def downgrade() -> None:
    op.drop_table('instance')

    with op.batch_alter_table('fee_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fee_payments_fee_id'))

    op.drop_table('fee_payments')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loans_patron_id'))
        batch_op.drop_index(batch_op.f('ix_loans_due_at'))

    op.drop_table('loans')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holds_record_id'))
        batch_op.drop_index(batch_op.f('ix_holds_patron_id'))

    op.drop_table('holds')
    with op.batch_alter_table('fees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fees_patron_id'))

    op.drop_table('fees')
    with op.batch_alter_table('reading_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reading_history_patron_id'))

    op.drop_table('reading_history')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_record_id'))

    op.drop_table('items')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_patron_id'))

    op.drop_table('consents')
    op.drop_table('staff_users')
    op.drop_table('sip_accounts')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_isbn'))

    op.drop_table('records')
    op.drop_table('patrons')
    op.drop_table('circulation_counts')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_subject'))

    op.drop_table('audit_events')

