"""Delivery of notices: e-mail over SMTP with STARTTLS, or a print-queue file (PRIV-10)."""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from core.errors import ReticentError
from core.security.network import is_loopback

SMTP_TIMEOUT_S = 30.0  # a stuck relay must not hang the daily job
PRINT_SEPARATOR = "\f\n"  # one notice per printed page
PRINT_QUEUE_MODE = 0o600  # the queue holds first names (PRIV-08: readable by the owner only)
PRINT_FOLDER_MODE = 0o700
PRINT_FILE_PREFIX = "notices-"


@dataclass(frozen=True)
class RenderedNotice:
    """A notice ready to send: subject and plain-text body."""

    subject: str
    body: str


class NoticeRefused(ReticentError):
    """The mail server refused one notice (for instance its recipient); the run goes on."""


class DeliveryError(ReticentError):
    """The mail server cannot be used; nothing of the run was recorded, so it can be retried."""


class NoticeTransport(Protocol):
    """Delivers notices by e-mail or to the print queue."""

    @property
    def can_email(self) -> bool: ...

    def email(self, recipient: str, notice: RenderedNotice) -> None: ...

    def print(self, notice: RenderedNotice) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpOptions:
    """How to reach the mail relay; STARTTLS is required unless turned off for a local relay."""

    host: str
    sender: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = None
    timeout_s: float = SMTP_TIMEOUT_S


def print_file(folder: Path, now: dt.datetime) -> Path:
    """The print file of the notice run at `now`: one file per run, never appended to later."""
    return folder / f"{PRINT_FILE_PREFIX}{now.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}.txt"


def print_files(folder: Path) -> list[Path]:
    """The print files in `folder`, oldest run first."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.name.startswith(PRINT_FILE_PREFIX) and path.is_file()
    )


def delete_old_print_files(folder: Path, now: dt.datetime, keep: dt.timedelta) -> int:
    """Delete print files older than `keep`: a printed notice is not a notice history
    (PRIV-10); only `sent_notices`, with the patron's consent, remembers one."""
    removed = 0
    for path in print_files(folder):
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        if modified < now - keep:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


class MailAndPrint:
    """E-mail over SMTP (one connection per run, opened on first use) and the run's print file
    (created mode 0600 on the first printed notice, in a folder of mode 0700)."""

    def __init__(self, smtp: SmtpOptions | None, print_queue: Path) -> None:
        self._options = smtp
        self._queue = print_queue
        self._smtp: smtplib.SMTP | None = None

    @property
    def can_email(self) -> bool:
        return self._options is not None

    def _connect(self, options: SmtpOptions) -> smtplib.SMTP:
        where = f"{options.host}:{options.port}"
        if not options.starttls and not is_loopback(options.host):
            # PRIV-08: notices name the patron; in clear only to a relay on this machine.
            raise DeliveryError(
                f"refusing plain SMTP to {where}: starttls = false is allowed only for a mail "
                "relay on this machine"
            )
        try:
            smtp = smtplib.SMTP(options.host, options.port, timeout=options.timeout_s)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"cannot reach the mail server {where}: {exc}") from None
        try:
            smtp.ehlo()
            if options.starttls:
                # PRIV-08: notices name the patron, so they never cross the network in clear.
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"the mail server {where} does not offer STARTTLS; refusing to send "
                        "(set starttls = false only for a relay on this machine)"
                    )
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if options.user is not None:
                smtp.login(options.user, options.password or "")
        except DeliveryError:
            smtp.close()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise DeliveryError(f"the mail server {where} failed: {type(exc).__name__}") from None
        return smtp

    def email(self, recipient: str, notice: RenderedNotice) -> None:
        options = self._options
        if options is None:
            raise DeliveryError("no mail server is configured")
        if self._smtp is None:
            self._smtp = self._connect(options)
        message = EmailMessage()
        message["From"] = options.sender
        message["To"] = recipient
        message["Subject"] = notice.subject
        message.set_content(notice.body)
        try:
            self._smtp.send_message(message)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPDataError,
        ) as exc:
            # The error names the address; only its kind is passed on (logs hold no contacts).
            raise NoticeRefused(f"the mail server refused a notice: {type(exc).__name__}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"the mail server failed: {type(exc).__name__}") from None

    def print(self, notice: RenderedNotice) -> None:
        self._queue.parent.mkdir(mode=PRINT_FOLDER_MODE, parents=True, exist_ok=True)
        fd = os.open(self._queue, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRINT_QUEUE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8") as queue:
            queue.write(f"{notice.subject}\n\n{notice.body.rstrip()}\n{PRINT_SEPARATOR}")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None
