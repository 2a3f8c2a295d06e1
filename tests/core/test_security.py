"""Secrets and keys: argon2id with rehash on changed parameters (PRIV-09), key files, pseudonyms."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from core.errors import KeyFileError
from core.model import Patron
from core.security.keys import (
    PSEUDONYM_LABEL,
    PURGE_LEDGER_LABEL,
    Pseudonymizer,
    derive_subkey,
    generate_key_file,
    load_key,
)
from core.security.secrets import Argon2Params, SecretHasher
from core.services import patrons
from core.services.actors import terminal_actor
from core.store.uow import Store
from tests.conftest import FAST_ARGON2, NOW, add_patron


def test_hash_is_argon2id_and_never_the_secret() -> None:
    hasher = SecretHasher(FAST_ARGON2)
    stored = hasher.hash("2468")
    assert stored.startswith("$argon2id$") and "2468" not in stored
    assert hasher.verify(stored, "2468").ok
    assert not hasher.verify(stored, "2469").ok
    assert not hasher.verify(None, "2468").ok
    assert not hasher.verify("not a hash", "2468").ok


def test_changed_parameters_rehash_at_the_next_successful_check() -> None:
    old = SecretHasher(FAST_ARGON2).hash("2468")
    stronger = SecretHasher(Argon2Params(time_cost=2, memory_cost_kib=2048, parallelism=1))
    outcome = stronger.verify(old, "2468")
    assert outcome.ok and outcome.new_hash is not None and "t=2" in outcome.new_hash
    assert stronger.verify(outcome.new_hash, "2468").new_hash is None
    assert stronger.verify(old, "wrong").new_hash is None


def test_a_patron_pin_is_rehashed_in_the_store_after_a_valid_pin(store: Store) -> None:
    add_patron(store, "P1", pin="2468")
    store.env = type(store.env)(
        rules=store.env.rules,
        pseudonyms=store.env.pseudonyms,
        hasher=SecretHasher(Argon2Params(time_cost=2, memory_cost_kib=2048, parallelism=1)),
    )
    assert patrons.check_pin(store, terminal_actor("k", "main"), NOW, "P1", "2468").valid
    with store.read() as uow:
        stored = uow.session.scalars(select(Patron.pin_hash)).one()
    assert stored is not None and "t=2" in stored


def test_key_file_is_private_and_refuses_others(tmp_path: Path) -> None:
    path = tmp_path / "k"
    key = generate_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600 and load_key(path) == key
    with pytest.raises(FileExistsError):
        generate_key_file(path)
    path.chmod(0o640)
    with pytest.raises(KeyFileError, match="mode 0640"):
        load_key(path)
    path.chmod(0o600)
    path.write_text("not hex")
    with pytest.raises(KeyFileError, match="256-bit"):
        load_key(path)


def test_sub_keys_are_distinct_and_pseudonyms_stable() -> None:
    root = os.urandom(32)
    assert derive_subkey(root, PSEUDONYM_LABEL) != derive_subkey(root, PURGE_LEDGER_LABEL)
    one = Pseudonymizer(derive_subkey(root, PSEUDONYM_LABEL))
    two = Pseudonymizer(derive_subkey(root, PSEUDONYM_LABEL))
    other = Pseudonymizer(derive_subkey(os.urandom(32), PSEUDONYM_LABEL))
    assert one.patron(7) == two.patron(7) != other.patron(7)
    assert one.patron(7) != one.patron(8)
    assert one.barcode("P1") != one.patron(1)
