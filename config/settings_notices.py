"""Notice delivery and report settings (PRIV-10, PRIV-11)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

from config.loader import ConfigError
from core.privacy.notices import (
    DEFAULT_FEE,
    DEFAULT_HOLD_READY,
    DEFAULT_OVERDUE,
    NoticeTemplates,
    TemplateError,
)
from core.security.network import is_loopback


@dataclass(frozen=True)
class NoticesSettings:
    """Notices to patrons (hold ready, overdue, fees) and anonymous reports."""

    smtp_host: str | None = None
    smtp_port: int = 587
    starttls: bool = True
    smtp_user: str | None = None
    smtp_password_file: Path | None = None
    sender: str = "library@example.org"
    print_queue: Path | None = None
    print_keep_hours: int = 48
    template_hold_ready: str = DEFAULT_HOLD_READY
    template_overdue: str = DEFAULT_OVERDUE
    template_fee: str = DEFAULT_FEE
    report_k: int = 5

    EXAMPLES: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "smtp_host": "mail.example.org",
            "smtp_user": "reticent",
            "smtp_password_file": "/etc/reticent/smtp-password",
            "print_queue": "/var/lib/reticent/print-queue",
        }
    )
    COMMENTS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "smtp_host": "Mail server for e-mail notices; leave out to print every notice.",
            "smtp_port": "Port of the mail server (587 is the submission port).",
            "starttls": "Encrypt the connection; set false only for a mail relay on this machine.",
            "smtp_user": "User name at the mail server, if it asks for one.",
            "smtp_password_file": "File holding the mail server password (never the password).",
            "sender": "The From address of notices.",
            "print_queue": (
                "Folder of print files: one per notice run, mode 0600 (default: print-queue in\n"
                "data_dir). Print each file; it is deleted print_keep_hours after its run."
            ),
            "print_keep_hours": "Hours a print file is kept for printing before it is deleted.",
            "template_hold_ready": (
                "Hold-ready notice. First line: subject. Allowed: $first_name $count $library\n"
                "$contact. Never titles or barcodes (PRIV-10)."
            ),
            "template_overdue": "Overdue notice, same placeholders.",
            "template_fee": "Open fees notice, same placeholders.",
            "report_k": "Anonymous reports show counts under this number as <k (PRIV-11).",
        }
    )

    def __post_init__(self) -> None:
        # Templates are checked when the file is loaded, not when the first notice goes out.
        if self.smtp_host is not None and not self.starttls and not is_loopback(self.smtp_host):
            # PRIV-08: notices name patrons; plain SMTP only to a relay on this machine.
            raise ConfigError(
                "configuration",
                "notices.starttls",
                "may be false only for a mail relay on this machine",
            )
        if self.print_keep_hours < 1:
            raise ConfigError("configuration", "notices.print_keep_hours", "must be at least 1")
        if self.report_k < 2:
            raise ConfigError("configuration", "notices.report_k", "must be at least 2")
        try:
            self.templates()
        except TemplateError as exc:
            raise ConfigError("configuration", "notices", str(exc)) from None

    def templates(self) -> NoticeTemplates:
        return NoticeTemplates(
            hold_ready=self.template_hold_ready,
            overdue=self.template_overdue,
            fee=self.template_fee,
        )
