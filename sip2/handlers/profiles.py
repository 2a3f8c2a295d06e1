"""Terminal field profiles: what personal data a terminal may see, and only after a valid PIN."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.services.views import PatronView

# PRIV-16: the extra fields a custom profile may add, each listed explicitly. Fields we do not
# hold (BD home address, PB birth date) can never be sent, whatever a profile says.
EXTRA_FIELDS: Mapping[str, str] = {
    "BE": "e-mail address",
    "BF": "phone number",
    "PA": "card expiry date",
    "PC": "patron category",
}


@dataclass(frozen=True)
class FieldProfile:
    """What a terminal is shown about an authenticated patron."""

    name: str
    personal_name: Literal["first", "full"] = "first"
    extra_fields: frozenset[str] = frozenset()

    def name_of(self, patron: PatronView) -> str:
        if self.personal_name == "full":
            return f"{patron.given_name} {patron.family_name}".strip()
        return patron.given_name

    def extras_of(self, patron: PatronView) -> tuple[tuple[str, str], ...]:
        """The extra fields this profile adds, in a fixed order, skipping empty values."""
        values = {
            "BE": patron.email or "",
            "BF": patron.phone or "",
            "PA": patron.expires_on.strftime("%Y%m%d"),
            "PC": patron.category,
        }
        return tuple((code, values[code]) for code in sorted(self.extra_fields) if values.get(code))


MINIMAL = FieldProfile("minimal")  # the default: first name only, after a valid PIN
NAMED = FieldProfile("named", personal_name="full")
BUILT_IN: Mapping[str, FieldProfile] = {"minimal": MINIMAL, "named": NAMED}


def custom_profile(
    name: str, base: Literal["minimal", "named"], extra: tuple[str, ...]
) -> FieldProfile:
    """A configured profile; unknown field codes are refused rather than silently sent."""
    unknown = sorted(set(extra) - set(EXTRA_FIELDS))
    if unknown:
        raise ValueError(f"profile {name!r}: fields {', '.join(unknown)} cannot be sent")
    return FieldProfile(name, BUILT_IN[base].personal_name, frozenset(extra))
