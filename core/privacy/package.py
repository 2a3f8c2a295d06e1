"""Encrypted disclosure packages: AES-256-GCM under a key from scrypt(passphrase) (PRIV-13)."""

from __future__ import annotations

import base64
import binascii
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from core.errors import ReticentError

PACKAGE_FORMAT = "reticent-disclosure/1"
# scrypt at N=2**17, r=8 costs 128 MiB and about half a second per guess on a desktop, the
# interactive-use figure RFC 7914 and OWASP recommend; the package may sit on a stick for years.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
# A package from elsewhere must not make us allocate unbounded memory: accept N up to 2**20.
SCRYPT_N_MAX = 2**20
SALT_BYTES = 16
NONCE_BYTES = 12  # AES-GCM's standard nonce size
MIN_PASSPHRASE_CHARS = 12  # the package leaves the building: a short passphrase is guessable


class PackageError(ReticentError):
    """A disclosure package cannot be opened: wrong passphrase, damaged or not a package."""


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to protect a package that leaves the building."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise ValueError(f"the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")


def _key(passphrase: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(
        passphrase.encode("utf-8")
    )


def encrypt_package(plaintext: bytes, passphrase: str) -> bytes:
    """AES-256-GCM under a key from scrypt(passphrase), in a small JSON envelope."""
    check_passphrase(passphrase)
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key(passphrase, salt, SCRYPT_N)).encrypt(
        nonce, plaintext, PACKAGE_FORMAT.encode("ascii")
    )
    envelope = {
        "format": PACKAGE_FORMAT,
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": base64.b64encode(salt).decode("ascii"),
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
    }
    return (json.dumps(envelope, indent=1) + "\n").encode("ascii")


def decrypt_package(content: bytes, passphrase: str) -> bytes:
    """The JSON text inside a package; PackageError for a wrong passphrase or a damaged file."""
    try:
        envelope = json.loads(content)
        if not isinstance(envelope, dict) or envelope.get("format") != PACKAGE_FORMAT:
            raise PackageError("not a reticent disclosure package")
        n, r, p = envelope["n"], envelope["r"], envelope["p"]
        salt = base64.b64decode(envelope["salt"], validate=True)
        nonce = base64.b64decode(envelope["nonce"], validate=True)
        sealed = base64.b64decode(envelope["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise PackageError("not a reticent disclosure package") from None
    valid_n = isinstance(n, int) and 2 <= n <= SCRYPT_N_MAX and n & (n - 1) == 0
    if not valid_n or (r, p) != (SCRYPT_R, SCRYPT_P) or len(nonce) != NONCE_BYTES:
        raise PackageError("unsupported package parameters")
    try:
        return AESGCM(_key(passphrase, salt, n)).decrypt(
            nonce, sealed, PACKAGE_FORMAT.encode("ascii")
        )
    except InvalidTag:
        raise PackageError("wrong passphrase, or the package was changed") from None
