"""The store key file (32 random bytes, mode 0600) and HKDF sub-keys of the instance secret.

The store key only opens the database. Sub-keys (pseudonyms, ledgers, the audit chain) derive
from the random instance secret kept inside the encrypted store, never from the key file, so a
rekey changes neither pseudonyms nor ledger digests (docs/data-inventory.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import KeyFileError

KEY_BYTES = 32  # SQLCipher raw key: 256 bits

# Distinct HKDF labels so no sub-key can be computed from another (docs/architecture.md, "Store").
PSEUDONYM_LABEL = b"reticent/pseudonym/v1"
PURGE_LEDGER_LABEL = b"reticent/purge-ledger/v1"
BACKUP_LABEL = b"reticent/backup/v1"
KEY_ID_LABEL = b"reticent/key-id/v1"
KEY_ID_HEX = 16  # 64 bits: names a key among a handful, says nothing about it
AUDIT_CHAIN_LABEL = b"reticent/audit-chain/v1"
DESTRUCTION_LEDGER_LABEL = b"reticent/destruction-ledger/v1"


def generate_key_file(path: Path) -> bytes:
    """Create a new key file readable by its owner only; refuse to overwrite one."""
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key


def require_owner_only(path: Path, what: str = "key file") -> None:
    """Refuse a secret file (store key, TLS private key, mail password) that group or others
    can read or write, or that does not exist (PRIV-08)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"{what} {path} does not exist") from None
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"{what} {path} has mode {mode:04o}; it must be readable by its owner only "
            f"(run: chmod 600 {path})"
        )


def load_key(path: Path) -> bytes:
    """Read the store key; refuse a file that group or others can read (PRIV-08)."""
    require_owner_only(path)
    raw = path.read_bytes()
    if len(raw) == KEY_BYTES:
        return raw
    text = raw.decode("ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise KeyFileError(f"key file {path} does not hold a 256-bit key") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"key file {path} does not hold a 256-bit key")
    return key


def derive_subkey(key: bytes, label: bytes) -> bytes:
    """Derive an independent 32-byte sub-key for one purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(key)


def key_id(key: bytes) -> str:
    """A short public name of a store key, stored in each database and backup it encrypts."""
    return derive_subkey(key, KEY_ID_LABEL).hex()[:KEY_ID_HEX]


class Pseudonymizer:
    """Keyed pseudonyms: stable per patron, meaningless without the store key (PRIV-15, PRIV-16)."""

    def __init__(self, subkey: bytes) -> None:
        self._key = subkey

    def _tag(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return digest[:24]

    def patron(self, patron_id: int) -> str:
        """The pseudonym of a patron record, used in the audit log."""
        return "p-" + self._tag("patron", str(patron_id))

    def barcode(self, barcode: str) -> str:
        """The pseudonym of a presented barcode, used in log lines (which never hold barcodes)."""
        return "b-" + self._tag("barcode", barcode)


# The store key's name among a systemd service's credentials (config/systemd/reticent.service).
KEY_CREDENTIAL = "reticent.key"


def credential_key_file(credentials_directory: str | None) -> Path | None:
    """The store key systemd delivered with `LoadCredential=`, or None when there is none.

    systemd hands it over on a private in-memory file system readable by the service's user
    only (mode 0400), so it is read in place and never copied to disk (PRIV-08); `load_key`
    applies the same checks as to a key file.
    """
    if not credentials_directory:
        return None
    path = Path(credentials_directory) / KEY_CREDENTIAL
    return path if path.is_file() else None
