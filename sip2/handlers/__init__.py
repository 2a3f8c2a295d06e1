"""SIP2 requests mapped onto core services, with terminal field profiles (PRIV-16)."""

from sip2.handlers._common import HandlerContext, HandlerOptions
from sip2.handlers.dispatch import Sip2Handlers
from sip2.handlers.profiles import BUILT_IN, FieldProfile, custom_profile
from sip2.handlers.session import TerminalSession

__all__ = [
    "BUILT_IN",
    "FieldProfile",
    "HandlerContext",
    "HandlerOptions",
    "Sip2Handlers",
    "TerminalSession",
    "custom_profile",
]
