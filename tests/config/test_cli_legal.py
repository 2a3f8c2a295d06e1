"""`reticent legal`, `canary` and `breach` on a real instance (PRIV-12..15)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.config.cli_support import new_instance, run, set_option
from tests.conftest import NOW

OFFICER_PW = "olivia-password"
SECOND_PW = "peter-password"
PASSPHRASE = "a long package passphrase"
PATRONS = """barcode,given_name,family_name,category,expires_on,pin,email,phone
P1,Ada,Lovelace,adult,2030-01-01,,ada@example.org,
P2,Grace,Hopper,adult,2030-01-01,,,
"""


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    config = new_instance(tmp_path)
    for user, password in (("olivia", OFFICER_PW), ("peter", SECOND_PW)):
        code, _, err = run(
            config,
            "staff",
            "add",
            user,
            "--role",
            "privacy_officer",
            "--password-stdin",
            stdin=password + "\n",
        )
        assert code == 0, err
    patrons = tmp_path / "patrons.csv"
    patrons.write_text(PATRONS, encoding="utf-8")
    assert run(config, "import", "patrons", str(patrons))[0] == 0
    return config


def _as(user: str = "olivia") -> tuple[str, ...]:
    return ("--as", user, "--password-stdin")


def _record(config: Path) -> None:
    code, out, err = run(
        config,
        "legal",
        "record",
        *_as(),
        "--agency",
        "County Sheriff",
        "--instrument",
        "warrant",
        "--court",
        "District Court",
        "--case",
        "CR-17",
        "--patrons",
        "P1,P9",
        "--classes",
        "profile,loans",
        stdin=OFFICER_PW + "\n",
    )
    assert code == 0, err
    assert "recorded legal request 1" in out


def _disclose(config: Path, out_file: Path) -> tuple[int, str, str]:
    return run(
        config,
        "legal",
        "disclose",
        "1",
        *_as(),
        "--out",
        str(out_file),
        "--passphrase-stdin",
        stdin=f"{OFFICER_PW}\n{PASSPHRASE}\n",
    )


def test_record_review_disclose_decrypt_close(instance: Path, tmp_path: Path) -> None:
    _record(instance)
    package = tmp_path / "package.json"
    code, _, err = _disclose(instance, package)
    assert code == 1 and "approved" in err
    assert not package.exists()

    code, out, _ = run(
        instance,
        "legal",
        "review",
        "1",
        *_as(),
        "--approve",
        "--reason",
        "valid warrant",
        stdin=OFFICER_PW + "\n",
    )
    assert code == 0 and "approved" in out

    code, out, err = _disclose(instance, package)
    assert code == 0, err
    assert package.stat().st_mode & 0o777 == 0o600
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    assert digest in out
    assert "1 barcode(s) in the scope have no record here" in out
    assert b"Lovelace" not in package.read_bytes()

    code, text, _ = run(
        instance, "legal", "decrypt", str(package), "--passphrase-stdin", stdin=PASSPHRASE + "\n"
    )
    assert code == 0
    document = json.loads(text)
    assert [p["barcode"] for p in document["patrons"]] == ["P1"]
    assert "Lovelace" in text and "Hopper" not in text
    code, _, err = run(
        instance,
        "legal",
        "decrypt",
        str(package),
        "--passphrase-stdin",
        stdin="the wrong passphrase\n",
    )
    assert code == 1 and "passphrase" in err

    code, _, err = _disclose(instance, package)  # never overwrite a package handed over
    assert code == 2 and "exists" in err

    code, out, _ = run(instance, "legal", "list", *_as(), "--patrons", stdin=OFFICER_PW + "\n")
    assert code == 0
    assert "disclosed" in out and digest in out and "P1, P9" in out

    assert run(instance, "legal", "close", "1", *_as(), stdin=OFFICER_PW + "\n")[0] == 0
    code, _, err = _disclose(instance, tmp_path / "again.json")
    assert code == 1 and "closed" in err

    assert run(instance, "legal", "delete", "1", *_as(), stdin=OFFICER_PW + "\n")[0] == 0
    code, out, _ = run(instance, "legal", "list", *_as(), stdin=OFFICER_PW + "\n")
    assert code == 0 and "no legal requests" in out

    code, out, _ = run(instance, "audit", "verify")
    assert code == 0 and "intact" in out


def test_wrong_staff_password_is_refused(instance: Path) -> None:
    code, _, err = run(instance, "legal", "list", *_as(), stdin="not the password\n")
    assert code == 1 and "not accepted" in err


def test_two_person_review_from_the_configuration(instance: Path) -> None:
    set_option(instance, "two_person_review", "true")
    _record(instance)
    review = ("legal", "review", "1", "--approve", "--reason", "ok")
    code, out, _ = run(instance, *review, *_as(), stdin=OFFICER_PW + "\n")
    assert code == 0 and "second person" in out
    code, _, err = run(instance, *review, *_as(), stdin=OFFICER_PW + "\n")
    assert code == 1 and "another person" in err
    code, out, _ = run(instance, *review, *_as("peter"), stdin=SECOND_PW + "\n")
    assert code == 0 and "approved" in out


def test_canary_keygen_sign_status(instance: Path, tmp_path: Path) -> None:
    code, out, _ = run(instance, "canary", "status")
    assert code == 1 and "missing" in out

    key = tmp_path / "officer.key"
    code, out, err = run(
        instance,
        "canary",
        "keygen",
        "--out",
        str(key),
        "--passphrase-stdin",
        stdin=PASSPHRASE + "\n",
    )
    assert code == 0, err
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    public = Path(f"{key}.pub")
    assert b"PUBLIC KEY" in public.read_bytes()
    set_option(instance, "canary_warn_days", f'14\ncanary_public_key = "{public}"')

    sign = ("canary", "sign", "--key", str(key), "--valid-days", "30", "--passphrase-stdin")
    code, _, err = run(instance, *sign, stdin="the wrong passphrase\n")
    assert code == 1 and "passphrase" in err
    code, out, err = run(instance, *sign, stdin=PASSPHRASE + "\n")
    assert code == 0, err
    canary_file = instance.parent / "canary.json"
    assert canary_file.exists()

    code, out, _ = run(instance, "canary", "status")
    assert code == 0 and ": fresh" in out
    code, out, _ = run(instance, "canary", "status", now=NOW + dt.timedelta(days=20))
    assert code == 0 and ": expiring" in out and "reminder" in out
    code, out, _ = run(instance, "canary", "status", now=NOW + dt.timedelta(days=30))
    assert code == 1 and ": stale" in out

    code, out, _ = run(instance, "canary", "verify", str(canary_file), "--public-key", str(public))
    assert code == 0 and "fresh" in out
    canary_file.write_text(canary_file.read_text().replace("has not", "has"))
    code, out, _ = run(instance, "canary", "verify", str(canary_file))
    assert code == 1 and "invalid" in out


def test_breach_report(instance: Path) -> None:
    code, out, err = run(
        instance,
        "breach",
        "report",
        *_as(),
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-04",
        stdin=OFFICER_PW + "\n",
    )
    assert code == 0, err
    assert "patrons whose record existed: 2" in out
    assert re.search(r"contact details .*\s1$", out, re.MULTILINE)
    assert "purged" in out and "draft notice" in out
    for absent in ("P1", "Ada", "Lovelace", "Grace", "example.org"):
        assert absent not in out
    code, _, err = run(
        instance,
        "breach",
        "report",
        *_as(),
        "--from",
        "yesterday",
        "--to",
        "2026-03-04",
        stdin=OFFICER_PW + "\n",
    )
    assert code == 2 and "YYYY-MM-DD" in err
