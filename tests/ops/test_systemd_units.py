"""The systemd unit and `reticent install-service`: verified by systemd's own tools."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from config.bootstrap import build_store
from config.cli.service import (
    SHIPPED_CONFIG,
    SHIPPED_CREDENTIAL,
    SHIPPED_DATA,
    SHIPPED_EXECUTABLE,
    SHIPPED_GROUP,
    SHIPPED_USER,
    shipped_file,
)
from config.settings import load_settings
from core.security.keys import load_key
from tests.config.cli_support import new_instance, run, set_option

# .ci/run installs systemd when the machine lacks it: these tests always run.
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
ACCEPTABLE_EXPOSURE = ("PERFECT", "SAFE", "OK")
HARDENING = (
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "NoNewPrivileges=yes",
    "CapabilityBoundingSet=\n",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "SystemCallFilter=@system-service",
    "LoadCredential=reticent.key:",
    "Type=notify",
    "WatchdogSec=",
)


def me() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def reticent_program() -> Path:
    program = Path(sys.executable).parent / "reticent"
    assert program.is_file(), "the package's console script"
    return program


def install(tmp_path: Path, config: Path | None = None) -> tuple[Path, Path, Path]:
    """An instance installed under a staging root: config, root, data folder."""
    config = config or new_instance(tmp_path)
    root = tmp_path / "root"
    code, out, err = run(
        config,
        "install-service",
        "--root",
        str(root),
        "--user",
        me(),
        "--executable",
        str(reticent_program()),
    )
    assert code == 0, err
    assert "key moved to" in out
    return config, root, config.parent


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None, "install systemd (apt-get install systemd), as .ci/run does"
    return subprocess.run(
        [SYSTEMD_ANALYZE, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_shipped_unit_names_every_path_install_service_replaces() -> None:
    unit = shipped_file("reticent.service")
    for shipped in (
        SHIPPED_EXECUTABLE,
        SHIPPED_CONFIG,
        SHIPPED_DATA,
        SHIPPED_CREDENTIAL,
        SHIPPED_USER,
        SHIPPED_GROUP,
    ):
        assert shipped in unit, shipped
    for directive in HARDENING:
        assert directive in unit, directive
    admin = shipped_file("reticent-admin")
    for shipped in (SHIPPED_EXECUTABLE, SHIPPED_CONFIG, SHIPPED_CREDENTIAL, SHIPPED_USER):
        assert shipped in admin, shipped


def test_the_installed_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    _, root, data = install(tmp_path)
    unit = root / "etc/systemd/system/reticent.service"
    text = unit.read_text()
    assert f"ExecStart={reticent_program()} serve" in text
    assert f"ReadWritePaths={data}\n" in text  # the data folder only (backups live inside it)
    assert f"LoadCredential=reticent.key:{root}/etc/credstore/reticent.key" in text
    assert f"User={me()}" in text
    backup = unit.with_name("reticent-backup.service")
    assert f"ExecStart={reticent_program()} backup" in backup.read_text()
    timer = unit.with_name("reticent-backup.timer")
    result = analyze("verify", str(unit), str(backup), str(timer))
    assert result.returncode == 0, result.stderr
    assert "reticent" not in result.stderr, result.stderr  # no complaint about any of them


def test_a_backup_folder_elsewhere_may_be_absent(tmp_path: Path) -> None:
    config = new_instance(tmp_path)
    stick = tmp_path / "media" / "backup-stick"
    set_option(config, "batch_size", f'5000\nbackup_dir = "{stick}"')
    _, root, data = install(tmp_path, config)
    for name in ("reticent.service", "reticent-backup.service"):
        text = (root / "etc/systemd/system" / name).read_text()
        assert f"ReadWritePaths={data} -{stick}\n" in text


def test_the_unit_scores_ok_or_better_in_systemd_analyze_security(tmp_path: Path) -> None:
    _, root, _ = install(tmp_path)
    unit = root / "etc/systemd/system/reticent.service"
    result = analyze("security", "--offline=true", str(unit))
    assert result.returncode == 0, result.stderr
    overall = r"Overall exposure level for reticent\.service: ([\d.]+) (\w+)"
    found = re.search(overall, result.stdout)
    assert found is not None, result.stdout
    assert found.group(2) in ACCEPTABLE_EXPOSURE, found.group(0)
    assert float(found.group(1)) < 2.0


def test_install_moves_the_key_into_the_credential_store(tmp_path: Path) -> None:
    config = new_instance(tmp_path)
    settings = load_settings(config, {})
    key = load_key(settings.key_path)
    config, root, data = install(tmp_path, config)
    credential = root / "etc/credstore/reticent.key"
    assert not settings.key_path.exists()  # moved, not copied
    assert stat.S_IMODE(credential.stat().st_mode) == 0o600
    assert stat.S_IMODE(credential.parent.stat().st_mode) == 0o700
    assert credential.stat().st_uid == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(settings.database_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert load_key(credential) == key
    # What systemd hands the service: the store opens with the credential alone.
    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    shutil.copy(credential, credentials / "reticent.key")
    (credentials / "reticent.key").chmod(0o400)
    build_store(load_settings(config, {"CREDENTIALS_DIRECTORY": str(credentials)})).close()
    admin = root / "usr/local/sbin/reticent-admin"
    assert os.access(admin, os.X_OK)
    assert str(credential) in admin.read_text()
    assert subprocess.run(["sh", "-n", str(admin)], check=False).returncode == 0


def test_install_again_keeps_the_stored_key_and_refuses_a_different_one(tmp_path: Path) -> None:
    config, root, _ = install(tmp_path)
    again = ("install-service", "--root", str(root), "--user", me())
    code, out, err = run(config, *again, "--executable", str(reticent_program()))
    assert code == 0, err
    assert "key already in" in out
    # A new key file beside a stored key for the same store: refuse, lose nothing.
    key_file = load_settings(config, {}).key_path
    key_file.write_text("ab" * 32 + "\n")
    key_file.chmod(0o600)
    code, _, err = run(config, *again, "--executable", str(reticent_program()))
    assert code == 2 and "different key" in err
    assert key_file.exists()


def test_install_refuses_a_program_the_service_could_not_see(tmp_path: Path) -> None:
    config = new_instance(tmp_path)
    root = tmp_path / "root"
    code, _, err = run(
        config, "install-service", "--root", str(root), "--user", me(),
        "--executable", "/home/someone/.venv/bin/reticent",
    )  # fmt: skip
    assert code == 2 and "ProtectHome" in err
    assert load_settings(config, {}).key_path.exists()  # nothing was moved
