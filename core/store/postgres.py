"""PostgreSQL engines for branches sharing one database: password from a file, TLS off loopback."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from core.errors import StoreError, WrongKeyError

DRIVER = "postgresql+psycopg"
REQUIRED_SSLMODE = "verify-full"  # PRIV-08: encrypted and the server's name checked
SCHEMA_MARKER_TABLE = "alembic_version"
CONNECT_TIMEOUT_S = 10
_LOOPBACK_NAMES = ("localhost",)


def parse_store_url(text: str) -> URL:
    """The `store.url` as a URL; refused when it is not PostgreSQL or carries a password.

    Messages say what is wrong with the value (callers name the setting) and never repeat
    the URL: a mistyped one may hold a password.
    """
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError("expected a database URL such as postgresql+psycopg://...") from None
    if url.drivername != DRIVER:
        raise StoreError(f"must start with {DRIVER}:// (the only shared store)")
    if url.password is not None:
        raise StoreError(
            "must not hold a password: put it in the file named by store.password_file"
        )
    if not url.database:
        raise StoreError("names no database (postgresql+psycopg://user@host/DATABASE)")
    return url


def _host(url: URL) -> str | None:
    query_host = url.query.get("host")
    if isinstance(query_host, tuple):
        query_host = query_host[0] if query_host else None
    return url.host or query_host


def is_local_transport(url: URL) -> bool:
    """A Unix socket (no host, or a folder) or a loopback address: nothing crosses a network."""
    host = _host(url)
    if host is None or host.startswith("/"):
        return True
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def transport_problem(url: URL) -> str | None:
    """Why this URL may not be used (PRIV-08), or None: off this machine TLS with a checked
    certificate (`sslmode=verify-full`) is required."""
    if is_local_transport(url):
        return None
    sslmode = url.query.get("sslmode")
    if sslmode == REQUIRED_SSLMODE:
        return None
    host = _host(url)
    return (
        f"the PostgreSQL server {host} is not on this machine: add "
        f"?sslmode={REQUIRED_SSLMODE} (and sslrootcert=...) to store.url"
    )


def describe(url: URL) -> str:
    """Where the store is, for messages: host (or socket) and database, never user or password."""
    host = _host(url) or "the local socket"
    return f"{host}/{url.database}"


def read_password(path: Path) -> str:
    """The database password from a file only its owner can read (or a systemd credential)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise StoreError(f"password file {path} does not exist") from None
    if mode & 0o077:
        raise StoreError(
            f"password file {path} has mode {mode:04o}; it must be readable by its owner only "
            f"(run: chmod 600 {path})"
        )
    text = path.read_text(encoding="utf-8").rstrip("\r\n")
    if not text:
        raise StoreError(f"password file {path} is empty")
    return text


def create_postgres_engine(url: URL, password: str | None, *, pool_size: int = 5) -> Engine:
    """An engine on a shared PostgreSQL database; refuses an unprotected network connection."""
    problem = transport_problem(url)
    if problem is not None:
        raise StoreError(problem)
    return create_engine(
        url.set(password=password) if password is not None else url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,  # a server restart must not fail the next request
        # Errors never carry bound values: they are names, barcodes and PIN hashes (PRIV-16).
        hide_parameters=True,
        connect_args={"application_name": "reticent", "connect_timeout": CONNECT_TIMEOUT_S},
    )


def _driver_line(error: DBAPIError) -> str:
    text = str(error.orig).strip().splitlines()
    return text[-1].strip() if text else type(error.orig).__name__


def has_schema(engine: Engine, url: URL) -> bool:
    """Whether the database holds a reticent schema; connection problems as one clear line."""
    try:
        with engine.connect() as conn:
            return inspect(conn).has_table(SCHEMA_MARKER_TABLE)
    except DBAPIError as exc:
        raise StoreError(
            f"cannot connect to the PostgreSQL store at {describe(url)}: {_driver_line(exc)}"
        ) from None


def check_postgres_store(engine: Engine, url: URL) -> None:
    """Refuse a database that is not a reticent store, touching nothing."""
    if not has_schema(engine, url):
        raise WrongKeyError(
            f"the PostgreSQL database {describe(url)} is not a reticent store; "
            "create one with `reticent init`"
        )
