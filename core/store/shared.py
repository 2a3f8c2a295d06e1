"""Create or open a store on a shared PostgreSQL database: many branches, one database.

The key file stays on each appliance: it wraps the instance secret kept in the database, and
the column keys derive from that secret, so the database server holds neither (PRIV-08). Every
branch gets a copy of the key file made by `reticent init` on the first one.
"""

from __future__ import annotations

import datetime as dt
import secrets
import weakref

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.pool import Pool

from core.errors import StoreError, WrongKeyError
from core.model import Instance
from core.model.sealed import attach_cipher
from core.policy.rules import CirculationRules
from core.security.columns import ColumnCipher, unwrap_instance_secret, wrap_instance_secret
from core.security.keys import generate_key_file, key_id, load_key
from core.security.secrets import Argon2Params
from core.store.migrate import upgrade
from core.store.open import StoreOptions, migrate_or_check, store_environment
from core.store.postgres import (
    check_postgres_store,
    create_postgres_engine,
    describe,
    has_schema,
    parse_store_url,
    read_password,
)
from core.store.uow import Store

# The unwrapped secret of each engine opened here, for the sub-keys derived from it later
# (the purge ledger's); it lives as long as the engine does.
_opened: weakref.WeakKeyDictionary[Pool, bytes] = weakref.WeakKeyDictionary()


def shared_engine(options: StoreOptions) -> tuple[Engine, URL]:
    """The engine on `options.url`, with the password from `options.password_file`."""
    if options.url is None:
        raise StoreError("no shared store is configured (store.url)")
    try:
        url = parse_store_url(options.url)
    except StoreError as exc:
        raise StoreError(f"store.url: {exc}") from None
    password = read_password(options.password_file) if options.password_file else None
    return create_postgres_engine(url, password, pool_size=options.pool_size), url


def _wrapped_secret(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(Instance.secret).where(Instance.id == 1)).scalar()


def shared_instance_secret(engine: Engine, key: bytes) -> bytes:
    """The instance secret of a shared store, unwrapped with the local key file."""
    wrapped = _wrapped_secret(engine)
    if wrapped is None:
        raise WrongKeyError("the shared store has no instance row: run `reticent init` first")
    return unwrap_instance_secret(key, wrapped)


def opened_instance_secret(engine: Engine) -> bytes:
    """The instance secret of a shared store this process opened (``instance_secret``)."""
    secret = _opened.get(engine.pool)  # shared by the engine's option copies
    if secret is None:
        raise StoreError("this shared store was not opened with its key file")
    return secret


def _store(
    engine: Engine, secret: bytes, rules: CirculationRules, argon2: Argon2Params, institution: str
) -> Store:
    attach_cipher(engine, ColumnCipher(secret))
    _opened[engine.pool] = secret
    return Store(engine, store_environment(secret, rules, argon2, institution))


def create_shared_store(
    options: StoreOptions,
    rules: CirculationRules,
    argon2: Argon2Params,
    institution: str = "main",
    *,
    now: dt.datetime,
) -> Store:
    """Make a new key file and set up an empty database; refuse one that already has a store."""
    engine, url = shared_engine(options)
    try:
        if has_schema(engine, url) and _wrapped_secret(engine) is not None:
            raise StoreError(
                f"the PostgreSQL database {describe(url)} already holds a store: copy its key "
                "file to this appliance and run `reticent migrate`"
            )
        key = generate_key_file(options.key_file)
        upgrade(engine)
        secret = secrets.token_bytes(32)
        with engine.begin() as conn:
            conn.execute(
                insert(Instance).values(
                    id=1,
                    secret=wrap_instance_secret(key, secret),
                    key_id=key_id(key),
                    created_at=now,
                )
            )
    except BaseException:
        engine.dispose()
        raise
    return _store(engine, secret, rules, argon2, institution)


def open_shared_store(
    options: StoreOptions,
    rules: CirculationRules,
    argon2: Argon2Params,
    institution: str = "main",
    *,
    migrate: bool = False,
) -> Store:
    """Open the shared store; a wrong key file or a foreign database is refused untouched."""
    key = load_key(options.key_file)
    engine, url = shared_engine(options)
    try:
        check_postgres_store(engine, url)
        secret = shared_instance_secret(engine, key)
        migrate_or_check(engine, migrate=migrate)
    except BaseException:
        engine.dispose()
        raise
    return _store(engine, secret, rules, argon2, institution)
