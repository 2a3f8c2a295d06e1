"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a Unix socket and a
loopback port, run as an unprivileged user, with one migrated template database to clone."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"  # initdb refuses root; the distribution's package creates this user
SUPERUSER = "postgres"
START_TIMEOUT_S = 60


def _binary_dir() -> Path | None:
    """Where initdb lives: on PATH, else the distribution's versioned folder (newest first)."""
    found = shutil.which("initdb")
    if found is not None:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def available() -> bool:
    """Whether a PostgreSQL server can be started here (its binaries are installed)."""
    return _binary_dir() is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    """A running server: where its socket is, its loopback port, and its tools."""

    root: Path
    socket_dir: Path
    port: int
    bin_dir: Path

    def url(self, database: str, *, user: str = SUPERUSER) -> str:
        """A URL over the Unix socket (no password: local trust for the test superuser)."""
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}&port={self.port}"

    def tcp_url(self, database: str, *, user: str) -> str:
        """A URL over loopback TCP, where the server asks for a password (scram-sha-256)."""
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL as the superuser over the socket; its output."""
        done = subprocess.run(
            [
                self.tool("psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def dump(self, database: str) -> str:
        """The plain SQL dump of a database, as a database administrator would take it."""
        done = subprocess.run(
            [
                self.tool("pg_dump"),
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "--no-owner",
                database,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", SERVER_USER, "--", *argv]


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    """Start a fresh cluster (fsync off: it is thrown away) and stop it when done."""
    bin_dir = _binary_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="reticent-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        server = pwd.getpwnam(SERVER_USER)
        for path in (root, sockets):
            os.chown(path, server.pw_uid, server.pw_gid)
    root.chmod(0o755)  # the test process (another user when root) reaches the socket
    port = _free_port()
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield Cluster(root=root, socket_dir=sockets, port=port, bin_dir=bin_dir)
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


class Databases:
    """Fresh databases cloned from one migrated template (cheaper than migrating each)."""

    def __init__(self, cluster: Cluster, template: str) -> None:
        self.cluster = cluster
        self.template = template
        self._count = 0

    def fresh(self) -> str:
        """A new database with the schema at head and no instance row yet; its name."""
        self._count += 1
        name = f"t{os.getpid()}_{self._count}_{int(time.monotonic() * 1000) % 100000}"
        # FILE_COPY copies the template's few files (fsync is off) instead of logging each page.
        self.cluster.psql(
            f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY'
        )
        return name

    def drop(self, name: str) -> None:
        self.cluster.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
