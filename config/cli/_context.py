"""What every command receives: settings, streams, the clock, and error-to-exit-code mapping."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from config.bootstrap import build_store
from config.settings import CONFIG_ENV_VAR, Settings, load_settings
from core.errors import StoreError
from core.services.accounts import authenticate_staff
from core.services.actors import Actor
from core.store.uow import Store

EXIT_OK = 0
EXIT_REFUSED = 1  # a domain refusal, a failed import, no such patron
EXIT_SETUP = 2  # configuration, key or store problems; usage errors


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Context:
    """Per-invocation state of the command line."""

    config_path: Path | None
    environ: Mapping[str, str]
    stdout: TextIO = sys.stdout
    stderr: TextIO = sys.stderr
    stdin: TextIO = sys.stdin
    clock: Callable[[], dt.datetime] = utc_now
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path, self.environ)
        return self._settings

    def require_instance(self) -> None:
        """Refuse at once, with what to do, when the settings point at no instance at all."""
        settings = self.settings
        if settings.store.url is not None:
            return
        if settings.database_path.exists() or settings.key_path.exists():
            return  # a half-present instance is reported by the store with the exact file
        if self.config_path is None and not self.environ.get(CONFIG_ENV_VAR):
            raise StoreError("no instance here: run `reticent init` or set RETICENT_CONFIG")
        raise StoreError(
            f"no instance in {settings.data_dir} (no {settings.database_path.name} and no "
            f"{settings.key_path.name} there): run `reticent init` first"
        )

    @contextmanager
    def store(self, *, migrate: bool = False) -> Iterator[Store]:
        self.require_instance()
        opened = build_store(self.settings, migrate=migrate)
        try:
            yield opened
        finally:
            opened.close()

    def check_store(self) -> None:
        """Open and close the store once: a bad key or database is reported here, with no work
        started."""
        self.require_instance()
        build_store(self.settings).close()

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(f"reticent: {text}", file=self.stderr)

    def staff(self, store: Store, username: str) -> Actor | None:
        """The staff member acting; the password is the next line of standard input (PRIV-05)."""
        actor = authenticate_staff(store, self.clock(), username, self.read_secret())
        if actor is None:
            self.err("staff user name or password not accepted")
        return actor

    def read_secret(self) -> str:
        """One line from standard input (passwords never come from arguments: `ps` shows those)."""
        line = self.stdin.readline()
        secret = line.rstrip("\r\n")
        if not secret:
            raise ValueError("no password on standard input")
        return secret
