"""The warrant canary: Ed25519 keys, signed statements with an expiry, their status (PRIV-14)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import ReticentError

CANARY_FORMAT = "reticent-canary/1"
DEFAULT_STATEMENT = (
    "As of the date of issue, this library has not received any national security letter, "
    "gag order or secret court order for patron records, and no government agency has been "
    "given access to patron records except as published in our transparency report."
)
MIN_KEY_PASSPHRASE_CHARS = 12  # the key sits beside the appliance; guessing must be costly
_SIGNED_FIELDS = ("format", "statement", "issued_at", "expires_at", "public_key_fingerprint")

CanaryState = Literal["fresh", "expiring", "stale", "missing", "invalid"]


class CanaryError(ReticentError):
    """A key or canary file cannot be used (wrong passphrase, not a key, bad signature)."""


@dataclass(frozen=True)
class KeyPair:
    """An encrypted private key and its public key, both PEM, ready to be written to files."""

    private_pem: bytes
    public_pem: bytes
    fingerprint: str


@dataclass(frozen=True)
class Canary:
    """A signed canary statement."""

    statement: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    public_key_fingerprint: str
    public_key: str  # raw Ed25519 key, base64, so a file can be checked on its own
    signature: str  # base64

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "format": CANARY_FORMAT,
                    "statement": self.statement,
                    "issued_at": self.issued_at.isoformat(),
                    "expires_at": self.expires_at.isoformat(),
                    "public_key_fingerprint": self.public_key_fingerprint,
                    "public_key": self.public_key,
                    "signature": self.signature,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )


@dataclass(frozen=True)
class CanaryStatus:
    """What the canary says now; `pinned` tells whether a configured public key was used."""

    state: CanaryState
    expires_at: dt.datetime | None = None
    issued_at: dt.datetime | None = None
    statement: str | None = None
    fingerprint: str | None = None
    pinned: bool = False
    problem: str = ""


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, in hex: what people compare by eye or over the phone."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_keypair(passphrase: str) -> KeyPair:
    """A new signing key, the private half encrypted with the passphrase (PRIV-14)."""
    if len(passphrase) < MIN_KEY_PASSPHRASE_CHARS:
        raise ValueError(f"the passphrase must have at least {MIN_KEY_PASSPHRASE_CHARS} characters")
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    public = private.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(private_pem, public_pem, fingerprint(public))


def load_private_key(private_pem: bytes, passphrase: str) -> Ed25519PrivateKey:
    """The signing key from its encrypted PEM; CanaryError for a wrong passphrase or other key."""
    try:
        key = serialization.load_pem_private_key(private_pem, passphrase.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CanaryError("cannot open the key: wrong passphrase or not a canary key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CanaryError("the key is not an Ed25519 key")
    return key


def load_public_key(public_pem: bytes) -> Ed25519PublicKey:
    """A public key from PEM; CanaryError when it is not an Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(public_pem)
    except (ValueError, UnsupportedAlgorithm):
        raise CanaryError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CanaryError("the public key is not an Ed25519 key")
    return key


def _signed_bytes(fields: dict[str, str]) -> bytes:
    return json.dumps(
        [fields[name] for name in _SIGNED_FIELDS], ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def sign_canary(
    private_key: Ed25519PrivateKey, statement: str, issued_at: dt.datetime, valid_days: int
) -> Canary:
    """Sign a statement valid for `valid_days` from `issued_at`; only a person does this."""
    if valid_days < 1:
        raise ValueError("a canary must be valid for at least one day")
    if not statement.strip():
        raise ValueError("the canary statement must not be empty")
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must carry a time zone")
    issued = issued_at.astimezone(dt.UTC).replace(microsecond=0)
    expires = issued + dt.timedelta(days=valid_days)
    public = private_key.public_key()
    fields = {
        "format": CANARY_FORMAT,
        "statement": statement,
        "issued_at": issued.isoformat(),
        "expires_at": expires.isoformat(),
        "public_key_fingerprint": fingerprint(public),
    }
    signature = private_key.sign(_signed_bytes(fields))
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return Canary(
        statement=statement,
        issued_at=issued,
        expires_at=expires,
        public_key_fingerprint=fields["public_key_fingerprint"],
        public_key=base64.b64encode(raw).decode("ascii"),
        signature=base64.b64encode(signature).decode("ascii"),
    )


def verify_canary(text: str, public_key: Ed25519PublicKey | None) -> Canary:
    """Parse a canary and check its signature; CanaryError for any tampering or mismatch.

    With `public_key` the canary must be signed by that key; without it, only by the key it
    carries, which proves the file was not edited but not who signed it.
    """
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != CANARY_FORMAT:
            raise CanaryError("not a reticent canary file")
        fields = {name: data[name] for name in _SIGNED_FIELDS}
        if not all(isinstance(v, str) for v in fields.values()):
            raise CanaryError("not a reticent canary file")
        embedded = Ed25519PublicKey.from_public_bytes(
            base64.b64decode(data["public_key"], validate=True)
        )
        signature = base64.b64decode(data["signature"], validate=True)
        issued = dt.datetime.fromisoformat(fields["issued_at"])
        expires = dt.datetime.fromisoformat(fields["expires_at"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise CanaryError("not a reticent canary file") from None
    if public_key is not None and fingerprint(public_key) != fingerprint(embedded):
        raise CanaryError("the canary was signed with another key")
    key = public_key or embedded
    if fingerprint(key) != fields["public_key_fingerprint"]:
        raise CanaryError("the canary's key fingerprint does not match its key")
    try:
        key.verify(signature, _signed_bytes(fields))
    except InvalidSignature:
        raise CanaryError("the signature does not match: the canary was changed") from None
    if issued.tzinfo is None or expires.tzinfo is None or expires <= issued:
        raise CanaryError("the canary's dates are not valid")
    return Canary(
        statement=fields["statement"],
        issued_at=issued,
        expires_at=expires,
        public_key_fingerprint=fields["public_key_fingerprint"],
        public_key=str(data["public_key"]),
        signature=str(data["signature"]),
    )


def canary_status(
    path: Path | None, public_key: Path | None, now: dt.datetime, warn_days: int
) -> CanaryStatus:
    """Fresh, expiring (within `warn_days` of expiry), stale, missing or invalid (PRIV-14).

    Read by the self-audit and `reticent canary status`; it never signs anything.
    """
    if path is None or not path.is_file():
        return CanaryStatus("missing", problem="no canary has been published")
    pinned = public_key is not None
    try:
        key = load_public_key(public_key.read_bytes()) if public_key is not None else None
        canary = verify_canary(path.read_text(encoding="utf-8"), key)
    except (CanaryError, OSError, UnicodeDecodeError) as exc:
        return CanaryStatus("invalid", pinned=pinned, problem=str(exc))
    state: CanaryState
    if now >= canary.expires_at:
        state = "stale"
    elif now >= canary.expires_at - dt.timedelta(days=warn_days):
        state = "expiring"
    else:
        state = "fresh"
    return CanaryStatus(
        state,
        expires_at=canary.expires_at,
        issued_at=canary.issued_at,
        statement=canary.statement,
        fingerprint=canary.public_key_fingerprint,
        pinned=pinned,
    )
