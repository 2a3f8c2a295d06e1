"""Column encryption for a shared database (PRIV-08): the server never holds names in clear.

Two kinds of sealed value, both ``<key id>:<base64>`` so a value names the key that opens it
and keys can rotate:

- ``seal``: AES-256-GCM with a random nonce, for values nobody looks up (names, contact
  details, notes). Equal values give unrelated ciphertexts.
- ``seal_lookup``: AES-SIV (RFC 5297, deterministic), for values looked up by equality
  (barcodes). Its synthetic IV is a keyed hash (CMAC) of the value, so equal values seal
  equally and an index, a unique constraint and ``WHERE barcode = ?`` work on the sealed form;
  the server learns which rows are equal and nothing else.

The context (what the column holds) is authenticated with each value, so a value copied
into another column does not open there. Keys are sub-keys of the instance secret (HKDF,
one label per purpose and key generation); the instance secret itself is kept in the
database wrapped with the appliance's local key file (``wrap_instance_secret``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import WrongKeyError

CURRENT_GENERATION = 1
GCM_KEY_BYTES = 32  # AES-256
SIV_KEY_BYTES = 64  # AES-SIV-256 takes two 256-bit keys
NONCE_BYTES = 12  # AES-GCM's standard nonce; random per value
WRAP_LABEL = b"reticent/instance-secret/wrap/v1"
_GCM_LABEL = "reticent/columns/aes-gcm/k{}"
_SIV_LABEL = "reticent/columns/aes-siv/k{}"
_TOKEN_LABEL = "reticent/columns/name-token/k{}"  # noqa: S105 (a label, not a secret)

_NOT_OPENED = "a sealed column value does not open with this instance's keys"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(secret: bytes, label: str, length: int) -> bytes:
    # One HKDF label per purpose and generation: no key can be computed from another.
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label.encode()).derive(
        secret
    )


NAME_TOKEN_HEX = 16  # 64 bits: enough to find a name word, too short to be worth a dictionary


def normalise_name_token(token: str) -> str:
    """A name token as the desk types it: case-folded, surrounding punctuation dropped."""
    return token.casefold().strip(" .,;:'\"()-")


def name_words(name: str) -> list[str]:
    """The words of a name a desk search matches: each word, and each part of a hyphenated one."""
    words: list[str] = []
    for word in name.split():
        for token in (word, *word.split("-")):
            normal = normalise_name_token(token)
            if normal and normal not in words:
                words.append(normal)
    return words


class ColumnCipher:
    """Seals and opens column values with the sub-keys of one instance secret."""

    def __init__(self, instance_secret: bytes, generation: int = CURRENT_GENERATION) -> None:
        if generation < 1:
            raise ValueError("key generations start at 1")
        self.key_id = f"k{generation}"
        # Every earlier generation still opens the values sealed under it (rotation).
        self._gcm = {
            f"k{g}": AESGCM(_derive(instance_secret, _GCM_LABEL.format(g), GCM_KEY_BYTES))
            for g in range(1, generation + 1)
        }
        self._siv = {
            f"k{g}": AESSIV(_derive(instance_secret, _SIV_LABEL.format(g), SIV_KEY_BYTES))
            for g in range(1, generation + 1)
        }
        self._token_key = _derive(instance_secret, _TOKEN_LABEL.format(generation), GCM_KEY_BYTES)

    def seal(self, value: str, context: bytes) -> str:
        """A random-nonce AES-GCM sealing of `value` for a column holding `context`."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._gcm[self.key_id].encrypt(nonce, value.encode("utf-8"), context)
        return f"{self.key_id}:{_b64(nonce + sealed)}"

    def seal_lookup(self, value: str, context: bytes) -> str:
        """A deterministic AES-SIV sealing: equal values give equal results under one key."""
        sealed = self._siv[self.key_id].encrypt(value.encode("utf-8"), [context])
        return f"{self.key_id}:{_b64(sealed)}"

    def _split(self, stored: str) -> tuple[str, bytes]:
        key_id, sep, body = stored.partition(":")
        if not sep:
            raise WrongKeyError("a sealed column value has no key id (was it written in clear?)")
        try:
            return key_id, _unb64(body)
        except (binascii.Error, ValueError):
            raise WrongKeyError("a sealed column value is not valid base64") from None

    def open(self, stored: str, context: bytes) -> str:
        """The value `seal` sealed; refused when no key of this instance opens it."""
        key_id, raw = self._split(stored)
        aead = self._gcm.get(key_id)
        if aead is None:
            raise WrongKeyError(f"a column value is sealed under unknown key {key_id}")
        try:
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context).decode("utf-8")
        except InvalidTag:
            raise WrongKeyError(_NOT_OPENED) from None

    def open_lookup(self, stored: str, context: bytes) -> str:
        """The value `seal_lookup` sealed."""
        key_id, raw = self._split(stored)
        siv = self._siv.get(key_id)
        if siv is None:
            raise WrongKeyError(f"a column value is sealed under unknown key {key_id}")
        try:
            return siv.decrypt(raw, [context]).decode("utf-8")
        except InvalidTag:
            raise WrongKeyError(_NOT_OPENED) from None

    def name_token(self, token: str) -> str:
        """The keyed hash of one normalised name token (exact-token search without the name)."""
        normal = normalise_name_token(token).encode("utf-8")
        return hmac.new(self._token_key, normal, hashlib.sha256).hexdigest()[:NAME_TOKEN_HEX]


def wrap_instance_secret(wrapping_key: bytes, secret: bytes) -> str:
    """The instance secret sealed with the local key file, as kept in a shared database."""
    nonce = os.urandom(NONCE_BYTES)
    return "w1:" + _b64(nonce + AESGCM(wrapping_key).encrypt(nonce, secret, WRAP_LABEL))


def unwrap_instance_secret(wrapping_key: bytes, stored: str) -> bytes:
    """The instance secret; refused when the key file is not the one the database was made with."""
    version, sep, body = stored.partition(":")
    if version != "w1" or not sep:
        raise WrongKeyError("the instance secret in the database is not wrapped by a key file")
    try:
        raw = _unb64(body)
        return AESGCM(wrapping_key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], WRAP_LABEL)
    except (InvalidTag, binascii.Error, ValueError):
        raise WrongKeyError(
            "the key file does not open this database's instance secret: every branch needs "
            "a copy of the key file made by `reticent init`"
        ) from None
