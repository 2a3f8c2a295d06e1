"""`reticent install-service`: the systemd unit, the service user, its folders and the key."""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from config.cli._context import EXIT_OK, Context
from config.privacy_wiring import backup_folder
from config.settings import Settings
from core.security.keys import load_key

UNIT_NAME = "reticent.service"
BACKUP_UNITS = ("reticent-backup.service", "reticent-backup.timer")
ADMIN_NAME = "reticent-admin"
# The paths written in config/systemd/*; rendering replaces each with the installation's own.
SHIPPED_EXECUTABLE = "/opt/reticent/bin/reticent"
SHIPPED_CONFIG = "/etc/reticent/reticent.toml"
SHIPPED_DATA = "ReadWritePaths=/var/lib/reticent"
SHIPPED_CREDENTIAL = "/etc/credstore/reticent.key"
SHIPPED_USER = "User=reticent"
SHIPPED_GROUP = "Group=reticent"
DEFAULT_USER = "reticent"
# ProtectHome= hides these from the service: nothing it needs may live there.
HIDDEN_FROM_SERVICE = (Path("/home"), Path("/root"), Path("/run/user"))


@dataclass(frozen=True)
class Installation:
    """Where everything goes; ``root`` prefixes the system paths (``/`` on a real install)."""

    root: Path
    user: str
    executable: Path
    config: Path
    writable: tuple[Path, ...]  # the data folder first

    def system(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    @property
    def credential(self) -> Path:
        return self.system(SHIPPED_CREDENTIAL)

    def writable_entries(self) -> list[str]:
        """ReadWritePaths= entries: the data folder must exist; a backup folder on a USB stick
        that is not plugged in ("-") leaves it read-only instead of stopping the service."""
        data, *others = self.writable
        return [str(data), *(f"-{path}" for path in others)]

    def render(self, shipped: str) -> str:
        """A shipped file with this installation's paths and user."""
        text = shipped
        for old, new in (
            (SHIPPED_EXECUTABLE, str(self.executable)),
            (SHIPPED_CONFIG, str(self.config)),
            (SHIPPED_DATA, "ReadWritePaths=" + " ".join(self.writable_entries())),
            (SHIPPED_CREDENTIAL, str(self.credential)),
            (SHIPPED_USER, f"User={self.user}"),
            (SHIPPED_GROUP, f"Group={self.user}"),
        ):
            if old in text:
                text = text.replace(old, new)
        return text


def shipped_file(name: str) -> str:
    """The text of a file in config/systemd/ as installed with the package."""
    return (resources.files("config") / "systemd" / name).read_text(encoding="utf-8")


def writable_paths(settings: Settings) -> tuple[Path, ...]:
    """Every folder the service writes to: the data folder, then any kept elsewhere."""
    folders = [settings.data_dir, settings.database_path.parent, backup_folder(settings)]
    # The data folder comes first: it is the one that must exist (Installation.writable_entries).
    if settings.notices.print_queue is not None:
        folders.append(settings.notices.print_queue)  # the folder of print files
    unique: list[Path] = []
    for folder in folders:
        if not any(folder == kept or folder.is_relative_to(kept) for kept in unique):
            unique.append(folder)
    return tuple(unique)


def _refuse_hidden(what: str, path: Path) -> None:
    for hidden in HIDDEN_FROM_SERVICE:
        if path.is_relative_to(hidden):
            raise ValueError(
                f"{what} {path} is under {hidden}, which the service cannot see (ProtectHome=): "
                "install under /opt/reticent, data in /var/lib/reticent (docs/raspberry-pi.md)"
            )


def _executable(given: str | None) -> Path:
    if given is not None:
        return Path(given).absolute()
    beside = Path(sys.executable).parent / "reticent"
    if beside.is_file():
        return beside
    found = shutil.which("reticent")
    if found is None:
        raise ValueError("cannot find the `reticent` program: give --executable PATH")
    return Path(found).absolute()


def _ensure_user(name: str, home: Path, staging: bool) -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if staging:
            raise ValueError(f"no user {name!r}: with --root the user must exist") from None
        _system_command(
            "useradd", "--system", "--user-group", "--no-create-home",
            "--home-dir", str(home), "--shell", "/usr/sbin/nologin", name,
        )  # fmt: skip
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _system_command(program: str, *arguments: str) -> None:
    """Run a system tool found on PATH with fixed arguments; a failure stops the install."""
    found = shutil.which(program)
    if found is None:
        raise ValueError(f"`{program}` is not installed")
    subprocess.run([found, *arguments], check=True)  # noqa: S603 (fixed arguments, no shell)


def _own(path: Path, uid: int, gid: int, mode: int) -> None:
    os.chown(path, uid, gid)
    path.chmod(mode)


def _prepare_folders(install: Installation, uid: int, gid: int) -> None:
    """The service's folders belong to its user alone (PRIV-08), and so does what is in them."""
    for folder in install.writable:
        folder.mkdir(parents=True, exist_ok=True)
        _own(folder, uid, gid, 0o700)
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in dirnames:
                _own(Path(dirpath) / name, uid, gid, 0o700)
            for name in filenames:
                _own(Path(dirpath) / name, uid, gid, 0o600)
    # The configuration holds no secret (the key and SMTP password live elsewhere), but only
    # root should change it: root owns it, the service's group may read it.
    os.chown(install.config, 0, gid)
    install.config.chmod(0o640)


def _move_key(key_file: Path, credential: Path) -> str:
    """Put the key in the credential store (root only) and delete it from the data folder."""
    credential.parent.mkdir(parents=True, exist_ok=True)
    os.chown(credential.parent, 0, 0)
    credential.parent.chmod(0o700)
    if not key_file.exists():
        if credential.exists():
            load_key(credential)  # still a usable key
            return f"key already in {credential}"
        raise ValueError(f"no key file at {key_file} and none in {credential}")
    key = load_key(key_file)
    if credential.exists():
        if load_key(credential) != key:
            raise ValueError(
                f"{credential} holds a different key than {key_file}; nothing was changed"
            )
    else:
        staged = credential.with_name(credential.name + ".new")
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chown(staged, 0, 0)
        os.replace(staged, credential)
    if load_key(credential) != key:  # never delete the only copy of a key not safely stored
        raise ValueError(f"{credential} could not be written back as read; {key_file} kept")
    key_file.unlink()
    return f"key moved to {credential} (mode 0600, root only); {key_file} removed"


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    staged.write_text(text, encoding="utf-8")
    staged.chmod(mode)
    os.replace(staged, path)


def _systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def cmd_install_service(ctx: Context, args: argparse.Namespace) -> int:
    staging = args.root is not None
    if not staging and os.geteuid() != 0:
        raise ValueError("install-service must run as root (or stage the files with --root DIR)")
    config = ctx.config_path or (
        Path(ctx.environ["RETICENT_CONFIG"]) if ctx.environ.get("RETICENT_CONFIG") else None
    )
    if config is None:
        raise ValueError("name the configuration: reticent --config FILE install-service")
    settings = ctx.settings
    install = Installation(
        root=Path(args.root or "/").absolute(),
        user=args.user,
        executable=_executable(args.executable),
        config=config.absolute(),
        writable=writable_paths(settings),
    )
    _refuse_hidden("the program", install.executable)
    _refuse_hidden("the configuration", install.config)
    for folder in install.writable:
        _refuse_hidden("the data folder", folder)
    uid, gid = _ensure_user(install.user, settings.data_dir, staging)
    _prepare_folders(install, uid, gid)
    moved = _move_key(settings.key_path, install.credential)
    units = install.system("/etc/systemd/system")
    for name in (UNIT_NAME, *BACKUP_UNITS):
        _write(units / name, install.render(shipped_file(name)), 0o644)
    admin = install.system(f"/usr/local/sbin/{ADMIN_NAME}")
    _write(admin, install.render(shipped_file(ADMIN_NAME)), 0o755)
    ctx.out(f"wrote {units / UNIT_NAME} and the nightly backup ({', '.join(BACKUP_UNITS)})")
    ctx.out(f"wrote {admin} (runs a command as the service: {ADMIN_NAME} health)")
    ctx.out(moved)
    ctx.out(f"{install.user} owns " + ", ".join(str(p) for p in install.writable) + " (mode 0700)")
    if not staging and _systemd_running():
        _system_command("systemctl", "daemon-reload")
        _system_command("systemctl", "enable", UNIT_NAME, BACKUP_UNITS[1])
        ctx.out(f"enabled {UNIT_NAME} and {BACKUP_UNITS[1]}; start: systemctl start reticent")
    else:
        timer = BACKUP_UNITS[1]
        ctx.out(f"next: systemctl daemon-reload && systemctl enable --now reticent {timer}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "install-service",
        help="install the systemd service: unit, user, folder modes, key into the credential store",
    )
    p.add_argument("--user", default=DEFAULT_USER, help="the service's user (created if missing)")
    p.add_argument("--executable", help="the `reticent` program the unit runs (default: this one)")
    p.add_argument(
        "--root",
        help="write under this folder instead of / and do not touch systemd (for packaging)",
    )
    p.set_defaults(func=cmd_install_service)
