"""Apply and inspect Alembic migrations on an open engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from core.errors import StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Branches sharing one PostgreSQL database may run `reticent migrate` at the same moment: the
# first takes this transaction-scoped advisory lock and migrates, the others wait and find the
# schema at head.
MIGRATION_LOCK_ID = 0x7265746963656E74  # "reticent"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` in one transaction.

    On SQLite, foreign keys are off while it runs: a migration that rebuilds a table (copy,
    drop, rename) must not let the drop cascade into the tables that refer to it. Every
    reference is checked before the transaction commits.
    """
    config = _config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if sqlite and driver is not None:
            driver.execute("PRAGMA foreign_keys = OFF")  # only outside a transaction
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise StoreError("the migration left a broken reference; nothing was changed")
        finally:
            if sqlite and driver is not None:
                driver.execute("PRAGMA foreign_keys = ON")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def autogenerate(engine: Engine, message: str) -> None:
    """Write a new revision from the difference between the models and the schema (developers)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
