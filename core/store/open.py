"""Create or open a store on disk: key file, encrypted database, migrations, environment."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, insert, select

from core.errors import StoreError, WrongKeyError
from core.model import Instance
from core.policy.rules import CirculationRules
from core.security.keys import (
    PSEUDONYM_LABEL,
    Pseudonymizer,
    derive_subkey,
    generate_key_file,
    key_id,
    load_key,
)
from core.security.secrets import Argon2Params, SecretHasher
from core.store.engine import check_store, create_store_engine
from core.store.migrate import current_revision, head_revision, upgrade
from core.store.uow import Environment, Store


@dataclass(frozen=True)
class StoreOptions:
    """Where the store lives and how its connections behave."""

    database: Path
    key_file: Path
    busy_timeout_ms: int = 5000
    synchronous: str = "FULL"
    pool_size: int = 5
    # A shared PostgreSQL database instead of the file (core/store/shared.py); the key file
    # then wraps the instance secret kept in that database (PRIV-08).
    url: str | None = None
    password_file: Path | None = None


def instance_secret(engine: Engine) -> bytes:
    """The root of the sub-keys, kept inside the encrypted store (stable across rekeying).

    On a shared database it is kept wrapped by the key file: the secret unwrapped when the
    store was opened.
    """
    if engine.dialect.name != "sqlite":
        from core.store.shared import opened_instance_secret

        return opened_instance_secret(engine)
    with engine.connect() as conn:
        secret = conn.execute(select(Instance.secret).where(Instance.id == 1)).scalar()
    if secret is None:
        raise WrongKeyError("the store has no instance row; it was not made by `reticent init`")
    return bytes.fromhex(secret)


def store_environment(
    secret: bytes, rules: CirculationRules, argon2: Argon2Params, institution: str
) -> Environment:
    return Environment(
        rules=rules,
        pseudonyms=Pseudonymizer(derive_subkey(secret, PSEUDONYM_LABEL)),
        hasher=SecretHasher(argon2),
        institution_id=institution,
    )


def migrate_or_check(engine: Engine, *, migrate: bool) -> None:
    """Bring the schema to head, or refuse (disposing the engine) when it is not there."""
    if migrate:
        upgrade(engine)
        return
    current, head = current_revision(engine), head_revision()
    if current != head:
        engine.dispose()
        raise StoreError(
            f"the database schema is at revision {current}, this version needs {head}: "
            "run `reticent migrate`"
        )


def create_store(
    options: StoreOptions,
    rules: CirculationRules,
    argon2: Argon2Params,
    institution: str = "main",
    *,
    now: dt.datetime,
) -> Store:
    """Make a new key file and an encrypted, migrated database; refuse to overwrite either."""
    if options.url is not None:
        from core.store.shared import create_shared_store

        return create_shared_store(options, rules, argon2, institution, now=now)
    if options.database.exists():
        raise FileExistsError(f"{options.database} already exists")
    key = generate_key_file(options.key_file)
    # Readable by its owner only from the first byte (SQLite gives its WAL the same mode).
    os.close(os.open(options.database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    engine = create_store_engine(
        options.database,
        key,
        busy_timeout_ms=options.busy_timeout_ms,
        synchronous=options.synchronous,
        pool_size=options.pool_size,
    )
    upgrade(engine)
    secret = secrets.token_bytes(32)
    with engine.begin() as conn:
        conn.execute(
            insert(Instance).values(id=1, secret=secret.hex(), key_id=key_id(key), created_at=now)
        )
    return Store(engine, store_environment(secret, rules, argon2, institution))


def open_store(
    options: StoreOptions,
    rules: CirculationRules,
    argon2: Argon2Params,
    institution: str = "main",
    *,
    migrate: bool = False,
) -> Store:
    """Open an existing store; a wrong key or foreign file is refused before anything is written."""
    if options.url is not None:
        from core.store.shared import open_shared_store

        return open_shared_store(options, rules, argon2, institution, migrate=migrate)
    key = load_key(options.key_file)
    check_store(options.database, key)
    engine = create_store_engine(
        options.database,
        key,
        busy_timeout_ms=options.busy_timeout_ms,
        synchronous=options.synchronous,
        pool_size=options.pool_size,
    )
    migrate_or_check(engine, migrate=migrate)
    return Store(engine, store_environment(instance_secret(engine), rules, argon2, institution))
