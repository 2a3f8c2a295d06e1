"""One SIP2 connection on the server: read, decode, answer each request in order, log it.

Logging (PRIV-03, PRIV-16): lines carry a connection number, the peer address, the terminal's
login, command codes, outcomes and durations. Never a PIN, a password, a patron barcode, a name
or an item id: with no item ids at all, no line can put a patron next to an item.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import trio

from sip2._server_settings import Listener, ServerLimits
from sip2._server_workers import DatabaseExecutor, HashWorkers
from sip2.codec import (
    CONNECTION_CLOSED,
    NEED_DATA,
    Connection,
    Login,
    LoginResponse,
    Message,
    RemoteProtocolError,
    Replay,
    RequestACSResend,
    RequestSCResend,
)
from sip2.handlers import Sip2Handlers, TerminalSession
from sip2.handlers.refusals import negative_answer

log = logging.getLogger("reticent.sip2")

# One read takes at most this many bytes; the codec bounds a line at MAX_MESSAGE_BYTES, so a
# slow or hostile client costs a fixed amount of memory.
RECEIVE_SIZE: Final = 4096
# Closing a TLS stream writes close_notify; a peer that never reads must not stall us.
CLOSE_TIMEOUT_S: Final = 1.0
FAILED_TEXT: Final = "Request failed, please see staff."
_OK_FLAGS: Final = ("ok", "payment_accepted", "item_properties_ok", "end_session")


@dataclass
class ServerState:
    """What every connection of one server shares."""

    handlers: Sip2Handlers
    limits: ServerLimits
    clock: Callable[[], dt.datetime]
    database: DatabaseExecutor
    hashing: HashWorkers
    draining: bool = False
    open: set[Conversation] = field(default_factory=set)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        # Group commit goes through the store the handlers write to (see DatabaseExecutor).
        if self.database.store is None:
            self.database.bind(self.handlers.ctx.store)

    def drain(self) -> None:
        """Shutdown: idle connections close now, busy ones after their answer is written."""
        self.draining = True
        for conversation in list(self.open):
            conversation.stop_if_idle()


def fields(**values: object) -> dict[str, dict[str, object]]:
    """``extra=`` for a structured log line (config/bootstrap.py prints ``record.fields``)."""
    return {"fields": values}


def where(error: BaseException) -> str:
    """The innermost source line of an exception, without its message (which may hold data)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def outcome_of(response: Message) -> str:
    if isinstance(response, RequestSCResend):
        return "resend"
    for name in _OK_FLAGS:
        value = getattr(response, name, None)
        if isinstance(value, bool):
            return "ok" if value else "refused"
    return "answered"


def peer_of(stream: trio.abc.Stream) -> str:
    inner = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    if not isinstance(inner, trio.SocketStream):
        return "?"
    try:
        address = inner.socket.getpeername()
    except OSError:
        return "?"
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


class Conversation:
    """The requests and answers of one connection, one at a time (SIP2 has no pipelining)."""

    def __init__(
        self, state: ServerState, stream: trio.abc.Stream, listener: Listener, number: int
    ) -> None:
        self.state = state
        self.stream = stream
        self.listener = listener
        self.number = number
        self.conn = Connection("acs", listener.codec)
        self.session = TerminalSession()
        self.terminal: str | None = None
        self.requests = 0
        self._idle_scope: trio.CancelScope | None = None

    def stop_if_idle(self) -> None:
        if self._idle_scope is not None:
            self._idle_scope.cancel()

    async def run(self) -> str:
        """Answer until the peer leaves, goes quiet, fails its logins or the server drains.

        Returns why the conversation ended, for the log.
        """
        try:
            while True:
                ended = await self._answer_buffered()
                if ended is not None:
                    return ended
                if self.state.draining:
                    return "shutdown"
                data = await self._receive()
                if data is None:
                    return "shutdown" if self.state.draining else "idle timeout"
                self.conn.receive_data(data)
        except trio.BrokenResourceError:
            return "connection lost"
        except trio.TooSlowError:
            return "peer not reading"

    async def _receive(self) -> bytes | None:
        with trio.move_on_after(self.state.limits.idle_timeout_s) as scope:
            self._idle_scope = scope
            try:
                return bytes(await self.stream.receive_some(RECEIVE_SIZE))
            finally:
                self._idle_scope = None
        return None

    async def _write(self, data: bytes) -> None:
        with trio.fail_after(self.state.limits.idle_timeout_s):
            await self.stream.send_all(data)

    async def _answer_buffered(self) -> str | None:
        """Answer every complete request received so far; a reason when the connection must end."""
        while True:
            try:
                event = self.conn.next_event()
            except RemoteProtocolError as error:
                await self._answer_garbage(error)
                continue
            if event is NEED_DATA:
                return None
            if event is CONNECTION_CLOSED:
                return "closed by peer"
            if isinstance(event, Replay):
                started = trio.current_time()
                await self._write(event.data)
                self._log_request("resend", "replayed", started)
                continue
            if await self._answer(event):
                return "too many failed logins"
            if self.state.draining:
                return "shutdown"

    async def _answer(self, request: Message) -> bool:
        """Answer one request; True when the connection must close afterwards."""
        started = trio.current_time()
        now = self.state.clock()
        close = False
        try:
            if isinstance(request, Login):
                response, close = await self._login(request, now)
            elif isinstance(request, RequestACSResend):
                response = RequestSCResend()  # a 97 before any answer: nothing to repeat
            else:
                response = await self._request(request, now)
            data = self.conn.send(response)
            outcome = outcome_of(response)
        except Exception as error:
            # A bug in a handler or in its answer: say so in the log, answer negatively and keep
            # the session, so the kiosk is not left hanging (docs/sip2.md, "Always answer").
            log.error(
                "request failed",
                extra=fields(
                    conn=self.number,
                    terminal=self.terminal,
                    command=request.COMMAND,
                    error=type(error).__name__,
                    at=where(error),
                ),
            )
            handlers = self.state.handlers
            response = negative_answer(
                request.COMMAND,
                handlers.ctx.local(now),
                handlers.options.institution_id,
                FAILED_TEXT,
            )
            data = self.conn.send(response)
            outcome = "error"
        await self._write(data)
        self._log_request(request.COMMAND, outcome, started, type(response).COMMAND)
        return close

    async def _login(self, request: Login, now: dt.datetime) -> tuple[Message, bool]:
        state, handlers = self.state, self.state.handlers
        creds = await state.database.run(handlers.load_login, request.login_user_id)
        password = request.login_password
        ok = handlers.login_cached(creds, password) or await state.hashing.run(
            handlers.verify_login, creds, password
        )
        # Whatever came before, a login starts a fresh session: a failed re-login must not
        # leave the previous terminal (or a patron's verified PIN) signed in.
        self.session = TerminalSession()
        self.conn.settings = self.listener.codec
        if ok and creds is not None:
            response = handlers.complete_login(self.session, creds)
            self.conn.login_succeeded()
            self.terminal = creds.account.login
            # The 94 already goes out in the terminal's own framing.
            self.conn.settings = state.limits.terminal_codecs.get(self.terminal, self.conn.settings)
            log.info("login", extra=fields(conn=self.number, terminal=self.terminal))
            return response, False
        failures = self.conn.login_failed()
        self.terminal = None
        close = failures >= state.limits.max_failed_logins
        log.warning(
            "login failed",
            extra=fields(
                conn=self.number,
                # Only a known account's name: an unknown user id may be a mistyped password.
                terminal=creds.account.login if creds is not None else None,
                failures=failures,
                closing=close,
            ),
        )
        return LoginResponse(ok=False), close

    async def _request(self, request: Message, now: dt.datetime) -> Message:
        state, handlers = self.state, self.state.handlers
        session = self.session
        check = handlers.pin_to_check(request, session)
        if check is not None:
            barcode, pin = check
            candidate = await state.database.run(handlers.load_pin, barcode, now)
            verdict = await state.hashing.run(handlers.verify_pin, candidate, pin)
            await state.database.run(
                handlers.record_pin, session, barcode, pin, candidate, verdict, now
            )
        if handlers.reads_only(request):
            return await state.database.run_read(handlers.handle, request, session, now)
        return await state.database.run(handlers.handle, request, session, now)

    async def _answer_garbage(self, error: RemoteProtocolError) -> None:
        started = trio.current_time()
        try:
            response = self.state.handlers.answer_error(error, self.state.clock())
            data = self.conn.send(response)
        except Exception:
            data = self.conn.send(RequestSCResend())
        await self._write(data)
        self._log_request(error.command or "??", error.reason, started, data[:2].decode())

    def _log_request(
        self, command: str, outcome: str, started: float, answer: str | None = None
    ) -> None:
        self.requests += 1
        # One line per request is required; it runs on the event loop for every request, so
        # nothing is built when INFO is off, and the record is made directly (no caller lookup
        # in the stack, one dict of fields).
        if not log.isEnabledFor(logging.INFO):
            return
        values = {
            "conn": self.number,
            "terminal": self.terminal,
            "command": command,
            "answer": answer,
            "outcome": outcome,
            "ms": round((trio.current_time() - started) * 1000, 1),
        }
        record = log.makeRecord(
            log.name,
            logging.INFO,
            __file__,
            0,
            "request",
            (),
            None,
            "_log_request",
            {"fields": values},
        )
        log.handle(record)


async def serve_connection(state: ServerState, stream: trio.abc.Stream, listener: Listener) -> None:
    """Run one accepted connection to its end and close it; never raises ``Exception``."""
    number = next(state.numbers)
    peer = peer_of(stream)
    if len(state.open) >= state.limits.max_sessions or state.draining:
        log.warning(
            "connection refused",
            extra=fields(
                conn=number,
                peer=peer,
                reason="shutdown" if state.draining else "session limit",
                limit=state.limits.max_sessions,
            ),
        )
        await trio.aclose_forcefully(stream)
        return
    conversation = Conversation(state, stream, listener, number)
    state.open.add(conversation)
    tls = isinstance(stream, trio.SSLStream)
    log.info(
        "connection open",
        extra=fields(conn=number, peer=peer, listener=listener.label, tls=tls),
    )
    started = trio.current_time()
    reason = "cancelled at shutdown"
    try:
        reason = await conversation.run()
    except Exception as error:
        reason = "error"
        log.error(
            "connection failed",
            extra=fields(conn=number, peer=peer, error=type(error).__name__, at=where(error)),
        )
    finally:
        state.open.discard(conversation)
        await close_quietly(stream)
        log.info(
            "connection closed",
            extra=fields(
                conn=number,
                peer=peer,
                terminal=conversation.terminal,
                reason=reason,
                requests=conversation.requests,
                seconds=round(trio.current_time() - started, 3),
            ),
        )


async def close_quietly(stream: trio.abc.AsyncResource) -> None:
    """Close ``stream``, forcefully if it takes long or we are being cancelled."""
    with trio.move_on_after(CLOSE_TIMEOUT_S, shield=True):
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.aclose()
