"""A patron named in a legal request still under way is not purged (PRIV-07 with PRIV-13)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.model import Patron
from core.policy.retention import RetentionRules
from core.privacy import legal
from core.privacy.purge import purge
from core.services.actors import Actor, ActorKind, Role
from core.store.uow import Store
from tests.conftest import NOW, add_patron

OFFICER = Actor(ActorKind.STAFF, "olivia", Role.PRIVACY_OFFICER)
EXPIRED = dt.date(2020, 1, 1)


def _remaining(store: Store) -> set[str]:
    with store.read() as uow:
        return set(uow.session.scalars(select(Patron.barcode)))


def test_open_request_holds_the_patron_until_closed(store: Store) -> None:
    add_patron(store, "HELD", expires_on=EXPIRED)
    add_patron(store, "FREE", expires_on=EXPIRED)
    with store.write() as uow:
        request = legal.record_request(
            uow,
            OFFICER,
            NOW,
            agency="County Sheriff",
            instrument="subpoena",
            court="County",
            case_number="CR-1",
            patrons=["HELD"],
            classes=["profile"],
        )
    report = purge(store, NOW, RetentionRules())
    assert report.patrons == 1 and _remaining(store) == {"HELD"}
    with store.write() as uow:
        legal.review_request(uow, OFFICER, NOW, request.id, "reject", "not valid")
    purge(store, NOW, RetentionRules())
    assert _remaining(store) == set()
