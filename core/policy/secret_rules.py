"""Rules for new secrets: minimum password lengths and what a PIN may be (PRIV-09)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

# The longest PIN any rule may allow: patrons may choose a passphrase, not an essay.
MAX_PIN_LENGTH = 64
# Characters a generated password is drawn from: no look-alikes (0/O, 1/l/I), easy to type.
GENERATED_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# Default minimum lengths (PRIV-09): staff type theirs daily; a terminal's is typed once at setup.
STAFF_PASSWORD_MIN = 12
TERMINAL_PASSWORD_MIN = 16


class WeakSecret(ValueError):
    """A new password or PIN does not meet the configured rule; the message never holds it."""


@dataclass(frozen=True)
class PasswordRule:
    """How long a new staff or terminal password must be (PRIV-09)."""

    min_length: int

    @property
    def label(self) -> str:
        """The rule as stored beside each secret set under it, so audits can find older ones."""
        return f"min{self.min_length}"

    def covers(self, label: str | None) -> bool:
        """Whether a secret set under the rule `label` meets this rule (None: set before rules)."""
        if label is None or not label.startswith("min") or not label[3:].isdigit():
            return False
        return int(label[3:]) >= self.min_length

    def problem(self, password: str) -> str | None:
        if len(password) < self.min_length:
            return f"must be at least {self.min_length} characters long, got {len(password)}"
        return None

    def require(self, password: str, what: str) -> None:
        problem = self.problem(password)
        if problem is not None:
            raise WeakSecret(f"{what} refused: {problem}")


@dataclass(frozen=True)
class PinRule:
    """What a new patron PIN may be: its length, digits only or not, obvious ones refused."""

    min_length: int = 4
    max_length: int = MAX_PIN_LENGTH
    digits_only: bool = False  # true for PIN pads that have only digits
    refuse_obvious: bool = True

    @property
    def label(self) -> str:
        """The rule as stored beside each PIN set under it (see `PasswordRule.label`)."""
        kind = "digits" if self.digits_only else "any"
        obvious = "-obvious" if self.refuse_obvious else ""
        return f"{kind}{self.min_length}-{self.max_length}{obvious}"

    def problem(self, pin: str) -> str | None:
        """Why `pin` is refused, in words that never repeat it; None when it is acceptable."""
        if not self.min_length <= len(pin) <= self.max_length:
            return f"must be {self.min_length} to {self.max_length} characters long"
        if self.digits_only and not (pin.isascii() and pin.isdigit()):
            return "must be digits only"
        if not pin.isprintable() or pin != pin.strip():
            return "must not hold control characters, nor start or end with a space"
        if self.refuse_obvious and is_obvious_pin(pin):
            return "is too easy to guess (one repeated sign, or a run such as 1234 or 9876)"
        return None

    def require(self, pin: str, what: str = "PIN") -> None:
        problem = self.problem(pin)
        if problem is not None:
            raise WeakSecret(f"{what} refused: {problem}")


def is_obvious_pin(pin: str) -> bool:
    """One sign repeated (0000, 1111) or a run up or down (1234, 6789, 9876, 0123)."""
    if len(set(pin)) == 1:
        return True
    codes = [ord(char) for char in pin]
    steps = {b - a for a, b in itertools.pairwise(codes)}
    return steps in ({1}, {-1})


DEFAULT_STAFF_RULE = PasswordRule(STAFF_PASSWORD_MIN)
DEFAULT_TERMINAL_RULE = PasswordRule(TERMINAL_PASSWORD_MIN)
