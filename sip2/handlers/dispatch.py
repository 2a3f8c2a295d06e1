"""The dispatcher: routes each request to its handler, with login and PIN checks around it.

Threading contract with the server: `handle`, `load_login`, `load_pin` and `record_pin` touch
the database and run on the one database executor; `verify_login` and `verify_pin` run argon2
and go to a separate worker pool so they never hold up database work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

from core.security.secrets import Verification
from core.services.accounts import TerminalCredentials, load_terminal
from core.services.patrons import PinCandidate, load_pin_candidate, record_pin_outcome
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
from sip2.handlers._common import MALFORMED, NOT_LOGGED_IN, HandlerContext, HandlerOptions
from sip2.handlers.profiles import BUILT_IN, FieldProfile
from sip2.handlers.refusals import negative_answer
from sip2.handlers.session import TerminalSession

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


Handler = Callable[[HandlerContext, TerminalSession, dt.datetime, Message], Message]

_ROUTES: Mapping[type[Message], Callable[..., Message]] = {
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
# Requests whose handlers only read (store.read()): with several worker processes they run
# outside the turn the workers' write batches take (DatabaseExecutor.run_read).
_READS_ONLY: frozenset[type[Message]] = frozenset(
    {SCStatus, PatronStatusRequest, PatronInformation, ItemInformation}
)
# BX must be truthful: every message of SIP2 2.00 is handled (97 by the codec, 93/99 here).
SUPPORTED = frozenset(SUPPORTED_MESSAGES_ORDER)


class Sip2Handlers:
    """Everything the server asks of the application, one method per step."""

    def __init__(self, ctx: HandlerContext) -> None:
        self.ctx = ctx
        self.profiles: Mapping[str, FieldProfile] = {**BUILT_IN, **(ctx.options.profiles or {})}
        # Logins verified with argon2 are remembered as a keyed hash bound to the stored hash, so
        # a password change or a different password always goes back to argon2.
        self._login_key = secrets.token_bytes(32)
        self._verified_logins: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def options(self) -> HandlerOptions:
        return self.ctx.options

    # -- login (93) ---------------------------------------------------------------------------
    def load_login(self, login: str) -> TerminalCredentials | None:
        with self.ctx.store.read() as uow:
            return load_terminal(uow, login)

    def _login_tag(self, creds: TerminalCredentials, password: str) -> bytes:
        material = f"{creds.account.login}\x00{creds.password_hash}\x00{password}".encode()
        return hmac.new(self._login_key, material, hashlib.sha256).digest()

    def login_cached(self, creds: TerminalCredentials | None, password: str) -> bool:
        if creds is None:
            return False
        with self._lock:
            known = self._verified_logins.get(creds.account.login)
        return known is not None and hmac.compare_digest(known, self._login_tag(creds, password))

    def verify_login(self, creds: TerminalCredentials | None, password: str) -> bool:
        """argon2: run off the event loop and off the database executor."""
        ok = self.ctx.store.env.hasher.verify(creds.password_hash if creds else None, password).ok
        if ok and creds is not None:
            with self._lock:
                self._verified_logins[creds.account.login] = self._login_tag(creds, password)
        return ok

    def complete_login(self, session: TerminalSession, creds: TerminalCredentials) -> LoginResponse:
        profile = self.profiles.get(creds.account.profile, BUILT_IN["minimal"])
        session.log_in(creds.account, profile, self.options.default_branch)
        return LoginResponse(ok=True)

    # -- PIN checks ---------------------------------------------------------------------------
    def pin_to_check(self, request: Message, session: TerminalSession) -> tuple[str, str] | None:
        """(barcode, PIN) when the request carries a PIN this session has not yet seen pass."""
        if not session.logged_in:
            return None
        pin = getattr(request, "patron_password", None)
        barcode = getattr(request, "patron_id", None)
        if not isinstance(pin, str) or not pin or not isinstance(barcode, str):
            return None
        if session.pin_known_good(barcode, pin):
            return None
        return barcode, pin

    def load_pin(self, barcode: str, now: dt.datetime) -> PinCandidate | None:
        with self.ctx.store.read() as uow:
            return load_pin_candidate(uow, now, barcode)

    def verify_pin(self, candidate: PinCandidate | None, pin: str) -> Verification:
        """argon2 (always run, so an unknown card costs the same time as a known one)."""
        if candidate is None or candidate.locked:
            self.ctx.store.env.hasher.verify(None, pin)
            return Verification(ok=False)
        return self.ctx.store.env.hasher.verify(candidate.pin_hash, pin)

    def record_pin(
        self,
        session: TerminalSession,
        barcode: str,
        pin: str,
        candidate: PinCandidate | None,
        outcome: Verification,
        now: dt.datetime,
    ) -> None:
        if candidate is None or candidate.locked:
            return
        if outcome.ok:
            session.remember_pin(barcode, pin)
        with self.ctx.store.write() as uow:
            record_pin_outcome(
                uow, now, candidate.patron_id, valid=outcome.ok, new_hash=outcome.new_hash
            )

    # -- everything else ----------------------------------------------------------------------
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

    def reads_only(self, request: Message) -> bool:
        """Whether ``handle(request, ...)`` only reads the store (see ``_READS_ONLY``)."""
        return type(request) in _READS_ONLY

    def handle(self, request: Message, session: TerminalSession, now: dt.datetime) -> Message:
        """The answer to one request (not 93, which needs the steps above)."""
        if isinstance(request, SCStatus):
            if session.logged_in or self.options.status_before_login:
                return self.status(session, now)
            return negative_answer("99", None, self.options.institution_id, NOT_LOGGED_IN)
        if isinstance(request, Login):
            return LoginResponse(ok=False)  # the server runs logins itself
        route = _ROUTES.get(type(request))
        if not session.logged_in or route is None:
            text = NOT_LOGGED_IN if not session.logged_in else MALFORMED
            return negative_answer(
                request.COMMAND, self.ctx.local(now), self.options.institution_id, text
            )
        return wire_safe(route(self.ctx, session, now, request))

    def answer_error(self, error: RemoteProtocolError, now: dt.datetime) -> Message:
        """A garbled request: 96 for damage in transit, else the matching refusal."""
        if error.wants_resend:
            return negative_answer(None, None, self.options.institution_id, MALFORMED)
        return negative_answer(
            error.command, self.ctx.local(now), self.options.institution_id, MALFORMED
        )
