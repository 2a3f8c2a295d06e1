"""Per-connection SIP2 state above the codec: the login, its actor, and the patron's PIN."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Final, Literal

from core.services.accounts import TerminalAccount
from core.services.actors import Actor, terminal_actor
from sip2.handlers.profiles import MINIMAL, FieldProfile

# What a terminal must show before 11, 29, 65, 15 and 37 act for a patron or tell about one
# (PRIV-16, docs/data-inventory.md "SIP2 terminals"):
# - "required": the request itself carries the patron's valid PIN (AD);
# - "session": the request carries it, or the same patron proved it earlier in this SIP2
#   session (until 35 End Patron Session, another patron's PIN, a new login or the patron
#   idle timeout);
# - "not_required": no PIN is asked for (a wrong one is still refused).
PatronPin = Literal["required", "session", "not_required"]
PATRON_PIN_MODES: Final[tuple[PatronPin, ...]] = ("required", "session", "not_required")


@dataclass
class TerminalSession:
    """What one connection knows: who logged in, and which patron proved their PIN.

    This is the one owner of the login state of a connection (the codec only frames). Kiosks
    send the PIN (AD) with the requests of a patron session. The first check runs argon2;
    after that the session remembers a keyed hash of the PIN that passed, under a key that
    never leaves this object, so the next requests cost no argon2 (PRIV-09: the PIN itself is
    not kept).
    """

    peer: str = "?"
    account: TerminalAccount | None = None
    actor: Actor | None = None
    profile: FieldProfile = MINIMAL
    patron_pin: PatronPin = "required"
    failed_logins: int = 0
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _verified: tuple[str, bytes] | None = field(default=None, repr=False)

    @property
    def logged_in(self) -> bool:
        return self.account is not None

    @property
    def login(self) -> str | None:
        return self.account.login if self.account is not None else None

    def log_in(
        self,
        account: TerminalAccount,
        profile: FieldProfile,
        default_branch: str,
        patron_pin: PatronPin,
    ) -> None:
        self.account = account
        self.actor = terminal_actor(account.login, account.location or default_branch)
        self.profile = profile
        self.patron_pin = patron_pin
        self.failed_logins = 0

    def log_out(self) -> None:
        """A new 93 starts afresh: a failed re-login leaves no terminal and no PIN signed in."""
        self.account = None
        self.actor = None
        self.profile = MINIMAL
        self.patron_pin = "required"
        self._verified = None

    def _tag(self, barcode: str, pin: str) -> bytes:
        return hmac.new(self._key, f"{barcode}\x00{pin}".encode(), hashlib.sha256).digest()

    def remember_pin(self, barcode: str, pin: str) -> None:
        self._verified = (barcode, self._tag(barcode, pin))

    def pin_known_good(self, barcode: str, pin: str) -> bool:
        if self._verified is None or self._verified[0] != barcode:
            return False
        return hmac.compare_digest(self._verified[1], self._tag(barcode, pin))

    def pin_proven(self, barcode: str, pin: str | None) -> bool | None:
        """Whether the patron proved a PIN for this request (see ``PatronPin``).

        None: no PIN given and none that counts; False: a PIN given and wrong (checked before
        the handler ran); True: proven.
        """
        if pin:
            return self.pin_known_good(barcode, pin)
        if self.patron_pin == "session" and self._verified is not None:
            return True if self._verified[0] == barcode else None
        return None

    def end_patron_session(self) -> None:
        self._verified = None
