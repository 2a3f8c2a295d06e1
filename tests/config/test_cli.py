"""The `reticent` command line on a real instance: init, wrong key, imports, circulation."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.config.cli_support import new_instance, run, write


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return new_instance(tmp_path)


ITEMS = """barcode,title,author,isbn,call_number,media_type,location
I1,Dune,"Herbert, Frank",,PS 1,book,stacks
I2,Emma,"Austen, Jane",,PR 2,book,stacks
"""
PATRONS = """barcode,given_name,family_name,category,expires_on,pin,email,phone
P1,Ada,Lovelace,adult,2030-01-01,8642,,
P2,Grace,Hopper,adult,2030-01-01,,,
"""


def test_init_creates_a_private_instance_and_refuses_to_overwrite(tmp_path: Path) -> None:
    data = tmp_path / "inst"
    assert run(None, "init", "--data-dir", str(data))[0] == 0
    assert (data / "reticent.key").stat().st_mode & 0o777 == 0o600
    assert (data / "reticent.db").stat().st_mode & 0o777 == 0o600  # from the start
    code, _, err = run(None, "init", "--data-dir", str(data))
    assert code == 2 and "refusing to overwrite" in err


def test_wrong_key_says_so_exits_2_and_touches_nothing(instance: Path) -> None:
    data = instance.parent
    db = data / "reticent.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    (data / "reticent.key").write_text(os.urandom(32).hex())
    code, _, err = run(instance, "item", "show", "I1")
    assert code == 2 and "key" in err
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_imports_and_circulation(instance: Path, tmp_path: Path) -> None:
    code, out, _ = run(instance, "import", "items", str(write(tmp_path / "i.csv", ITEMS)))
    assert code == 0 and "imported 2 items" in out
    code, out, _ = run(instance, "import", "patrons", str(write(tmp_path / "p.csv", PATRONS)))
    assert code == 0 and "imported 2 patrons" in out
    code, out, _ = run(instance, "checkout", "P1", "I1")
    assert code == 0 and "checked out I1" in out
    code, out, _ = run(instance, "patron", "show", "P1")
    assert code == 0 and "Ada Lovelace" in out and "loans     1" in out
    assert "8642" not in out and "argon2" not in out  # PRIV-09: never the PIN or its hash
    code, _, err = run(instance, "checkout", "P1", "I1")  # already hers: not a silent renewal
    assert code == 1 and "P1 already has I1" in err and "`reticent renew I1`" in err
    code, out, _ = run(instance, "patron", "show", "P1")
    assert "loans     1" in out
    code, out, _ = run(instance, "renew", "I1")
    assert code == 0 and "renewed I1 (1)" in out
    code, out, _ = run(instance, "checkin", "I1")
    assert code == 0 and "checked in I1" in out
    code, _, err = run(instance, "checkout", "P9", "I1")
    assert code == 1 and "not recognised" in err
    code, out, _ = run(instance, "audit", "verify")
    assert code == 0 and "intact" in out


def test_bad_row_in_the_middle_writes_nothing(instance: Path, tmp_path: Path) -> None:
    rows = PATRONS + "P3,Alan,Turing,nosuch,2030-01-01,1357,,\nP4,Ida,Rhodes,adult,2030-01-01,,,\n"
    code, _, err = run(instance, "import", "patrons", str(write(tmp_path / "p.csv", rows)))
    assert code == 1 and "line 4" in err and "nothing was written" in err
    assert "1357" not in err  # the PIN of the bad row is not echoed
    code, _, _ = run(instance, "patron", "show", "P1")
    assert code == 1  # the good rows before it were not written either


def test_staff_and_terminal_accounts_read_passwords_from_stdin(instance: Path) -> None:
    code, out, _ = run(
        instance,
        "staff",
        "add",
        "bob",
        "--role",
        "circulation",
        "--password-stdin",
        stdin="s3cret-pass-phrase\n",
    )
    assert code == 0 and "s3cret" not in out
    code, out, _ = run(
        instance,
        "sip-account",
        "add",
        "kiosk9",
        "--institution",
        "main",
        "--password-stdin",
        stdin="kiosk-pass-long-enough\n",
    )
    assert code == 0 and "profile minimal" in out
    code, _, err = run(
        instance,
        "sip-account",
        "add",
        "kiosk8",
        "--institution",
        "main",
        "--profile",
        "chatty",
        "--password-stdin",
        stdin="x\n",
    )
    assert code == 2 and "unknown field profile" in err


def test_bad_configuration_names_file_and_key(tmp_path: Path) -> None:
    config = write(tmp_path / "bad.toml", "[sip2]\nidle_timeout = 5\n")
    code, _, err = run(config, "item", "show", "I1")
    assert code == 2 and "bad.toml" in err and "sip2.idle_timeout" in err
