"""The services the staff app added: name search limits, session tickets, staff keys, the gate."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import DomainError, PermissionDenied
from core.model import SessionTicket, StaffUser
from core.services.actors import local_admin
from core.services.search import MAX_RESULTS, BarcodeKind, identify_barcode, search_patrons
from core.services.ssh_access import (
    TICKET_TTL,
    StaffKeyError,
    TicketRefused,
    add_staff_key,
    issue_ticket,
    keys_for_login,
    list_staff_keys,
    redeem_ticket,
    remove_staff_key,
)
from core.services.staff_session import policy_gate
from core.services.work import Store
from tests.conftest import NOW, add_patron
from tests.tui.conftest import CLERK, acknowledge_all

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyDataForTests"


def test_search_needs_three_letters_and_caps_the_matches(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    for n in range(MAX_RESULTS + 5):
        add_patron(desk_store, f"S{n:04d}", given=f"Sam{n}", family="Smithson")
    with desk_store.write() as uow:
        with pytest.raises(DomainError, match="at least 3 letters"):
            search_patrons(uow, CLERK, NOW, " s m ")
        found = search_patrons(uow, CLERK, NOW, "smith")
    assert len(found.matches) == MAX_RESULTS and found.more
    with desk_store.write() as uow:
        narrow = search_patrons(uow, CLERK, NOW, "sam1 smi")
    assert {m.given_name for m in narrow.matches} >= {"Sam1", "Sam10"}
    assert not narrow.more


def test_search_treats_wildcards_as_letters(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    with desk_store.write() as uow:
        assert search_patrons(uow, CLERK, NOW, "%%%").matches == ()
        assert search_patrons(uow, CLERK, NOW, "___").matches == ()


def test_search_is_gated_by_the_policy_acknowledgement(desk_store: Store) -> None:
    with desk_store.write() as uow, pytest.raises(DomainError, match="training"):
        search_patrons(uow, CLERK, NOW, "lovelace")


def test_identify_barcode(desk_store: Store) -> None:
    with desk_store.read() as uow:
        assert identify_barcode(uow, CLERK, "P0001") is BarcodeKind.PATRON
        assert identify_barcode(uow, CLERK, "I0001") is BarcodeKind.ITEM
        assert identify_barcode(uow, CLERK, "X") is BarcodeKind.UNKNOWN


def test_a_ticket_works_once_and_only_briefly(desk_store: Store) -> None:
    with desk_store.write() as uow:
        ticket = issue_ticket(uow, NOW, "clerk", "ssh-7")
        stored = uow.session.query(SessionTicket).one()
        assert ticket not in stored.ticket_hash  # only a hash is kept
    with desk_store.write() as uow:
        grant = redeem_ticket(uow, NOW + dt.timedelta(seconds=2), ticket)
    assert grant.actor.name == "clerk" and grant.actor.role == CLERK.role
    assert grant.session_id == "ssh-7"
    with desk_store.write() as uow, pytest.raises(TicketRefused):
        redeem_ticket(uow, NOW, ticket)
    with desk_store.write() as uow:
        late = issue_ticket(uow, NOW, "clerk", "ssh-8")
    with desk_store.write() as uow, pytest.raises(TicketRefused):
        redeem_ticket(uow, NOW + TICKET_TTL + dt.timedelta(seconds=1), late)
    with desk_store.write() as uow, pytest.raises(TicketRefused):
        redeem_ticket(uow, NOW, "made-up")


def test_a_disabled_account_cannot_use_its_ticket_or_keys(desk_store: Store) -> None:
    admin = local_admin()
    with desk_store.write() as uow:
        add_staff_key(uow, admin, NOW, "clerk", KEY, "SHA256:abc")
        ticket = issue_ticket(uow, NOW, "clerk", "ssh-9")
        assert keys_for_login(uow, "clerk") == (KEY,)
        uow.session.query(StaffUser).filter_by(username="clerk").one().disabled = True
    with desk_store.write() as uow:
        assert keys_for_login(uow, "clerk") == ()
        with pytest.raises(TicketRefused):
            redeem_ticket(uow, NOW, ticket)


def test_keys_are_managed_by_administrators_only(desk_store: Store) -> None:
    admin = local_admin()
    with desk_store.write() as uow:
        with pytest.raises(PermissionDenied):
            add_staff_key(uow, CLERK, NOW, "clerk", KEY, "SHA256:abc")
        add_staff_key(uow, admin, NOW, "clerk", KEY, "SHA256:abc")
        with pytest.raises(StaffKeyError, match="registered already"):
            add_staff_key(uow, admin, NOW, "officer", KEY, "SHA256:abc")
        assert [k.username for k in list_staff_keys(uow, admin)] == ["clerk"]
        remove_staff_key(uow, admin, NOW, "SHA256:abc")
        assert list_staff_keys(uow, admin) == ()


def test_policy_gate(desk_store: Store) -> None:
    with desk_store.read() as uow:
        gate = policy_gate(uow, CLERK, NOW)
    assert (gate.version, gate.acknowledged) == ("2026-1", False)
    acknowledge_all(desk_store)
    with desk_store.read() as uow:
        assert policy_gate(uow, CLERK, NOW).acknowledged
