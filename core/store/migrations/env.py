"""Alembic environment: runs migrations on the connection handed over by `core.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from core.model import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("migrations run only through core.store.migrate (they need the key)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
