"""Wiring of the privacy jobs from settings: retention rules, backup folder, notice delivery."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

from config.settings import Settings
from config.settings_retention import RetentionSettings
from core.errors import StoreError
from core.policy.retention import RetentionRules
from core.privacy.delivery import MailAndPrint, SmtpOptions, print_file
from core.privacy.notices import NoticeOptions
from core.privacy.purge import BACKUP_DIR_NAME, MAX_BATCH_SIZE

PRINT_QUEUE_NAME = "print-queue"
CANARY_NAME = "canary.json"
HOURS_PER_DAY = 24


def retention_rules(section: RetentionSettings) -> RetentionRules:
    """The `[retention]` section as the core's value type (the core never reads config)."""
    if not 1 <= section.batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"retention.batch_size must be between 1 and {MAX_BATCH_SIZE}")
    if not 0 <= section.daily_hour < HOURS_PER_DAY:
        raise ValueError("retention.daily_hour must be between 0 and 23")
    return RetentionRules(
        reading_history_inactive_years=section.reading_history_inactive_years,
        settled_fee_days=section.settled_fee_days,
        sent_notice_days=section.sent_notice_days,
        expired_patron_years=section.expired_patron_years,
        inactive_patron_years=section.inactive_patron_years,
        audit_event_years=section.audit_event_years,
    )


def backup_folder(settings: Settings) -> Path:
    """`retention.backup_dir`, or `backups` in the data folder."""
    return settings.retention.backup_dir or settings.data_dir / BACKUP_DIR_NAME


def _smtp_password(settings: Settings) -> str | None:
    path = settings.notices.smtp_password_file
    if path is None:
        return None
    # PRIV-08: like the store key, the mail password file must be readable by its owner only.
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise StoreError(f"{path} has mode {mode:04o}; run chmod 600 {path}")
    return path.read_text(encoding="utf-8").strip()


def print_folder(settings: Settings) -> Path:
    """`notices.print_queue`, or `print-queue` in the data folder."""
    return settings.notices.print_queue or settings.data_dir / PRINT_QUEUE_NAME


def notice_transport(settings: Settings, now: dt.datetime) -> MailAndPrint:
    """The delivery the [notices] section describes; printed notices of the run at `now` go
    to a file of their own in the print folder (PRIV-10)."""
    notices = settings.notices
    smtp = None
    if notices.smtp_host is not None:
        smtp = SmtpOptions(
            host=notices.smtp_host,
            port=notices.smtp_port,
            starttls=notices.starttls,
            user=notices.smtp_user,
            password=_smtp_password(settings),
            sender=notices.sender,
        )
    return MailAndPrint(smtp, print_file(print_folder(settings), now))


def notice_options(settings: Settings, *, dry_run: bool = False) -> NoticeOptions:
    return NoticeOptions(
        library=settings.library.name,
        contact=settings.library.contact,
        templates=settings.notices.templates(),
        dry_run=dry_run,
    )


def canary_file(settings: Settings) -> Path:
    """`privacy.canary_file`, or `canary.json` in the data folder."""
    return settings.privacy.canary_file or settings.data_dir / CANARY_NAME
