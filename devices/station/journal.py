"""The station's queue on disk: every scan is written before it is sent, every answer before
it leaves the queue, so a restart loses none and sends none twice (docs/devices.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

Source = Literal["scanner", "rfid"]
JOURNAL_NAME: Final = "queue.jsonl"
# Rewrite the file once this many answered entries have piled up and nothing is waiting.
COMPACT_AFTER: Final = 1000


class QueueFull(Exception):
    """The queue holds its limit of scans waiting for the server."""


class JournalError(Exception):
    """The queue file cannot be read or written; the message says which and why."""


@dataclass(frozen=True)
class QueuedScan:
    """One checkin waiting to be sent: never changed once written, so a resend is identical.

    ``scanned_at`` is the SIP2 transaction date (UTC, whole seconds) and ``sequence`` the AY
    digit: the server recognises a resend by terminal, item and transaction date.
    """

    number: int
    item_id: str
    scanned_at: dt.datetime
    source: Source
    parts: int = 1

    @property
    def sequence(self) -> int:
        return self.number % 10


class Journal:
    """An append-only file of ``add`` and ``done`` lines, synced to disk after each write.

    Holds item barcodes and times only, never a patron (PRIV-16).
    """

    def __init__(self, directory: Path, limit: int) -> None:
        self.path = directory / JOURNAL_NAME
        self.limit = limit
        self._pending: dict[int, QueuedScan] = {}
        self._next = 1
        self._answered = 0
        self._forget = False
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._replay()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as error:
            raise JournalError(f"{self.path}: {error.strerror}") from None

    def pending(self) -> list[QueuedScan]:
        """The scans waiting, oldest first."""
        return [self._pending[number] for number in sorted(self._pending)]

    def add(self, item_id: str, now: dt.datetime, source: Source, parts: int = 1) -> QueuedScan:
        if len(self._pending) >= self.limit:
            raise QueueFull(f"{self.limit} scans are waiting already")
        scan = QueuedScan(
            self._next, item_id, now.astimezone(dt.UTC).replace(microsecond=0), source, parts
        )
        self._write(
            {
                "add": scan.number,
                "item": scan.item_id,
                "at": scan.scanned_at.isoformat(),
                "source": scan.source,
                "parts": scan.parts,
            }
        )
        self._next += 1
        self._pending[scan.number] = scan
        return scan

    def done(self, scan: QueuedScan, outcome: str, *, forget: bool = False) -> None:
        """Record the server's answer; only then does the scan leave the queue.

        ``forget`` rewrites the file as soon as nothing waits: the barcode was unknown to
        the server and may be a patron's card (PRIV-16), so it does not stay on disk.
        """
        self._write({"done": scan.number, "outcome": outcome})
        self._pending.pop(scan.number, None)
        self._answered += 1
        self._forget = self._forget or forget
        if not self._pending and (self._forget or self._answered >= COMPACT_AFTER):
            self._compact()

    def close(self) -> None:
        os.close(self._fd)

    def _write(self, record: dict[str, object]) -> None:
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        try:
            os.write(self._fd, line)
            os.fdatasync(self._fd)
        except OSError as error:
            raise JournalError(f"{self.path}: {error.strerror}") from None

    def _replay(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        highest = 0
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                record = json.loads(line)
                if "add" in record:
                    scan = QueuedScan(
                        int(record["add"]),
                        str(record["item"]),
                        dt.datetime.fromisoformat(record["at"]),
                        "rfid" if record.get("source") == "rfid" else "scanner",
                        int(record.get("parts", 1)),
                    )
                    self._pending[scan.number] = scan
                    highest = max(highest, scan.number)
                elif "done" in record:
                    self._pending.pop(int(record["done"]), None)
                    self._answered += 1
            except (ValueError, KeyError, TypeError):
                if number == len(text.splitlines()) and not text.endswith("\n"):
                    continue  # the last line was cut by a crash mid-write: it never counted
                raise JournalError(f"{self.path}: line {number} is damaged") from None
        self._next = highest + 1

    def _compact(self) -> None:
        """Start a fresh file; the numbers go on, so AY digits keep cycling."""
        temporary = self.path.with_suffix(".new")
        marker = json.dumps({"add": self._next - 1, "item": "", "at": "1970-01-01T00:00:00+00:00"})
        done = json.dumps({"done": self._next - 1, "outcome": "numbering"})
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, (marker + "\n" + done + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, self.path)
            os.close(self._fd)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND, 0o600)
        except OSError as error:
            raise JournalError(f"{self.path}: {error.strerror}") from None
        self._answered = 0
        self._forget = False
