"""Notices over a real SMTP server on 127.0.0.1 (aiosmtpd), and the STARTTLS requirement."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from core.model import AuditEvent
from core.model.notices import SentNotice
from core.privacy.delivery import DeliveryError, MailAndPrint, SmtpOptions
from core.privacy.notices import RUN_ACTION, send_notices
from core.store.uow import Store
from tests.conftest import NOW
from tests.core.privacy.test_notices import (
    OPTIONS,
    assert_minimal,
    populate,
    read_queue,
    set_email,
)

REFUSED = "refused@example.org"


class Collector:
    """Keeps every message the server accepts; refuses one address at RCPT."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def smtp(port: int, *, starttls: bool) -> SmtpOptions:
    return SmtpOptions(host="127.0.0.1", port=port, starttls=starttls, sender="library@example.org")


def test_notices_arrive_by_email_with_the_first_name_only(
    store: Store, tmp_path: Path, smtp_server: tuple[Collector, int]
) -> None:
    collector, port = smtp_server
    populate(store)
    queue = tmp_path / "q.txt"
    report = send_notices(store, NOW, OPTIONS, MailAndPrint(smtp(port, starttls=False), queue))
    assert (report.emailed, report.printed, report.failed) == (2, 2, 0)
    assert len(collector.messages) == 2
    for recipients, message in collector.messages:
        assert recipients == ["ada@example.org"]
        assert message["From"] == "library@example.org"
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        text = f"{message['Subject']}\n{body.decode()}"
        assert "Hello Ada," in text and "Riverside Library" in text
        assert_minimal(text)
    subjects = sorted(str(m["Subject"]) for _, m in collector.messages)
    assert subjects == ["Library items overdue", "Your library items are ready"]
    # Grace has no e-mail address: her notices went to the print queue.
    assert all("Hello Grace," in page for page in read_queue(queue))
    with store.read() as uow:
        channels = uow.session.scalars(select(SentNotice.channel)).all()
    assert channels == ["email", "email"]


def test_a_refused_recipient_is_counted_and_the_run_goes_on(
    store: Store, tmp_path: Path, smtp_server: tuple[Collector, int]
) -> None:
    collector, port = smtp_server
    ada, _ = populate(store)
    set_email(store, ada, REFUSED)
    report = send_notices(
        store, NOW, OPTIONS, MailAndPrint(smtp(port, starttls=False), tmp_path / "q")
    )
    assert (report.emailed, report.printed, report.failed, report.recorded) == (0, 2, 2, 0)
    assert collector.messages == []


def test_starttls_required_refuses_a_server_without_it(
    store: Store, tmp_path: Path, smtp_server: tuple[Collector, int]
) -> None:
    collector, port = smtp_server
    populate(store)
    queue = tmp_path / "q.txt"
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        send_notices(store, NOW, OPTIONS, MailAndPrint(smtp(port, starttls=True), queue))
    assert collector.messages == []
    assert not queue.exists()  # nothing printed either: the run can simply be repeated
    with store.read() as uow:
        assert uow.session.scalars(select(SentNotice)).all() == []
        assert (
            uow.session.scalars(select(AuditEvent).where(AuditEvent.action == RUN_ACTION)).all()
            == []
        )
