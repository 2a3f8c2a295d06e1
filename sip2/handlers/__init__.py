"""SIP2 requests mapped onto core services, with terminal field profiles (PRIV-16)."""

from sip2.handlers._common import HandlerContext, HandlerOptions
from sip2.handlers.dispatch import DatabaseLane, HashLane, Lanes, Sip2Handlers
from sip2.handlers.profiles import BUILT_IN, FieldProfile, custom_profile
from sip2.handlers.session import PATRON_PIN_MODES, PatronPin, TerminalSession
from sip2.handlers.throttle import LoginLimits

__all__ = [
    "BUILT_IN",
    "PATRON_PIN_MODES",
    "DatabaseLane",
    "FieldProfile",
    "HandlerContext",
    "HandlerOptions",
    "HashLane",
    "Lanes",
    "LoginLimits",
    "PatronPin",
    "Sip2Handlers",
    "TerminalSession",
    "custom_profile",
]
