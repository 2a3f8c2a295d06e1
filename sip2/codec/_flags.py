"""Fixed-width flag strings of SIP2: patron status (14), summary (10), supported messages (BX)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

PATRON_STATUS_LENGTH: Final = 14
SUMMARY_LENGTH: Final = 10
_YES: Final = ("Y", "y")

# BX positions, in the order SIP2 2.00 lists them.
SUPPORTED_MESSAGES_ORDER: Final = (
    "23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25", "15", "29", "65",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True, repr=False)
class PatronStatus:
    """The 14 patron status flags of 24, 26 and 64, in wire order.

    True is written "Y" (the restriction applies), False a blank. Kiosks act on these flags,
    so set them truthfully and no others.
    """

    charge_privileges_denied: bool = False
    renewal_privileges_denied: bool = False
    recall_privileges_denied: bool = False
    hold_privileges_denied: bool = False
    card_reported_lost: bool = False
    too_many_items_charged: bool = False
    too_many_items_overdue: bool = False
    too_many_renewals: bool = False
    too_many_claims_of_items_returned: bool = False
    too_many_items_lost: bool = False
    excessive_outstanding_fines: bool = False
    excessive_outstanding_fees: bool = False
    recall_overdue: bool = False
    too_many_items_billed: bool = False

    def __repr__(self) -> str:
        return _repr_set_flags(self)

    def to_wire(self) -> str:
        """Return the 14-character field."""
        values = self.__dict__
        return "".join(["Y" if values[name] else " " for name in _PATRON_STATUS_NAMES])

    @classmethod
    def from_wire(cls, text: str) -> PatronStatus:
        """Read the field: "Y" (any case) sets a flag, anything else clears it."""
        return cls(**_flags_from_wire(cls, text))


@dataclass(frozen=True, kw_only=True, repr=False)
class Summary:
    """The summary field of 63: which item list the kiosk asks for (one at a time, per spec)."""

    hold_items: bool = False  # AS
    overdue_items: bool = False  # AT
    charged_items: bool = False  # AU
    fine_items: bool = False  # AV
    recall_items: bool = False  # BU
    unavailable_holds: bool = False  # CD

    def __repr__(self) -> str:
        return _repr_set_flags(self)

    def to_wire(self) -> str:
        """Return the 10-character field ("Y" at each requested position, blanks elsewhere)."""
        values = self.__dict__
        flags = "".join(["Y" if values[name] else " " for name in _SUMMARY_NAMES])
        return flags.ljust(SUMMARY_LENGTH)

    @classmethod
    def from_wire(cls, text: str) -> Summary:
        """Read the field: "Y" (any case) in positions 1-6 requests the matching list."""
        return cls(**_flags_from_wire(cls, text))


# Flag names in wire order, read once: to_wire runs for every 24 and 64 answer.
_PATRON_STATUS_NAMES: Final = tuple(flag.name for flag in fields(PatronStatus))
_SUMMARY_NAMES: Final = tuple(flag.name for flag in fields(Summary))


def _repr_set_flags(flags: PatronStatus | Summary) -> str:
    # Fourteen "=False" pairs hide the one flag that matters; show only those set.
    named = ", ".join(f"{flag.name}=True" for flag in fields(flags) if getattr(flags, flag.name))
    return f"{type(flags).__name__}({named})"


def _flags_from_wire(flag_type: type[PatronStatus | Summary], text: str) -> dict[str, bool]:
    names = _PATRON_STATUS_NAMES if issubclass(flag_type, PatronStatus) else _SUMMARY_NAMES
    return {name: text[i : i + 1] in _YES for i, name in enumerate(names)}


def supported_messages_to_wire(commands: frozenset[str]) -> str:
    """Write BX: "Y" for each command in ``commands``, "N" for the others, in spec order."""
    return "".join("Y" if command in commands else "N" for command in SUPPORTED_MESSAGES_ORDER)


def supported_messages_from_wire(text: str) -> frozenset[str]:
    """Read BX into the set of supported command codes; missing positions mean "N"."""
    return frozenset(
        command
        for index, command in enumerate(SUPPORTED_MESSAGES_ORDER)
        if text[index : index + 1] in _YES
    )
