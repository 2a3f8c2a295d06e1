"""The dispatcher: one step per request, login and PIN checks included (``Sip2Handlers.respond``).

The server hands each decoded request to ``respond`` with its two lanes: database work runs
on the one database lane (``DatabaseLane.transact``, which hands the unit of work over as a
parameter), argon2 on the hash lane, so a check never holds up database work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, TypeVarTuple

from core.security.secrets import Verification
from core.services.accounts import (
    TerminalCredentials,
    load_terminal,
    store_terminal_rehash,
    terminal_enabled,
)
from core.services.patrons import PinAttempt, begin_pin_attempt, finish_pin_attempt
from core.services.replays import find_replay, remember_replay, replay_key
from core.store.uow import Transactions
from sip2.codec import (
    SUPPORTED_MESSAGES_ORDER,
    ACSStatus,
    BlockPatron,
    Checkin,
    Checkout,
    EndPatronSession,
    FeePaid,
    Hold,
    ItemInformation,
    ItemStatusUpdate,
    Login,
    LoginResponse,
    Message,
    PatronEnable,
    PatronInformation,
    PatronStatusRequest,
    RemoteProtocolError,
    Renew,
    RenewAll,
    SCStatus,
)
from sip2.handlers import circulation, items, patron
from sip2.handlers._common import (
    MALFORMED,
    NOT_LOGGED_IN,
    PIN_INVALID,
    PIN_NEEDED,
    HandlerContext,
    HandlerOptions,
)
from sip2.handlers.circulation import title_of as _title_of
from sip2.handlers.profiles import BUILT_IN, FieldProfile
from sip2.handlers.refusals import negative_answer
from sip2.handlers.replays import applied, kept_form, restored, transaction_parts
from sip2.handlers.session import TerminalSession
from sip2.handlers.throttle import LoginThrottle

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

_UNSAFE = str.maketrans({"|": "/", "\r": " ", "\n": " "})


def _unsafe(text: str) -> bool:
    return "|" in text or "\r" in text or "\n" in text


def _clean(value: object) -> object:
    if isinstance(value, str):
        return value.translate(_UNSAFE)
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return tuple(v.translate(_UNSAFE) for v in value)
    return value


_FIELD_NAMES: dict[type[Message], tuple[str, ...]] = {}


def _field_names(message_type: type[Message]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(message_type)
    if names is None:
        fields = dataclasses.fields(message_type)
        names = _FIELD_NAMES[message_type] = tuple(f.name for f in fields if f.name != "extra")
    return names


def wire_safe(message: Message) -> Message:
    """Replace field delimiters and line breaks inside values (a title may hold "|")."""
    # Every answer passes here on the database thread: look first, copy only what needs it.
    changes: dict[str, Any] = {}
    for name in _field_names(type(message)):
        value = getattr(message, name)
        if isinstance(value, str):
            if _unsafe(value):
                changes[name] = value.translate(_UNSAFE)
        elif (
            isinstance(value, tuple)
            and value
            and all(isinstance(v, str) for v in value)
            and any(_unsafe(v) for v in value)
        ):
            changes[name] = _clean(value)
    if message.extra:
        extra = tuple((code, str(_clean(value))) for code, value in message.extra)
        if extra != message.extra:
            changes["extra"] = extra
    return dataclasses.replace(message, **changes) if changes else message


class DatabaseLane(Protocol):
    """The server's database lane (``sip2.server.DatabaseExecutor``)."""

    async def transact(
        self,
        fn: Callable[[Transactions, *Ts], T],
        *args: *Ts,
        reads_only: bool = False,
        before_commit: bool = False,
    ) -> T: ...


class HashLane(Protocol):
    """The server's argon2 pool (``sip2.server.HashWorkers``)."""

    async def run(self, fn: Callable[[*Ts], T], *args: *Ts) -> T: ...


@dataclass(frozen=True)
class Lanes:
    """Where ``respond`` runs its blocking steps."""

    database: DatabaseLane
    hashing: HashLane


Route = Callable[..., Message]

_ROUTES: Mapping[type[Message], Route] = {
    PatronStatusRequest: patron.patron_status_request,
    PatronInformation: patron.patron_information,
    EndPatronSession: patron.end_patron_session,
    BlockPatron: patron.block_patron,
    PatronEnable: patron.patron_enable,
    Checkout: circulation.checkout,
    Checkin: circulation.checkin,
    Renew: circulation.renew,
    RenewAll: circulation.renew_all,
    Hold: circulation.hold,
    FeePaid: circulation.fee_paid,
    ItemInformation: items.item_information,
    ItemStatusUpdate: items.item_status_update,
}
# Requests whose handlers only read: with several worker processes they run outside the turn
# the workers' write batches take (DatabaseExecutor.transact ``reads_only``).
_READS_ONLY: frozenset[type[Message]] = frozenset(
    {PatronStatusRequest, PatronInformation, ItemInformation}
)
# Requests that act for a patron or tell about one beyond the status flags: they need the
# patron's PIN as the terminal's ``patron_pin`` says (PRIV-16, TerminalSession.pin_proven).
PIN_GATED: frozenset[type[Message]] = frozenset({Checkout, Renew, RenewAll, Hold, FeePaid})
# BX must be truthful: every message of SIP2 2.00 is handled (97 by the codec, 93/99 here).
SUPPORTED = frozenset(SUPPORTED_MESSAGES_ORDER)


@dataclass(frozen=True)
class PinCheck:
    barcode: str
    pin: str
    attempt: PinAttempt
    outcome: Verification


class Sip2Handlers:
    """Everything the server asks of the application: ``respond`` to one request."""

    def __init__(self, ctx: HandlerContext) -> None:
        self.ctx = ctx
        self.profiles: Mapping[str, FieldProfile] = {**BUILT_IN, **(ctx.options.profiles or {})}
        self.throttle = LoginThrottle(ctx.options.login_limits)

    @property
    def options(self) -> HandlerOptions:
        return self.ctx.options

    async def respond(
        self, request: Message, session: TerminalSession, now: dt.datetime, lanes: Lanes
    ) -> Message:
        """The answer to one request, every step of it: login, PIN check, the request itself."""
        if isinstance(request, Login):
            return await self._login(request, session, now, lanes)
        if isinstance(request, SCStatus):
            if session.logged_in or self.options.status_before_login:
                return self.status(session, now)
            return negative_answer("99", None, self.options.institution_id, NOT_LOGGED_IN)
        kind = type(request)
        if not session.logged_in or kind not in _ROUTES:
            text = NOT_LOGGED_IN if not session.logged_in else MALFORMED
            return negative_answer(
                request.COMMAND, self.ctx.local(now), self.options.institution_id, text
            )
        check: PinCheck | None = None
        wanted = self.pin_to_check(request, session)
        if wanted is not None:
            barcode, pin = wanted
            # Counted (and the lock checked) before the hash runs (PRIV-09); the count goes to
            # the hash lane only, the answer comes from the next step, after its commit.
            attempt = await lanes.database.transact(
                self._begin_pin, barcode, now, before_commit=True
            )
            outcome = await lanes.hashing.run(
                self.ctx.store.env.hasher.verify, attempt.pin_hash, pin
            )
            check = PinCheck(barcode, pin, attempt, outcome)
        reads_only = kind in _READS_ONLY and (check is None or not check.outcome.ok)
        return await lanes.database.transact(
            self.handle, request, session, now, check, reads_only=reads_only
        )

    # -- login (93) ---------------------------------------------------------------------------
    async def _login(
        self, request: Login, session: TerminalSession, now: dt.datetime, lanes: Lanes
    ) -> Message:
        # Whatever came before, a login starts afresh (TerminalSession.log_out).
        session.log_out()
        login = request.login_user_id
        creds = await lanes.database.transact(self._load_login, login, reads_only=True)
        allowed = self.throttle.allows(login if creds else None, session.peer, now)
        stored = creds.password_hash if creds is not None and allowed else None
        # Unknown, refused or not: one argon2 check either way (SecretHasher.verify).
        outcome = await lanes.hashing.run(
            self.ctx.store.env.hasher.verify, stored, request.login_password
        )
        if not outcome.ok or creds is None:
            session.failed_logins += 1
            self.throttle.failed(login if creds else None, session.peer, now)
            return LoginResponse(ok=False)
        if outcome.new_hash is not None:  # the argon2 parameters changed: rehash (PRIV-09)
            await lanes.database.transact(self._rehash_login, login, outcome.new_hash)
        self.throttle.succeeded(login, session.peer)
        account = creds.account
        profile = self.profiles.get(account.profile, BUILT_IN["minimal"])
        mode = self.options.patron_pin.get(account.login, self.options.default_patron_pin)
        session.log_in(account, profile, self.options.default_branch, mode)
        return LoginResponse(ok=True)

    @staticmethod
    def _load_login(tx: Transactions, login: str) -> TerminalCredentials | None:
        with tx.read() as uow:
            return load_terminal(uow, login)

    @staticmethod
    def enabled_terminals(tx: Transactions, logins: frozenset[str]) -> frozenset[str]:
        """Which of these terminal logins may still be used (the others' sessions close)."""
        with tx.read() as uow:
            return frozenset(login for login in logins if terminal_enabled(uow, login))

    @staticmethod
    def _rehash_login(tx: Transactions, login: str, new_hash: str) -> None:
        with tx.write() as uow:
            store_terminal_rehash(uow, login, new_hash)

    # -- PIN checks ---------------------------------------------------------------------------
    def pin_to_check(self, request: Message, session: TerminalSession) -> tuple[str, str] | None:
        """(barcode, PIN) when the request carries a PIN this session has not yet seen pass."""
        pin = getattr(request, "patron_password", None)
        barcode = getattr(request, "patron_id", None)
        if not isinstance(pin, str) or not pin or not isinstance(barcode, str):
            return None
        if session.pin_known_good(barcode, pin):
            return None
        return barcode, pin

    @staticmethod
    def _begin_pin(tx: Transactions, barcode: str, now: dt.datetime) -> PinAttempt:
        with tx.write() as uow:
            return begin_pin_attempt(uow, now, barcode)

    # -- the request itself -------------------------------------------------------------------
    def status(self, session: TerminalSession, now: dt.datetime) -> ACSStatus:
        opts = self.options
        return ACSStatus(
            online_status=True,
            checkin_ok=True,
            checkout_ok=True,
            acs_renewal_policy=True,
            status_update_ok=True,
            offline_ok=False,
            timeout_period=opts.timeout_period,
            retries_allowed=opts.retries_allowed,
            date_time_sync=self.ctx.local(now),
            protocol_version="2.00",
            institution_id=opts.institution_id,
            library_name=opts.library_name,
            supported_messages=SUPPORTED,
            terminal_location=session.account.location if session.account else None,
        )

    def handle(
        self,
        tx: Transactions,
        request: Message,
        session: TerminalSession,
        now: dt.datetime,
        check: PinCheck | None,
    ) -> Message:
        """On the database lane: record the PIN check, then answer the request in one step."""
        if check is not None and check.outcome.ok:
            with tx.write() as uow:
                finish_pin_attempt(uow, now, check.attempt, check.outcome)
            session.remember_pin(check.barcode, check.pin)
        if type(request) in PIN_GATED and session.patron_pin != "not_required":
            proven = session.pin_proven(
                getattr(request, "patron_id", ""), getattr(request, "patron_password", None)
            )
            if proven is not True:
                return self.pin_refusal(request, now, proven)
        route = _ROUTES[type(request)]
        parts = transaction_parts(session, request)
        if parts is None:
            return wire_safe(route(self.ctx, tx, session, now, request))
        # A retry of a transaction already applied gets its first answer and changes nothing;
        # the answer is kept in the same transaction (the batch) as the change (docs/sip2.md).
        with tx.read() as uow:
            key = replay_key(uow, parts)
            kept = find_replay(uow, now, key)
        if kept is not None:
            title = _title_of(tx, session, now, getattr(request, "item_id", None) or "")
            return wire_safe(restored(kept, request, title))
        answer = wire_safe(route(self.ctx, tx, session, now, request))
        if applied(answer):
            with tx.write() as uow:
                remember_replay(uow, now, key, kept_form(answer))
        return answer

    def pin_refusal(self, request: Message, now: dt.datetime, proven: bool | None) -> Message:
        """The same refusal for every card, known or not, and every item (PRIV-16)."""
        text = PIN_NEEDED if proven is None else PIN_INVALID
        return negative_answer(
            request.COMMAND, self.ctx.local(now), self.options.institution_id, text
        )

    def answer_error(self, error: RemoteProtocolError, now: dt.datetime) -> Message:
        """A garbled request: 96 for damage in transit, else the matching refusal."""
        if error.wants_resend:
            return negative_answer(None, None, self.options.institution_id, MALFORMED)
        return negative_answer(
            error.command, self.ctx.local(now), self.options.institution_id, MALFORMED
        )
