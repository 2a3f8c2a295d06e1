"""A SIP2 client (trio) on the same codec: for kiosks, stations, the shell and the tests."""

from __future__ import annotations

import re
import ssl
from types import TracebackType
from typing import Final, Self

import trio

from sip2.codec import (
    CONNECTION_CLOSED,
    MAX_MESSAGE_BYTES,
    NEED_DATA,
    Connection,
    Login,
    LoginResponse,
    Message,
    RemoteProtocolError,
    RequestACSResend,
    RequestSCResend,
    TerminalSettings,
    checksum,
)

DEFAULT_TIMEOUT_S: Final = 10.0
# docs/sip2.md, "Framing": a 96 asks the terminal to send its request again; after three tries
# the line is not going to get better, so the caller gets the 96 itself.
MAX_RESENDS: Final = 3
RECEIVE_SIZE: Final = 4096
_LINE_BREAK: Final = re.compile(rb"[\r\n]")


class Sip2ClientError(Exception):
    """The connection ended, or the server's answer could not be used."""


def frame_raw(
    body: str, *, sequence: int | None = 0, settings: TerminalSettings | None = None
) -> bytes:
    """``body`` encoded with AY/AZ (unless error detection is off) and the terminator.

    For hand-made messages (tests, the shell's ``raw``); ``sequence`` None leaves out AY.
    """
    settings = settings if settings is not None else TerminalSettings()
    data = body.encode(settings.encoding, errors="replace")
    if settings.error_detection != "off":
        data += (b"AY%d" % sequence if sequence is not None else b"") + b"AZ"
        data += checksum(data).encode("ascii")
    return data + settings.terminator.encode(settings.encoding)


class Sip2Client:
    """One connection to a SIP2 server, one request at a time.

    Every call is bounded by ``timeout_s`` (trio.TooSlowError). Use as an async context
    manager, or call ``aclose``.
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        *,
        settings: TerminalSettings | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.stream = stream
        self.connection = Connection("sc", settings)
        self.timeout_s = timeout_s
        self._raw = bytearray()  # received by send_raw beyond the line it returned

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        settings: TerminalSettings | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> Self:
        """Open a TCP (or, with ``ssl_context``, TLS) connection; TLS verifies ``host``."""
        with trio.fail_after(timeout_s):
            if ssl_context is None:
                stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
            else:
                tls = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=ssl_context)
                try:
                    await tls.do_handshake()
                except BaseException:
                    await trio.aclose_forcefully(tls)
                    raise
                stream = tls
        return cls(stream, settings=settings, timeout_s=timeout_s)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.stream.aclose()

    async def request(self, message: Message) -> Message:
        """Send ``message`` and return the server's answer.

        A 96 (request SC resend) makes the client send the same bytes again, up to MAX_RESENDS
        times; the server sees the same AY/AZ, so a retried checkout is not run twice. A
        damaged answer is asked for again with a 97. Raises Sip2ClientError when the
        connection ends or the answer cannot be read.
        """
        with trio.fail_after(self.timeout_s):
            data = self.connection.send(message)
            await self._send(data)
            resends = 0
            while True:
                try:
                    answer = await self._next_message()
                except RemoteProtocolError as error:
                    if not error.wants_resend or resends >= MAX_RESENDS:
                        raise Sip2ClientError(f"unusable answer ({error.reason})") from None
                    resends += 1
                    await self._send(self.connection.send(RequestACSResend()))
                    continue
                if isinstance(answer, RequestSCResend) and resends < MAX_RESENDS:
                    resends += 1
                    await self._send(data)
                    continue
                return answer

    async def login(self, user: str, password: str, location: str | None = None) -> bool:
        """Sign in with the terminal's account (93); True when the server said ok."""
        answer = await self.request(
            Login(login_user_id=user, login_password=password, location_code=location)
        )
        return isinstance(answer, LoginResponse) and answer.ok

    async def send_raw(self, data: bytes) -> bytes:
        """Send ``data`` as it is; return the next answer line, without its terminator."""
        with trio.fail_after(self.timeout_s):
            await self._send(data)
            return await self.read_raw_line()

    async def read_raw_line(self) -> bytes:
        """The next non-empty line from the server, without its terminator."""
        with trio.fail_after(self.timeout_s):
            while True:
                found = _LINE_BREAK.search(self._raw)
                if found is not None:
                    line = bytes(self._raw[: found.start()])
                    del self._raw[: found.end()]
                    if line:
                        return line
                    continue
                if len(self._raw) > MAX_MESSAGE_BYTES:
                    raise Sip2ClientError("answer line too long")
                chunk = await self._receive()
                if not chunk:
                    raise Sip2ClientError("the server closed the connection")
                self._raw += chunk

    async def _next_message(self) -> Message:
        if self._raw:
            self.connection.receive_data(bytes(self._raw))
            self._raw.clear()
        while True:
            event = self.connection.next_event()
            if isinstance(event, Message):
                return event
            if event is CONNECTION_CLOSED:
                raise Sip2ClientError("the server closed the connection")
            if event is NEED_DATA:
                self.connection.receive_data(await self._receive())

    async def _send(self, data: bytes) -> None:
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as error:
            raise Sip2ClientError("the connection is closed") from error

    async def _receive(self) -> bytes:
        try:
            return bytes(await self.stream.receive_some(RECEIVE_SIZE))
        except (trio.BrokenResourceError, trio.ClosedResourceError) as error:
            raise Sip2ClientError("the connection is closed") from error
