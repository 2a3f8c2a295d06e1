"""Per-connection SIP2 state above the codec: the terminal, its actor and the verified PIN."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from core.services.accounts import TerminalAccount
from core.services.actors import Actor, terminal_actor
from sip2.handlers.profiles import MINIMAL, FieldProfile


@dataclass
class TerminalSession:
    """What one connection knows: who logged in, and which patron proved their PIN.

    Kiosks send the PIN (AD) with every request of a patron session. The first check runs
    argon2; after that the session remembers a keyed hash of the PIN that passed, under a key
    that never leaves this object, so the next requests cost no argon2 (PRIV-09: the PIN itself
    is not kept).
    """

    account: TerminalAccount | None = None
    actor: Actor | None = None
    profile: FieldProfile = MINIMAL
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _verified: tuple[str, bytes] | None = field(default=None, repr=False)

    @property
    def logged_in(self) -> bool:
        return self.account is not None

    def log_in(self, account: TerminalAccount, profile: FieldProfile, default_branch: str) -> None:
        self.account = account
        self.actor = terminal_actor(account.login, account.location or default_branch)
        self.profile = profile

    def _tag(self, barcode: str, pin: str) -> bytes:
        return hmac.new(self._key, f"{barcode}\x00{pin}".encode(), hashlib.sha256).digest()

    def remember_pin(self, barcode: str, pin: str) -> None:
        self._verified = (barcode, self._tag(barcode, pin))

    def pin_known_good(self, barcode: str, pin: str) -> bool:
        if self._verified is None or self._verified[0] != barcode:
            return False
        return hmac.compare_digest(self._verified[1], self._tag(barcode, pin))

    def end_patron_session(self) -> None:
        self._verified = None
