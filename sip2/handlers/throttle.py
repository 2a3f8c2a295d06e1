"""Failed SIP2 terminal logins, limited per account and per source address (not per connection)."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Final

# Accounts and addresses remembered at most; beyond it the oldest are forgotten, so a flood of
# addresses costs bounded memory (and at worst forgets an old failure).
MAX_TRACKED: Final = 10_000


@dataclass(frozen=True)
class LoginLimits:
    """Failed logins allowed within ``window``: per terminal account, per source address.

    Over the account limit the account refuses logins (even with the right password) from
    addresses it has not been logged in from before, so guessing from elsewhere does not lock
    out the kiosks already using it; over the address limit the address is refused. A refused
    login costs the same argon2 check as any other (SecretHasher.verify).
    """

    per_account: int = 10
    per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)


class LoginThrottle:
    """Counts failed logins in memory, in this process (each worker process has its own)."""

    def __init__(self, limits: LoginLimits) -> None:
        self.limits = limits
        self._failures: OrderedDict[str, deque[dt.datetime]] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()

    def _recent(self, key: str, now: dt.datetime) -> int:
        times = self._failures.get(key)
        if times is None:
            return 0
        while times and times[0] <= now - self.limits.window:
            times.popleft()
        return len(times)

    def allows(self, account: str | None, address: str, now: dt.datetime) -> bool:
        """Whether a login for ``account`` (None: unknown) from ``address`` may be checked."""
        if self._recent(f"address\x00{address}", now) >= self.limits.per_address:
            return False
        if account is None or (account, address) in self._known:
            return True
        return self._recent(f"account\x00{account}", now) < self.limits.per_account

    def failed(self, account: str | None, address: str, now: dt.datetime) -> None:
        keys = [f"address\x00{address}"]
        if account is not None:
            keys.append(f"account\x00{account}")
        for key in keys:
            times = self._failures.pop(key, None) or deque()
            times.append(now)
            self._failures[key] = times  # most recent last
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)

    def succeeded(self, account: str, address: str) -> None:
        self._known.pop((account, address), None)
        self._known[(account, address)] = None
        while len(self._known) > MAX_TRACKED:
            self._known.popitem(last=False)
