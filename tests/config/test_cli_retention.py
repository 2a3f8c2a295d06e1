"""`reticent purge`, `backup`, `restore` and `rekey` on a real instance (PRIV-07, PRIV-08)."""

from __future__ import annotations

import datetime as dt
import os
import pty
import select as fd_select
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from config.bootstrap import build_store
from config.privacy_wiring import retention_rules
from config.settings import load_settings
from config.settings_retention import RetentionSettings
from core.model import Patron
from core.policy.retention import RetentionRules
from tests.config.cli_support import run
from tests.conftest import add_patron

RETICENT = str(Path(sys.executable).with_name("reticent"))


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    data = tmp_path / "inst"
    assert run(None, "init", "--data-dir", str(data))[0] == 0
    return data / "reticent.toml"  # nothing here hashes a secret: default argon2 costs are fine


def add(config: Path, barcode: str, given: str, expires_on: dt.date) -> None:
    store = build_store(load_settings(config, {}))
    try:
        add_patron(store, barcode, given=given, expires_on=expires_on)
    finally:
        store.close()


def barcodes(config: Path) -> list[str]:
    store = build_store(load_settings(config, {}))
    try:
        with store.read() as uow:
            return sorted(uow.session.scalars(select(Patron.barcode)))
    finally:
        store.close()


def test_settings_convert_to_rules_and_bad_values_are_refused() -> None:
    assert retention_rules(RetentionSettings()) == RetentionRules()
    assert retention_rules(RetentionSettings(sent_notice_days=7)).sent_notice_days == 7
    with pytest.raises(ValueError, match="batch_size"):
        retention_rules(RetentionSettings(batch_size=0))
    with pytest.raises(ValueError, match="daily_hour"):
        retention_rules(RetentionSettings(daily_hour=24))


def test_purge_dry_run_counts_names_nobody_then_purge_removes(instance: Path) -> None:
    add(instance, "CLI-SECRET-1", "Wilhelmina-Cli-Marker", dt.date(2022, 1, 1))
    add(instance, "CLI-KEPT-1", "Kept", dt.date(2030, 1, 1))
    code, out, _ = run(instance, "purge", "--dry-run")
    assert code == 0 and "expired or inactive patrons: 1" in out and "would remove" in out
    for secret in ("CLI-SECRET-1", "Wilhelmina", "CLI-KEPT-1", "Kept"):
        assert secret not in out
    assert barcodes(instance) == ["CLI-KEPT-1", "CLI-SECRET-1"]
    code, out, _ = run(instance, "purge")
    assert code == 0 and "expired or inactive patrons: 1" in out and "CLI-SECRET-1" not in out
    assert barcodes(instance) == ["CLI-KEPT-1"]


def test_backup_restore_and_rekey(instance: Path) -> None:
    data = instance.parent
    add(instance, "GONE", "Gone", dt.date(2022, 1, 1))
    code, out, _ = run(instance, "backup")
    assert code == 0 and "encrypted" in out
    [made] = list((data / "backups").iterdir())
    assert made.stat().st_mode & 0o777 == 0o600
    assert run(instance, "purge")[0] == 0

    code, out, err = run(instance, "restore", str(made))
    assert code == 0, err
    assert "removed again: 1" in out and "GONE" not in out
    assert barcodes(instance) == []

    key_before = (data / "reticent.key").read_bytes()
    code, out, err = run(instance, "rekey")  # no terminal, no --yes: nothing happens
    assert code == 1 and "--yes" in err and "nothing was changed" in out
    assert "1 backup(s) made with it" in out and "reticent.key.retired" in out
    assert (data / "reticent.key").read_bytes() == key_before
    code, out, _ = run(instance, "rekey", "--yes")
    assert code == 0 and "rotated" in out
    assert not (data / "reticent.key.old").exists()
    # The backup made before the rotation restores as it is (PRIV-07, PRIV-08).
    add(instance, "AFTER", "After", dt.date(2030, 1, 1))
    code, out, err = run(instance, "restore", str(made))
    assert code == 0, err
    assert barcodes(instance) == []


def test_rekey_asks_at_a_terminal(instance: Path) -> None:
    """The confirmation is typed on a real pseudo-terminal."""
    data = instance.parent
    before = (data / "reticent.key").read_bytes()
    for answer, rotated in ((b"n\n", False), (b"y\n", True)):
        primary, secondary = pty.openpty()
        try:
            child = subprocess.Popen(
                [RETICENT, "--config", str(instance), "rekey"],
                stdin=secondary,
                stdout=secondary,
                stderr=secondary,
                close_fds=True,
            )
            os.close(secondary)
            seen = b""
            while b"[y/N]" not in seen:
                ready, _, _ = fd_select.select([primary], [], [], 30)
                assert ready, seen
                seen += os.read(primary, 4096)
            os.write(primary, answer)
            assert child.wait(timeout=60) == (0 if rotated else 1)
        finally:
            os.close(primary)
        changed = (data / "reticent.key").read_bytes() != before
        assert changed is rotated


def test_backup_refuses_to_overwrite_and_restore_a_missing_file(
    instance: Path, tmp_path: Path
) -> None:
    target = tmp_path / "b.db"
    assert run(instance, "backup", str(target))[0] == 0
    code, _, err = run(instance, "backup", str(target))
    assert code == 1 and "already exists" in err
    code, _, err = run(instance, "restore", str(tmp_path / "missing.db"))
    assert code == 1 and "no backup" in err
