"""Wiring of the SIP2 server from settings: handler options, field profiles, listeners, limits."""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence

from config.settings import ListenerSettings, Settings, TerminalCodecSettings
from core.security.keys import require_owner_only
from core.store.uow import Store
from sip2.codec import TerminalSettings
from sip2.handlers import FieldProfile, HandlerContext, HandlerOptions, Sip2Handlers, custom_profile
from sip2.server import Listener, ServerLimits

TERMINATORS = {"CR": "\r", "LF": "\n", "CRLF": "\r\n"}


def codec_settings(codec: TerminalCodecSettings) -> TerminalSettings:
    return TerminalSettings(
        encoding=codec.encoding,
        terminator=TERMINATORS[codec.terminator],
        field_delimiter=codec.field_delimiter,
        error_detection=codec.error_detection,
        due_date_format=codec.due_date_format,
    )


def field_profiles(settings: Settings) -> Mapping[str, FieldProfile]:
    return {
        name: custom_profile(name, profile.base, profile.extra_fields)
        for name, profile in settings.sip2.profiles.items()
    }


def build_handlers(settings: Settings, store: Store) -> Sip2Handlers:
    library, sip2 = settings.library, settings.sip2
    options = HandlerOptions(
        library_name=library.name,
        institution_id=library.institution_id,
        currency=library.currency,
        language=library.language,
        timezone=settings.circulation.calendar.timezone,
        default_branch=settings.circulation.branches[0],
        status_before_login=sip2.status_before_login,
        timeout_period=min(999, int(sip2.idle_timeout_s * 10)),
        profiles=field_profiles(settings),
        offline_terminals=frozenset(login for login, t in sip2.terminals.items() if t.offline),
        patron_pin=dict(sip2.patron_pin),
    )
    return Sip2Handlers(HandlerContext(store, options))


def _ssl_context(listener: ListenerSettings) -> ssl.SSLContext | None:
    if listener.tls_cert is None or listener.tls_key is None:
        return None
    require_owner_only(listener.tls_key, "TLS key file")  # PRIV-08, like the store key
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(listener.tls_cert, listener.tls_key)
    return context


def build_listeners(settings: Settings, overrides: Sequence[str] | None = None) -> list[Listener]:
    """The configured listeners, or `HOST:PORT` overrides from the command line (plaintext)."""
    if overrides:
        default_codec = codec_settings(TerminalCodecSettings())
        listeners = []
        for target in overrides:
            host, _, port = target.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"--sip2-listen wants HOST:PORT, got {target!r}")
            listeners.append(
                Listener(
                    host.strip("[]"), int(port), None, allow_plaintext=False, codec=default_codec
                )
            )
        return listeners
    return [
        Listener(
            listener.host,
            listener.port,
            _ssl_context(listener),
            allow_plaintext=listener.allow_plaintext,
            codec=codec_settings(listener.codec),
        )
        for listener in settings.sip2.listeners
    ]


def build_limits(settings: Settings) -> ServerLimits:
    sip2 = settings.sip2
    return ServerLimits(
        idle_timeout_s=sip2.idle_timeout_s,
        login_timeout_s=sip2.login_timeout_s,
        message_timeout_s=sip2.message_timeout_s,
        max_sessions=sip2.max_sessions,
        max_prelogin=sip2.max_prelogin,
        max_prelogin_per_address=sip2.max_prelogin_per_address,
        max_failed_logins=sip2.max_failed_logins,
        patron_idle_s=sip2.patron_idle_s,
        shutdown_grace_s=sip2.shutdown_grace_s,
        terminal_codecs={login: codec_settings(c) for login, c in sip2.terminals.items()},
    )
