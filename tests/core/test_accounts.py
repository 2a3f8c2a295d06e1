"""Staff and terminal account management: disable, enable, passwd, remove as a tombstone."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.audit import verify_chain
from core.errors import PermissionDenied
from core.model import AuditEvent, SipAccount, StaffUser
from core.services import accounts
from core.services.actors import local_admin, terminal_actor
from core.store.uow import Store
from tests.conftest import NOW

ADMIN = local_admin()
STAFF_PASSWORD = "correct horse battery"
TERMINAL_PASSWORD = "kiosk-password-of-length"


@pytest.fixture
def with_accounts(store: Store) -> Store:
    hasher = store.env.hasher
    with store.write() as uow:
        accounts.add_staff(
            uow, ADMIN, NOW, "desk", "circulation", hasher.hash(STAFF_PASSWORD), secret_rule="min12"
        )
        accounts.add_sip_account(
            uow,
            ADMIN,
            NOW,
            "kiosk1",
            hasher.hash(TERMINAL_PASSWORD),
            institution_id="main",
            secret_rule="min16",
        )
    return store


def _actions(store: Store) -> list[tuple[str, dict[str, object]]]:
    with store.read() as uow:
        events = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(e.action, json.loads(e.detail) if e.detail else {}) for e in events]


def test_a_disabled_terminal_is_refused_and_reported_disabled(with_accounts: Store) -> None:
    store = with_accounts
    with store.read() as uow:
        assert accounts.terminal_enabled(uow, "kiosk1")
    with store.write() as uow:
        assert accounts.set_terminal_enabled(uow, ADMIN, NOW, "kiosk1", enabled=False)
        assert not accounts.set_terminal_enabled(uow, ADMIN, NOW, "kiosk1", enabled=False)
    with store.read() as uow:
        assert not accounts.terminal_enabled(uow, "kiosk1")
        assert accounts.load_terminal(uow, "kiosk1") is None
    assert accounts.authenticate_terminal(store, "kiosk1", TERMINAL_PASSWORD) is None
    with store.write() as uow:
        accounts.set_terminal_enabled(uow, ADMIN, NOW, "kiosk1", enabled=True)
    found = accounts.authenticate_terminal(store, "kiosk1", TERMINAL_PASSWORD)
    assert found is not None and found.login == "kiosk1"
    assert [a for a, _ in _actions(store)][-2:] == ["terminal.disable", "terminal.enable"]


def test_a_removed_terminal_is_a_tombstone_without_its_password(with_accounts: Store) -> None:
    store = with_accounts
    with store.write() as uow:
        accounts.remove_terminal(uow, ADMIN, NOW, "kiosk1")
    assert accounts.authenticate_terminal(store, "kiosk1", TERMINAL_PASSWORD) is None
    with store.read() as uow:
        assert not accounts.terminal_enabled(uow, "kiosk1")
        row = uow.session.scalars(select(SipAccount)).one()
        assert row.removed_at == NOW and row.password_hash == accounts.REMOVED_SECRET
        [listed] = accounts.list_terminals(uow, ADMIN)
        assert listed.login == "kiosk1" and listed.removed_at == NOW and not listed.enabled
        # The audit trail still reads: the events about kiosk1 name an account that is listed.
        verify = verify_chain(uow.session)
        assert verify.first_broken is None
    with store.write() as uow, pytest.raises(accounts.AccountExists, match="not reused"):
        accounts.add_sip_account(uow, ADMIN, NOW, "kiosk1", "x", institution_id="main")
    with store.write() as uow, pytest.raises(accounts.UnknownAccount):
        accounts.set_terminal_enabled(uow, ADMIN, NOW, "kiosk1", enabled=True)
    assert ("terminal.remove", {"login": "kiosk1"}) in _actions(store)


def test_staff_disable_passwd_remove(with_accounts: Store) -> None:
    store = with_accounts
    assert accounts.authenticate_staff(store, NOW, "desk", STAFF_PASSWORD) is not None
    with store.write() as uow:
        accounts.set_staff_enabled(uow, ADMIN, NOW, "desk", enabled=False)
    assert accounts.authenticate_staff(store, NOW, "desk", STAFF_PASSWORD) is None
    with store.write() as uow:
        accounts.set_staff_enabled(uow, ADMIN, NOW, "desk", enabled=True)
        new_hash = store.env.hasher.hash("another long passphrase")
        accounts.set_staff_password(uow, ADMIN, NOW, "desk", new_hash, secret_rule="min14")
    assert accounts.authenticate_staff(store, NOW, "desk", STAFF_PASSWORD) is None
    assert accounts.authenticate_staff(store, NOW, "desk", "another long passphrase") is not None
    with store.write() as uow:
        accounts.remove_staff(uow, ADMIN, NOW, "desk")
    assert accounts.authenticate_staff(store, NOW, "desk", "another long passphrase") is None
    with store.read() as uow:
        row = uow.session.scalars(select(StaffUser)).one()
        assert row.removed_at == NOW and row.secret_rule is None
        [listed] = accounts.list_staff(uow, ADMIN)
        assert listed.username == "desk" and not listed.enabled
    actions = _actions(store)
    assert [a for a, _ in actions][-4:] == [
        "staff.disable",
        "staff.enable",
        "staff.passwd",
        "staff.remove",
    ]
    # Never a password or a hash in the audit trail.
    assert "passphrase" not in repr(actions) and "argon2" not in repr(actions)


def test_only_administrators_manage_accounts(with_accounts: Store) -> None:
    kiosk = terminal_actor("kiosk1", "main")
    with with_accounts.write() as uow, pytest.raises(PermissionDenied):
        accounts.set_terminal_enabled(uow, kiosk, NOW, "kiosk1", enabled=False)
    with with_accounts.read() as uow, pytest.raises(PermissionDenied):
        accounts.list_staff(uow, kiosk)
