"""Wiring: settings in, concrete objects out (the store, its environment, logging)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from config.settings import Settings
from core.security.secrets import Argon2Params
from core.store.open import StoreOptions, create_store, open_store
from core.store.uow import Store

STORE_PASSWORD_CREDENTIAL = "reticent-store-password"  # noqa: S105 (a systemd credential name)


def store_password_file(settings: Settings, environ: Mapping[str, str]) -> Path | None:
    """`store.password_file`, else the systemd credential when the service was given one."""
    if settings.store.password_file is not None:
        return settings.store.password_file
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if settings.store.url is not None and credentials:
        candidate = Path(credentials) / STORE_PASSWORD_CREDENTIAL
        if candidate.exists():
            return candidate
    return None


def store_options(settings: Settings, environ: Mapping[str, str] | None = None) -> StoreOptions:
    return StoreOptions(
        database=settings.database_path,
        key_file=settings.key_path,
        busy_timeout_ms=settings.store.busy_timeout_ms,
        synchronous=settings.store.synchronous,
        url=settings.store.url,
        password_file=store_password_file(settings, os.environ if environ is None else environ),
    )


def argon2_params(settings: Settings) -> Argon2Params:
    a = settings.security.argon2
    return Argon2Params(
        time_cost=a.time_cost,
        memory_cost_kib=a.memory_cost_kib,
        parallelism=a.parallelism,
        hash_len=a.hash_len,
        salt_len=a.salt_len,
    )


def build_store(
    settings: Settings,
    *,
    create: bool = False,
    migrate: bool = False,
    now: dt.datetime | None = None,
) -> Store:
    """Open (or with `create`, make) the encrypted store the settings describe."""
    options = store_options(settings)
    institution = settings.library.institution_id
    if create:
        moment = now if now is not None else dt.datetime.now(dt.UTC)
        return create_store(
            options, settings.circulation, argon2_params(settings), institution, now=moment
        )
    return open_store(
        options, settings.circulation, argon2_params(settings), institution, migrate=migrate
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line; callers never pass PINs, names or barcodes (PRIV-16)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level logger message key=value ...` for people reading a terminal or journal."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line += "".join(f" {k}={v}" for k, v in fields.items())
        return line


def configure_logging(settings: Settings, stream: TextIO = sys.stderr) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if settings.logging.format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.logging.level)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # schema checks at every start
