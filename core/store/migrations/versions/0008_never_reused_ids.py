"""Ids never reused, the destruction ledger, and an audit chain keyed with an HMAC sub-key."""

from __future__ import annotations

import hashlib
import hmac
import json

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Tables whose ids pseudonyms, the audit log or the destruction ledger refer to.
NEVER_REUSED = (
    'patrons', 'consents', 'reading_history', 'loans', 'holds', 'sent_notices', 'legal_requests',
)
AUDIT_CHAIN_LABEL = b'reticent/audit-chain/v1'  # core/security/keys.py
GENESIS_HASH = '0' * 64


def _seed_sequences(bind: sa.Connection) -> None:
    """Start each sequence above every id the table may ever have given out.

    Without AUTOINCREMENT, SQLite gave out max(id) + 1, so an id above today's maximum was in
    use once only if rows above it were deleted since: purged patrons (one purge-ledger entry
    each) and deleted legal requests (named by number in the audit log).
    """
    highest = {
        'patrons': 'SELECT coalesce(max(id), 0) + (SELECT count(*) FROM purge_ledger) FROM patrons',
        'legal_requests': (
            "SELECT max(coalesce((SELECT max(id) FROM legal_requests), 0), coalesce((SELECT"
            " max(CAST(json_extract(detail, '$.request') AS INTEGER)) FROM audit_events"
            " WHERE action LIKE 'legal.%'), 0))"
        ),
    }
    for table in NEVER_REUSED:
        query = highest.get(table, f'SELECT coalesce(max(id), 0) FROM {table}')
        seq = int(bind.exec_driver_sql(query).scalar() or 0)
        bind.exec_driver_sql('DELETE FROM sqlite_sequence WHERE name = ?', (table,))
        bind.exec_driver_sql('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', (table, seq))


def _key_the_audit_chain(bind: sa.Connection) -> None:
    """Re-link an intact chain with HMACs; a chain already broken is left as it is, so the
    self-audit and `audit verify` keep reporting the edit (nothing here hides one)."""
    secret = bind.exec_driver_sql('SELECT secret FROM instance WHERE id = 1').scalar()
    if secret is None:
        return
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=AUDIT_CHAIN_LABEL).derive(
        bytes.fromhex(secret)
    )
    start = bind.exec_driver_sql(
        'SELECT last_hash FROM audit_checkpoints ORDER BY last_event_id DESC LIMIT 1'
    ).scalar()
    events = sa.table(
        'audit_events', sa.column('id'), sa.column('at', sa.DateTime()), sa.column('actor'),
        sa.column('action'), sa.column('subject'), sa.column('detail'), sa.column('prev_hash'),
        sa.column('hash'),
    )
    rows = bind.execute(sa.select(events).order_by(events.c.id)).all()
    prev = start or GENESIS_HASH
    for row in rows:
        if row.prev_hash != prev or _plain(prev, row) != row.hash:
            return
        prev = row.hash
    prev = start or GENESIS_HASH
    for row in rows:
        keyed = _keyed(key, prev, row)
        bind.execute(
            events.update().where(events.c.id == row.id).values(prev_hash=prev, hash=keyed)
        )
        prev = keyed


def _canonical(prev: str, row: sa.Row[tuple[object, ...]]) -> bytes:
    at = row.at.isoformat() + '+00:00'  # stored as naive UTC, hashed as aware UTC
    return json.dumps(
        [prev, row.id, at, row.actor, row.action, row.subject, row.detail],
        ensure_ascii=True, separators=(',', ':'),
    ).encode('ascii')


def _plain(prev: str, row: sa.Row[tuple[object, ...]]) -> str:
    return hashlib.sha256(_canonical(prev, row)).hexdigest()


def _keyed(key: bytes, prev: str, row: sa.Row[tuple[object, ...]]) -> str:
    return hmac.new(key, _canonical(prev, row), hashlib.sha256).hexdigest()


def upgrade() -> None:
    op.create_table('destruction_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_destruction_ledger'))
    )
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for table in NEVER_REUSED:
            with op.batch_alter_table(
                table, recreate='always', table_kwargs={'sqlite_autoincrement': True}
            ):
                pass
        _seed_sequences(bind)
    _key_the_audit_chain(bind)


def downgrade() -> None:
    op.drop_table('destruction_ledger')
