"""The hash-chained audit log: intact chains verify, any edit is found (PRIV-15, PRIV-03)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

import pytest
from sqlalchemy import select, text

from core.audit import GENESIS_HASH, verify_chain
from core.model import AuditEvent
from core.security.keys import AUDIT_CHAIN_LABEL, derive_subkey
from core.services import circulation, patrons
from core.services.actors import local_admin, terminal_actor
from core.store.open import instance_secret
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items


def _views(store: Store, times: int) -> None:
    for _ in range(times):
        with store.write() as uow:
            patrons.find_patron(uow, local_admin(), NOW, "P1")


def test_intact_chain_verifies(store: Store) -> None:
    add_patron(store, "P1")
    _views(store, 5)
    with store.read() as uow:
        report = verify_chain(uow.session)
    assert report.events == 5 and report.first_broken is None


def test_edited_event_is_named(store: Store) -> None:
    add_patron(store, "P1")
    _views(store, 5)
    with store.write() as uow:
        uow.session.execute(text("UPDATE audit_events SET actor = 'admin:someone' WHERE id = 3"))
    with store.read() as uow:
        report = verify_chain(uow.session)
    assert report.first_broken == 3 and "changed" in report.reason


def _rechain(store: Store, link: Callable[[bytes], str]) -> None:
    """Recompute every hash from the first event on, as someone who edited a row would."""
    with store.write() as uow:
        events = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        prev = GENESIS_HASH
        for event in events:
            canonical = json.dumps(
                [
                    prev,
                    event.id,
                    event.at.isoformat(),
                    event.actor,
                    event.action,
                    event.subject,
                    event.detail,
                ],
                ensure_ascii=True,
                separators=(",", ":"),
            ).encode("ascii")
            event.prev_hash, event.hash = prev, link(canonical)
            prev = event.hash


@pytest.mark.parametrize(
    "link",
    [
        lambda data: hashlib.sha256(data).hexdigest(),  # the chain's form without its key
        lambda data: hmac.new(b"k" * 32, data, hashlib.sha256).hexdigest(),  # another key
    ],
    ids=["plain-sha256", "wrong-key"],
)
def test_an_edit_with_the_chain_recomputed_is_still_found(
    store: Store, link: Callable[[bytes], str]
) -> None:
    add_patron(store, "P1")
    _views(store, 4)
    with store.write() as uow:
        uow.session.execute(text("UPDATE audit_events SET actor = 'admin:someone' WHERE id = 2"))
    _rechain(store, link)
    with store.read() as uow:
        report = verify_chain(uow.session)
    assert report.first_broken == 1 and "changed" in report.reason


def test_the_links_are_keyed_with_the_audit_sub_key(store: Store) -> None:
    add_patron(store, "P1")
    _views(store, 3)
    key = derive_subkey(instance_secret(store.engine), AUDIT_CHAIN_LABEL)
    _rechain(store, lambda data: hmac.new(key, data, hashlib.sha256).hexdigest())
    with store.read() as uow:
        assert verify_chain(uow.session).first_broken is None  # the holder of the secret only


def test_deleted_event_is_named(store: Store) -> None:
    add_patron(store, "P1")
    _views(store, 4)
    with store.write() as uow:
        uow.session.execute(text("DELETE FROM audit_events WHERE id = 2"))
    with store.read() as uow:
        report = verify_chain(uow.session)
    assert report.first_broken == 3


def test_audit_names_patrons_only_by_pseudonym_and_never_items(store: Store) -> None:
    add_record_with_items(store, "Secret Title", ["ITEM-42"])
    add_patron(store, "P1", given="Ada", family="Lovelace")
    admin = local_admin()
    with store.write() as uow:
        patrons.find_patron(uow, admin, NOW, "P1")
        circulation.checkout(uow, terminal_actor("k", "main"), NOW, "P1", "ITEM-42")
        patrons.block_patron(uow, admin, NOW, "P1", reason="test")
        circulation.checkin(uow, terminal_actor("k", "main"), NOW, "ITEM-42")
    with store.read() as uow:
        events = list(uow.session.scalars(select(AuditEvent)))
        dumped = " ".join(f"{e.actor} {e.action} {e.subject} {e.detail}" for e in events)
        subject = uow.env.pseudonyms.patron(1)
    assert events and all(e.subject in (None, subject) for e in events)
    for secret in ("P1", "Ada", "Lovelace", "ITEM-42", "Secret Title"):
        assert secret not in dumped
