"""PIN and password hashing with argon2id, rehashed on login when parameters change (PRIV-09)."""

from __future__ import annotations

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
    """Hashes and verifies PINs and passwords; never logs or returns the secret itself."""

    def __init__(self, params: Argon2Params) -> None:
        self.params = params
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

    def verify(self, stored_hash: str | None, secret: str) -> Verification:
        if stored_hash is None:
            return Verification(ok=False)
        try:
            self._hasher.verify(stored_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verification(ok=False)
        if self._hasher.check_needs_rehash(stored_hash):
            return Verification(ok=True, new_hash=self._hasher.hash(secret))
        return Verification(ok=True)
