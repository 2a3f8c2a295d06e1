"""One loopback test for the whole project, and every place that decides by it agrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import ListenerSettings, Settings, Sip2Settings, validate_settings
from core.privacy.selfaudit import (
    AuditFacts,
    AuditStatus,
    ListenerFacts,
    check_listeners,
    check_notice_transport,
)
from core.security.network import is_loopback
from sip2.server import Listener
from sip2.server import check_listeners as check_sip2_listeners

CASES = [
    ("localhost", True),
    ("LOCALHOST", True),
    ("localhost.", True),
    (" localhost ", True),
    ("127.0.0.1", True),
    ("127.8.9.10", True),
    ("::1", True),
    ("[::1]", True),
    ("::ffff:127.0.0.1", True),
    ("[::ffff:127.0.0.1]", True),
    ("", False),  # every address
    ("0.0.0.0", False),
    ("::", False),
    ("[::]", False),
    ("10.0.0.1", False),
    ("192.168.1.20", False),
    ("::ffff:10.0.0.1", False),
    ("localhost.example.org", False),
    ("mail.example.org", False),
    ("[::1", False),
]


@pytest.mark.parametrize(("host", "expected"), CASES)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


@pytest.mark.parametrize(("host", "expected"), CASES)
def test_the_sip2_server_the_settings_and_the_self_audit_agree(
    host: str, expected: bool, tmp_path: Path
) -> None:
    # The SIP2 server refuses a plain listener off the loopback.
    try:
        check_sip2_listeners([Listener(host, 6110)])
        server_says = True
    except ValueError:
        server_says = False
    # The settings refuse it too ("" is refused for another reason: a host must be named).
    settings = Settings(
        data_dir=tmp_path,
        sip2=Sip2Settings(listeners=(ListenerSettings(host=host or "*", port=6110),)),
    )
    try:
        validate_settings(settings, source="test")
        settings_say = True
    except Exception:
        settings_say = False
    # The self-audit fails a plain listener and plain SMTP off the loopback.
    facts = AuditFacts(
        key_path=tmp_path / "k",
        listeners=(ListenerFacts(host=host, port=6110),),
        smtp_host=host or "*",
        smtp_starttls=False,
    )
    audit_says = check_listeners(facts).status is AuditStatus.PASS
    smtp_says = check_notice_transport(facts).status is AuditStatus.PASS
    assert (server_says, settings_say, audit_says, smtp_says) == (expected,) * 4
