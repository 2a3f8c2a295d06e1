"""The TLS private key is refused like the store key when others can read it, and plain SMTP is
refused except to a relay on this machine (PRIV-08)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import ConfigError
from config.settings import ListenerSettings, Settings, Sip2Settings
from config.settings_notices import NoticesSettings
from config.sip2_wiring import build_listeners
from core.errors import KeyFileError
from core.privacy.delivery import DeliveryError, MailAndPrint, RenderedNotice, SmtpOptions
from core.privacy.selfaudit import AuditFacts, AuditStatus, ListenerFacts, check_listeners
from tests.sip2.test_server_lifecycle import _self_signed


def _settings(tmp_path: Path, cert: Path, key: Path) -> Settings:
    listener = ListenerSettings(host="0.0.0.0", port=6110, tls_cert=cert, tls_key=key)
    return Settings(data_dir=tmp_path, sip2=Sip2Settings(listeners=(listener,)))


def test_a_tls_key_others_can_read_is_refused_by_serve_and_failed_by_the_audit(
    tmp_path: Path,
) -> None:
    cert, key, _ = _self_signed(tmp_path)
    facts = AuditFacts(
        key_path=tmp_path / "k",
        listeners=(ListenerFacts(host="0.0.0.0", port=6110, tls_cert=cert, tls_key=key),),
    )
    key.chmod(0o644)
    with pytest.raises(KeyFileError, match=r"TLS key file .* has mode 0644.*chmod 600"):
        build_listeners(_settings(tmp_path, cert, key))
    item = check_listeners(facts)
    assert item.status is AuditStatus.FAIL and "mode 0644" in item.detail

    key.chmod(0o600)
    (listener,) = build_listeners(_settings(tmp_path, cert, key))
    assert listener.ssl_context is not None
    assert check_listeners(facts).status is AuditStatus.PASS


@pytest.mark.parametrize(
    ("host", "allowed"),
    [("mail.example.org", False), ("10.0.0.5", False), ("127.0.0.1", True), ("localhost", True)],
)
def test_plain_smtp_only_to_this_machine_in_the_settings(host: str, allowed: bool) -> None:
    if allowed:
        assert not NoticesSettings(smtp_host=host, starttls=False).starttls
    else:
        with pytest.raises(ConfigError, match=r"notices\.starttls"):
            NoticesSettings(smtp_host=host, starttls=False)
    assert NoticesSettings(smtp_host=host, starttls=True).starttls


def test_plain_smtp_to_another_machine_is_refused_before_connecting(tmp_path: Path) -> None:
    options = SmtpOptions(host="192.0.2.1", port=25, sender="l@example.org", starttls=False)
    transport = MailAndPrint(options, tmp_path / "queue")
    notice = RenderedNotice(subject="s", body="b")
    with pytest.raises(DeliveryError, match=r"refusing plain SMTP to 192\.0\.2\.1:25"):
        transport.email("someone@example.org", notice)  # 192.0.2.1 (TEST-NET) is never dialled
