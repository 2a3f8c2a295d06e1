"""Shared pieces of the handlers: code tables, money, local dates, the handler context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from core.policy.blocks import PatronStatusFlags
from core.policy.reasons import REASON_TEXT, Reason
from core.store.uow import Store
from sip2.codec import PatronStatus
from sip2.handlers.profiles import FieldProfile
from sip2.handlers.session import PatronPin
from sip2.handlers.throttle import LoginLimits

# docs/sip2.md, "Value sets": our media type names and the three-digit CK codes kiosks expect.
MEDIA_CODES: Mapping[str, str] = {
    "other": "000",
    "book": "001",
    "magazine": "002",
    "bound_journal": "003",
    "audio": "004",
    "video": "005",
    "cd": "006",
    "diskette": "007",
    "book_with_diskette": "008",
    "book_with_cd": "009",
    "book_with_audio": "010",
}
MAGNETIC_MEDIA = frozenset({"audio", "video", "diskette", "book_with_diskette", "book_with_audio"})

# docs/sip2.md, "Value sets", circulation status.
CIRCULATION_STATUS: Mapping[str, str] = {
    "available": "03",
    "on_loan": "04",
    "in_process": "06",
    "on_hold_shelf": "08",
    "in_transit": "10",
    "lost": "12",
    "missing": "13",
    "withdrawn": "01",
}

PAYMENT_TYPES: Mapping[str, str] = {"00": "cash", "01": "visa", "02": "credit_card"}

# Alert types (CV) that sorters and book drops understand.
ALERT_HOLD_HERE = "01"
ALERT_HOLD_ELSEWHERE = "02"
ALERT_TRANSIT = "04"


@dataclass(frozen=True)
class HandlerOptions:
    """Values from configuration that shape answers."""

    library_name: str = "Reticent Demo Library"
    institution_id: str = "main"
    currency: str = "USD"
    language: str = "001"
    timezone: str = "UTC"
    default_branch: str = "main"
    status_before_login: bool = True
    timeout_period: int = 999  # tenths of a second the terminal may wait (98); 999 = unknown
    retries_allowed: int = 3
    security_marker: str = "02"  # 02 tattle-tape; 00 other (RFID, set by the kiosk)
    item_list_limit: int = 50  # item list entries sent when BP/BQ do not say
    profiles: Mapping[str, FieldProfile] | None = None
    offline_terminals: frozenset[str] = frozenset()  # logins whose "no block" is honoured
    # What terminals must show before acting for a patron, by login (TerminalSession.PatronPin).
    patron_pin: Mapping[str, PatronPin] = field(default_factory=dict)
    default_patron_pin: PatronPin = "required"
    login_limits: LoginLimits = field(default_factory=LoginLimits)


@dataclass(frozen=True)
class HandlerContext:
    """What every handler needs: the store and the options."""

    store: Store
    options: HandlerOptions

    def local(self, moment: dt.datetime | None) -> dt.datetime | None:
        """Library-local, naive: SIP2 dates with four blanks for the zone are local time."""
        if moment is None:
            return None
        return moment.astimezone(ZoneInfo(self.options.timezone)).replace(tzinfo=None)

    def money(self, minor_units: int) -> str:
        return f"{Decimal(minor_units) / 100:.2f}"


def parse_money(text: str) -> int | None:
    """Minor units from a SIP2 amount like "2.50"; None when it is not a positive amount."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0:
        return None
    minor = amount * 100
    if minor != minor.to_integral_value():
        return None
    return int(minor)


def patron_status(flags: PatronStatusFlags) -> PatronStatus:
    return PatronStatus(
        **{name: getattr(flags, name) for name in PatronStatus.__dataclass_fields__}
    )


def denied_status() -> PatronStatus:
    """All privileges denied: the status of a card we do not know."""
    return PatronStatus(
        charge_privileges_denied=True,
        renewal_privileges_denied=True,
        recall_privileges_denied=True,
        hold_privileges_denied=True,
    )


def reason_text(reason: Reason) -> str:
    return REASON_TEXT.get(reason, "Request refused, please see staff.")


NOT_LOGGED_IN = "Terminal not logged in."
MALFORMED = "Request not understood."
PIN_INVALID = reason_text(Reason.PIN_INVALID)
PIN_NEEDED = "Please enter your PIN."
