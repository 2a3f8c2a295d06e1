"""Sealed columns on a shared PostgreSQL store: names, contacts, notes, barcodes as TEXT.

The appliance encrypts these values itself on PostgreSQL (core/model/sealed.py); a sealed value
is longer than the clear limit the model keeps, so the database holds TEXT. SQLite (SQLCipher
encrypts the whole file) keeps its columns unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# (table, column, clear length): the limit the model enforces before sealing.
SEALED = (
    ('patrons', 'barcode', 64),
    ('patrons', 'given_name', 100),
    ('patrons', 'family_name', 100),
    ('patrons', 'email', 254),
    ('patrons', 'phone', 32),
    ('patrons', 'note', 500),
    ('legal_request_patrons', 'barcode', 64),
    ('instance', 'secret', 64),
)


def upgrade() -> None:
    if op.get_context().dialect.name == 'sqlite':
        return
    for table, column, length in SEALED:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_context().dialect.name == 'sqlite':
        return
    for table, column, length in SEALED:
        op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
