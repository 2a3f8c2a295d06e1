"""How the staff app writes dates and money, and reads amounts typed at the desk."""

from __future__ import annotations

import datetime as dt
import re

from core.policy.blocks import Block

_AMOUNT = re.compile(r"(\d{1,7})(?:[.,](\d{1,2}))?")

BLOCK_WORDS = {
    Block.EXPIRED: "card expired",
    Block.CARD_LOST: "card reported lost",
    Block.STAFF: "blocked by staff",
    Block.FEE_LIMIT: "fees at the limit",
    Block.TOO_MANY_OVERDUE: "too many overdue items",
    Block.TOO_MANY_LOANS: "loan limit reached",
}


def money(minor: int, currency: str) -> str:
    """Minor units as a two-decimal amount with the currency code: 1250 -> '12.50 USD'."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d} {currency}"


def parse_money(text: str) -> int:
    """An amount typed at the desk ('2', '2.5', '2,50') in minor units; ValueError otherwise."""
    found = _AMOUNT.fullmatch(text.strip())
    if found is None:
        raise ValueError("type an amount such as 2.50")
    whole, cents = found.group(1), (found.group(2) or "0").ljust(2, "0")
    return int(whole) * 100 + int(cents)


def day(moment: dt.datetime | dt.date | None) -> str:
    """A date as staff read it (ISO, unambiguous across locales)."""
    if moment is None:
        return "-"
    if isinstance(moment, dt.datetime):
        return moment.date().isoformat()
    return moment.isoformat()


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
