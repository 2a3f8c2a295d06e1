"""The station's SIP2 connection: connect and log in on demand, send, and say when it is away."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from typing import Final

import trio

from sip2.client import Sip2Client, Sip2ClientError, frame_raw
from sip2.codec import (
    Message,
    RemoteProtocolError,
    RequestSCResend,
    TerminalSettings,
    encode_message,
)

log = logging.getLogger("reticent.station")

# A damaged or 96 answer makes the station send the same bytes again this often; the server
# sees the same AY/AZ and answers from its cache, so nothing is applied twice.
MAX_RESENDS: Final = 3


class ServerAway(Exception):
    """No usable connection to the SIP2 server right now; the message says why."""


@dataclass(frozen=True)
class ServerConfig:
    """Where the server is and how the station signs in (the password never reaches a log)."""

    host: str
    port: int
    login: str
    password: str = field(repr=False)
    location: str | None = None
    ssl_context: ssl.SSLContext | None = None
    settings: TerminalSettings = field(default_factory=TerminalSettings)
    timeout_s: float = 5.0


class Sip2Link:
    """One connection at a time, opened when needed; any failure closes it and raises
    ServerAway, and the next call opens a new one."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._client: Sip2Client | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None

    def frame(self, message: Message, sequence: int) -> bytes:
        """``message`` with AY ``sequence`` and AZ: the same bytes every time it is sent."""
        settings = self.config.settings
        body = encode_message(message, settings).decode(settings.encoding)
        return frame_raw(body, sequence=sequence, settings=settings)

    async def _open(self) -> Sip2Client:
        if self._client is not None:
            return self._client
        config = self.config
        try:
            client = await Sip2Client.connect(
                config.host,
                config.port,
                ssl_context=config.ssl_context,
                settings=config.settings,
                timeout_s=config.timeout_s,
            )
        except (OSError, trio.TooSlowError, ssl.SSLError) as error:
            raise ServerAway(
                f"cannot connect to {config.host}:{config.port}: {_why(error)}"
            ) from None
        try:
            accepted = await client.login(config.login, config.password, config.location)
        except (Sip2ClientError, trio.TooSlowError, OSError) as error:
            await client.aclose()
            raise ServerAway(f"login failed: {_why(error)}") from None
        if not accepted:
            await client.aclose()
            raise ServerAway(f"the server refused the login {config.login!r}")
        self._client = client
        return client

    async def send(self, data: bytes) -> Message:
        """Send framed bytes (see ``frame``) and return the answer; ServerAway on failure."""
        client = await self._open()
        try:
            for _ in range(MAX_RESENDS + 1):
                line = await client.send_raw(data)
                client.connection.receive_data(line + b"\r")
                try:
                    answer = client.connection.next_event()
                except RemoteProtocolError:
                    continue  # damaged on the way: the same bytes again
                if isinstance(answer, RequestSCResend):
                    continue
                if isinstance(answer, Message):
                    return answer
            raise ServerAway("the answers keep arriving damaged")
        except (Sip2ClientError, trio.TooSlowError, OSError) as error:
            await self.close()
            raise ServerAway(_why(error)) from None
        except ServerAway:
            await self.close()
            raise

    async def request(self, message: Message) -> Message:
        """Send a message that may be numbered by the client (a lookup); ServerAway on failure."""
        client = await self._open()
        try:
            return await client.request(message)
        except (Sip2ClientError, trio.TooSlowError, OSError) as error:
            await self.close()
            raise ServerAway(_why(error)) from None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with trio.CancelScope(shield=True):
                await client.aclose()


def _why(error: BaseException) -> str:
    if isinstance(error, trio.TooSlowError):
        return "no answer in time"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
