"""One SIP2 connection on the server: read, decode, hand over, encode, write, log.

Each decoded request goes to ``Sip2Handlers.respond`` (login, PIN check and the request are
one step there); this module only moves bytes, keeps the deadlines and the pre-login limits,
and logs.

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
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import trio

from sip2.codec import (
    CONNECTION_CLOSED,
    NEED_DATA,
    Connection,
    Login,
    Message,
    RemoteProtocolError,
    Replay,
    RequestACSResend,
    RequestSCResend,
)
from sip2.handlers import Lanes, Sip2Handlers, TerminalSession
from sip2.handlers.refusals import negative_answer
from sip2.server._observer import NoObserver, ServerObserver
from sip2.server._settings import Listener, ServerLimits

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
    lanes: Lanes
    draining: bool = False
    open: set[Conversation] = field(default_factory=set)
    # Connections not logged in yet, oldest first (ServerLimits.max_prelogin).
    prelogin: OrderedDict[Conversation, None] = field(default_factory=OrderedDict)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    observer: ServerObserver = field(default_factory=NoObserver)

    def drain(self) -> None:
        """Shutdown: idle connections close now, busy ones after their answer is written."""
        self.draining = True
        for conversation in list(self.open):
            conversation.stop_if_idle()

    def admit_prelogin(self, newcomer: Conversation) -> None:
        """Make room for a connection that has not logged in: close the oldest over a limit."""
        limits = self.limits
        same = [c for c in self.prelogin if c.address == newcomer.address]
        if len(same) >= limits.max_prelogin_per_address:
            same[0].evict()
        elif len(self.prelogin) >= limits.max_prelogin:
            next(iter(self.prelogin)).evict()
        self.prelogin[newcomer] = None


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


def peer_of(stream: trio.abc.Stream) -> tuple[str, str]:
    """The peer as ``host:port`` for logs, and its address alone for per-address limits."""
    inner = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    if not isinstance(inner, trio.SocketStream):
        return "?", "?"
    try:
        address = inner.socket.getpeername()
    except OSError:
        return "?", "?"
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}", str(address[0])
    return str(address), str(address)


class Conversation:
    """The requests and answers of one connection, one at a time (SIP2 has no pipelining)."""

    def __init__(
        self,
        state: ServerState,
        stream: trio.abc.Stream,
        listener: Listener,
        number: int,
        address: str,
    ) -> None:
        self.state = state
        self.stream = stream
        self.listener = listener
        self.number = number
        self.address = address
        self.conn = Connection("acs", listener.codec)
        self.session = TerminalSession(peer=address)
        self.requests = 0
        self.opened = trio.current_time()
        self.last_request = self.opened
        self.closing: str | None = None  # why the server closes this connection, once asked
        self._forgotten = False  # nothing of a patron kept since the patron idle timeout
        self._message_started: float | None = None
        self._receive_scope: trio.CancelScope | None = None

    def stop_if_idle(self) -> None:
        if self._receive_scope is not None:
            self._receive_scope.cancel()

    def close_soon(self, reason: str) -> None:
        """Close this connection once its request in progress (if any) is answered."""
        self.closing = reason
        self.state.prelogin.pop(self, None)
        self.stop_if_idle()

    def evict(self) -> None:
        """Close this connection (not logged in) to make room for a newer one."""
        self.close_soon("closed for a newer connection")

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
                if self.closing is not None:
                    return self.closing
                data, ended = await self._receive()
                if ended is not None:
                    return ended
                self.conn.receive_data(data)
                if not self.conn.in_message:
                    self._message_started = None
                elif self._message_started is None:
                    self._message_started = trio.current_time()
        except trio.BrokenResourceError:
            return "connection lost"
        except trio.TooSlowError:
            return "peer not reading"

    def _deadline(self) -> tuple[float, str]:
        limits = self.state.limits
        deadline, reason = trio.current_time() + limits.idle_timeout_s, "idle timeout"
        if self._message_started is not None:
            at = self._message_started + limits.message_timeout_s
            if at < deadline:
                deadline, reason = at, "message too slow"
        if not self.session.logged_in:
            at = self.opened + limits.login_timeout_s
            if at < deadline:
                deadline, reason = at, "login timeout"
        return deadline, reason

    def _forget_patron(self) -> None:
        self.session.end_patron_session()
        self.conn.forget()
        self._forgotten = True

    async def _receive(self) -> tuple[bytes, str | None]:
        """The next bytes, or why the connection ends (a deadline, eviction, shutdown)."""
        deadline, reason = self._deadline()
        while True:
            forget_at = self.last_request + self.state.limits.patron_idle_s
            wake = deadline if self._forgotten else min(deadline, forget_at)
            with trio.CancelScope(deadline=wake) as scope:
                self._receive_scope = scope
                try:
                    return bytes(await self.stream.receive_some(RECEIVE_SIZE)), None
                finally:
                    self._receive_scope = None
            if self.closing is not None:
                return b"", self.closing
            if self.state.draining:
                return b"", "shutdown"
            if trio.current_time() >= deadline:
                return b"", reason
            self._forget_patron()  # the patron idle timeout passed: keep waiting, forgetting

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
            started = trio.current_time()
            if started - self.last_request >= self.state.limits.patron_idle_s:
                self._forget_patron()
                if isinstance(event, Replay):
                    event = RequestACSResend()  # nothing kept to send again: answered 96
            self.last_request = started
            self._forgotten = False
            if isinstance(event, Replay):
                await self._write(event.data)
                self._log_request("resend", "replayed", started)
                continue
            if await self._answer(event, started):
                return "too many failed logins"
            if self.state.draining:
                return "shutdown"

    async def _answer(self, request: Message, started: float) -> bool:
        """Answer one request; True when the connection must close afterwards."""
        state, session = self.state, self.session
        now = state.clock()
        try:
            if isinstance(request, RequestACSResend):
                response: Message = RequestSCResend()  # a 97 before any answer: nothing to repeat
            else:
                response = await state.handlers.respond(request, session, now, state.lanes)
            if isinstance(request, Login):
                self._after_login()
            data = self.conn.send(response)
            outcome = outcome_of(response)
        except Exception as error:
            # A bug in a handler or in its answer: say so in the log, answer negatively and keep
            # the session, so the kiosk is not left hanging (docs/sip2.md, "Always answer").
            log.error(
                "request failed",
                extra=fields(
                    conn=self.number,
                    terminal=session.login,
                    command=request.COMMAND,
                    error=type(error).__name__,
                    at=where(error),
                ),
            )
            handlers = state.handlers
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
        return isinstance(request, Login) and (
            session.failed_logins >= state.limits.max_failed_logins
        )

    def _after_login(self) -> None:
        """The 94 goes out in the terminal's own framing; pre-login limits no longer apply."""
        session, state = self.session, self.state
        if session.login is None:
            self.conn.settings = self.listener.codec
            if self not in state.prelogin:
                state.admit_prelogin(self)
            state.observer.login_refused()
            state.observer.terminal_changed(self, None)
            log.warning(
                "login failed",
                extra=fields(conn=self.number, failures=session.failed_logins),
            )
            return
        self.conn.settings = state.limits.terminal_codecs.get(session.login, self.listener.codec)
        state.prelogin.pop(self, None)
        state.observer.terminal_changed(self, session.login)
        log.info("login", extra=fields(conn=self.number, terminal=session.login))

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
        self.state.observer.request_answered(command, outcome, trio.current_time() - started)
        # One line per request is required; it runs on the event loop for every request, so
        # nothing is built when INFO is off, and the record is made directly (no caller lookup
        # in the stack, one dict of fields).
        if not log.isEnabledFor(logging.INFO):
            return
        values = {
            "conn": self.number,
            "terminal": self.session.login,
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


async def serve_connection(state: ServerState, listener: Listener, stream: trio.abc.Stream) -> None:
    """Run one accepted connection to its end and close it; never raises ``Exception``."""
    number = next(state.numbers)
    peer, address = peer_of(stream)
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
        state.observer.connection_refused()
        await trio.aclose_forcefully(stream)
        return
    conversation = Conversation(state, stream, listener, number, address)
    state.open.add(conversation)
    state.observer.connection_opened(conversation)
    state.admit_prelogin(conversation)
    tls = isinstance(stream, trio.SSLStream)
    log.info(
        "connection open",
        extra=fields(conn=number, peer=peer, listener=listener.label, tls=tls),
    )
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
        state.observer.connection_closed(conversation)
        state.prelogin.pop(conversation, None)
        await close_quietly(stream)
        log.info(
            "connection closed",
            extra=fields(
                conn=number,
                peer=peer,
                terminal=conversation.session.login,
                reason=reason,
                requests=conversation.requests,
                seconds=round(trio.current_time() - conversation.opened, 3),
            ),
        )


async def close_quietly(stream: trio.abc.AsyncResource) -> None:
    """Close ``stream``, forcefully if it takes long or we are being cancelled."""
    with trio.move_on_after(CLOSE_TIMEOUT_S, shield=True):
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.aclose()
