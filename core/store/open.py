"""Create or open a store on disk: key file, encrypted database, migrations, environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.policy.rules import CirculationRules
from core.security.keys import (
    PSEUDONYM_LABEL,
    Pseudonymizer,
    derive_subkey,
    generate_key_file,
    load_key,
)
from core.security.secrets import Argon2Params, SecretHasher
from core.store.engine import check_store, create_store_engine
from core.store.migrate import upgrade
from core.store.uow import Environment, Store


@dataclass(frozen=True)
class StoreOptions:
    """Where the store lives and how its connections behave."""

    database: Path
    key_file: Path
    busy_timeout_ms: int = 5000
    synchronous: str = "FULL"
    pool_size: int = 5


def _environment(
    key: bytes, rules: CirculationRules, argon2: Argon2Params, institution: str
) -> Environment:
    return Environment(
        rules=rules,
        pseudonyms=Pseudonymizer(derive_subkey(key, PSEUDONYM_LABEL)),
        hasher=SecretHasher(argon2),
        institution_id=institution,
    )


def create_store(
    options: StoreOptions,
    rules: CirculationRules,
    argon2: Argon2Params,
    institution: str = "main",
) -> Store:
    """Make a new key file and an encrypted, migrated database; refuse to overwrite either."""
    if options.database.exists():
        raise FileExistsError(f"{options.database} already exists")
    key = generate_key_file(options.key_file)
    engine = create_store_engine(
        options.database,
        key,
        busy_timeout_ms=options.busy_timeout_ms,
        synchronous=options.synchronous,
        pool_size=options.pool_size,
    )
    upgrade(engine)
    return Store(engine, _environment(key, rules, argon2, institution))


def open_store(
    options: StoreOptions,
    rules: CirculationRules,
    argon2: Argon2Params,
    institution: str = "main",
    *,
    migrate: bool = False,
) -> Store:
    """Open an existing store; a wrong key or foreign file is refused before anything is written."""
    key = load_key(options.key_file)
    check_store(options.database, key)
    engine = create_store_engine(
        options.database,
        key,
        busy_timeout_ms=options.busy_timeout_ms,
        synchronous=options.synchronous,
        pool_size=options.pool_size,
    )
    if migrate:
        upgrade(engine)
    return Store(engine, _environment(key, rules, argon2, institution))
