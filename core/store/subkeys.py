"""Sub-keys of a store's instance secret, read through a session once per database."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from core.errors import WrongKeyError
from core.model import Instance
from core.security.keys import derive_subkey

# One entry per connection pool (a store's reader and writer sessions share it); the secret
# never changes for the life of a database, a rekey included (core/security/keys.py).
_SUBKEYS: WeakKeyDictionary[Pool, dict[bytes, bytes]] = WeakKeyDictionary()


def _secret(session: Session) -> bytes:
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite":
        # A shared store keeps it wrapped by the key file (core/store/shared.py).
        from core.store.shared import opened_instance_secret

        return opened_instance_secret(engine)
    secret = session.scalar(select(Instance.secret).where(Instance.id == 1))
    if secret is None:
        raise WrongKeyError("the store has no instance row; it was not made by `reticent init`")
    return bytes.fromhex(secret)


def store_subkey(session: Session, label: bytes) -> bytes:
    """The sub-key for `label` of the store `session` is bound to (HKDF of the instance secret)."""
    pool = session.get_bind().engine.pool
    keys = _SUBKEYS.get(pool)
    if keys is None:
        keys = _SUBKEYS[pool] = {}
    key = keys.get(label)
    if key is None:
        key = keys[label] = derive_subkey(_secret(session), label)
    return key
