"""PIN and password hashing with argon2id, rehashed on login when parameters change (PRIV-09)."""

from __future__ import annotations

import contextlib
import secrets
import threading
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class Argon2Params:
    """Cost parameters of argon2id; changing them rehashes secrets at their next use."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a secret; `new_hash` is set when the stored hash needs replacing."""

    ok: bool
    new_hash: str | None = None


class SecretHasher:
    """Hashes and verifies PINs and passwords; never logs or returns the secret itself.

    ``verify(None, ...)`` (an unknown account or card, or one that is locked) checks the secret
    against a dummy hash made with the current parameters, so it costs what a real check costs
    and the time taken does not tell whether the account exists (PRIV-09). ``verified`` counts
    the checks against real hashes, ``dummies`` those against the dummy.
    """

    def __init__(self, params: Argon2Params) -> None:
        self.params = params
        self._dummy: str | None = None
        self._count_lock = threading.Lock()
        self.verified = 0
        self.dummies = 0
        self._hasher = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost_kib,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
            type=argon2.Type.ID,
        )

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def _dummy_hash(self) -> str:
        if self._dummy is None:  # made once, at the first use: a random secret nobody knows
            self._dummy = self._hasher.hash(secrets.token_urlsafe(24))
        return self._dummy

    def verify(self, stored_hash: str | None, secret: str) -> Verification:
        """Check ``secret``; against the dummy hash when ``stored_hash`` is None (class doc)."""
        if stored_hash is None:
            dummy = self._dummy_hash()
            with self._count_lock:
                self.dummies += 1
            with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
                self._hasher.verify(dummy, secret)
            return Verification(ok=False)
        with self._count_lock:
            self.verified += 1
        try:
            self._hasher.verify(stored_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verification(ok=False)
        if self._hasher.check_needs_rehash(stored_hash):
            return Verification(ok=True, new_hash=self._hasher.hash(secret))
        return Verification(ok=True)
