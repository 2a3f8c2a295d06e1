"""The warrant canary: encrypted key, signatures, fresh, expiring, stale, tampering (PRIV-14)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from core.privacy import canary

PASSPHRASE = "officer's long passphrase"
WARN_DAYS = 14


@pytest.fixture(scope="module")
def pair() -> canary.KeyPair:
    return canary.generate_keypair(PASSPHRASE)


def _publish(tmp_path: Path, pair: canary.KeyPair, issued: dt.datetime, days: int = 90) -> Path:
    key = canary.load_private_key(pair.private_pem, PASSPHRASE)
    signed = canary.sign_canary(key, "No secret orders received.", issued, days)
    path = tmp_path / "canary.json"
    path.write_text(signed.to_json(), encoding="utf-8")
    return path


def _public(tmp_path: Path, pem: bytes, name: str = "key.pub") -> Path:
    path = tmp_path / name
    path.write_bytes(pem)
    return path


def test_private_key_is_encrypted(pair: canary.KeyPair) -> None:
    assert b"ENCRYPTED PRIVATE KEY" in pair.private_pem
    with pytest.raises(TypeError):  # a password is required
        serialization.load_pem_private_key(pair.private_pem, None)
    with pytest.raises(canary.CanaryError):
        canary.load_private_key(pair.private_pem, "wrong passphrase!!")
    key = canary.load_private_key(pair.private_pem, PASSPHRASE)
    assert canary.fingerprint(key.public_key()) == pair.fingerprint


def test_a_short_passphrase_is_refused() -> None:
    with pytest.raises(ValueError, match="passphrase"):
        canary.generate_keypair("short")


def test_fresh_then_expiring_then_stale(
    tmp_path: Path, pair: canary.KeyPair, now: dt.datetime
) -> None:
    path = _publish(tmp_path, pair, now, days=30)
    public = _public(tmp_path, pair.public_pem)
    expires = now + dt.timedelta(days=30)

    def state_at(moment: dt.datetime) -> str:
        return canary.canary_status(path, public, moment, WARN_DAYS).state

    assert state_at(now) == "fresh"
    assert state_at(expires - dt.timedelta(days=WARN_DAYS, seconds=1)) == "fresh"
    assert state_at(expires - dt.timedelta(days=WARN_DAYS)) == "expiring"
    assert state_at(expires - dt.timedelta(seconds=1)) == "expiring"
    assert state_at(expires) == "stale"
    assert state_at(expires + dt.timedelta(days=400)) == "stale"
    status = canary.canary_status(path, public, now, WARN_DAYS)
    assert status.expires_at == expires
    assert status.issued_at == now
    assert status.pinned
    assert status.fingerprint == pair.fingerprint
    assert status.statement == "No secret orders received."


def test_missing_canary(tmp_path: Path, now: dt.datetime) -> None:
    assert canary.canary_status(tmp_path / "none.json", None, now, WARN_DAYS).state == "missing"
    assert canary.canary_status(None, None, now, WARN_DAYS).state == "missing"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("statement", "We have received a secret order."),
        ("expires_at", "2099-01-01T00:00:00+00:00"),
        ("issued_at", "2026-03-05T10:00:00+00:00"),
        ("signature", "AAAA"),
        ("format", "something-else"),
    ],
)
def test_tampered_canary_is_invalid(
    tmp_path: Path, pair: canary.KeyPair, now: dt.datetime, field: str, value: str
) -> None:
    path = _publish(tmp_path, pair, now)
    data = json.loads(path.read_text())
    data[field] = value
    path.write_text(json.dumps(data))
    for public in (None, _public(tmp_path, pair.public_pem)):
        status = canary.canary_status(path, public, now, WARN_DAYS)
        assert status.state == "invalid"
        assert status.expires_at is None
        assert status.problem


def test_garbage_is_invalid(tmp_path: Path, now: dt.datetime) -> None:
    path = tmp_path / "canary.json"
    for content in (b"not json", b"{}", b"[1, 2]", b"\xff\xfe"):
        path.write_bytes(content)
        assert canary.canary_status(path, None, now, WARN_DAYS).state == "invalid"


def test_a_canary_signed_with_another_key_is_invalid(
    tmp_path: Path, pair: canary.KeyPair, now: dt.datetime
) -> None:
    other = canary.generate_keypair(PASSPHRASE)
    path = _publish(tmp_path, other, now)
    pinned = _public(tmp_path, pair.public_pem)
    assert canary.canary_status(path, pinned, now, WARN_DAYS).state == "invalid"
    # Unpinned, the file is only checked against the key it carries.
    unpinned = canary.canary_status(path, None, now, WARN_DAYS)
    assert unpinned.state == "fresh" and not unpinned.pinned


def test_swapping_in_another_key_and_signature_is_caught_when_pinned(
    tmp_path: Path, pair: canary.KeyPair, now: dt.datetime
) -> None:
    genuine = json.loads(_publish(tmp_path, pair, now).read_text())
    forged = json.loads(_publish(tmp_path, canary.generate_keypair(PASSPHRASE), now).read_text())
    forged["public_key_fingerprint"] = genuine["public_key_fingerprint"]
    path = tmp_path / "canary.json"
    path.write_text(json.dumps(forged))
    pinned = _public(tmp_path, pair.public_pem)
    assert canary.canary_status(path, pinned, now, WARN_DAYS).state == "invalid"
    assert canary.canary_status(path, None, now, WARN_DAYS).state == "invalid"


def test_a_bad_public_key_file_makes_the_status_invalid(
    tmp_path: Path, pair: canary.KeyPair, now: dt.datetime
) -> None:
    path = _publish(tmp_path, pair, now)
    bad = _public(tmp_path, b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    assert canary.canary_status(path, bad, now, WARN_DAYS).state == "invalid"
    assert canary.canary_status(path, tmp_path / "absent.pub", now, WARN_DAYS).state == "invalid"


def test_signing_needs_a_valid_period_and_statement(pair: canary.KeyPair, now: dt.datetime) -> None:
    key = canary.load_private_key(pair.private_pem, PASSPHRASE)
    with pytest.raises(ValueError):
        canary.sign_canary(key, "statement", now, 0)
    with pytest.raises(ValueError):
        canary.sign_canary(key, "  ", now, 30)
    with pytest.raises(ValueError):
        canary.sign_canary(key, "statement", now.replace(tzinfo=None), 30)
