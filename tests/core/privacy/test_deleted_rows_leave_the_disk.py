"""After a checkin or a withdrawal the deleted rows are on no page of the file or its WAL.

The page scan decrypts every page of the database and every frame of its write-ahead log with
the raw key, as tests/core/privacy/test_purge.py does for a purge (PRIV-03, PRIV-07).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.model import ReadingHistory
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.privacy.consents import grant_consent, withdraw_consent
from core.security.keys import load_key
from core.services import circulation
from core.services.actors import local_admin
from core.store.open import StoreOptions
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items
from tests.core.privacy.test_purge import decrypted_pages

ADMIN = local_admin()
# A checkout time no other row holds: the loan row carries it, and nothing else after checkin.
OUT_AT = NOW.replace(minute=17, second=31, microsecond=424242)
OUT_MARK = b"2026-03-04 10:17:31.424242"
HISTORY_MARK = "Withdrawn-History-Marker-6093"
KEPT_MARK = "Kept-Patron-Marker-2288"


def _on_disk(store_options: StoreOptions) -> bytes:
    return b"".join(decrypted_pages(load_key(store_options.key_file), store_options.database))


def test_a_returned_loan_leaves_the_file_and_the_wal(
    store: Store, store_options: StoreOptions
) -> None:
    add_record_with_items(store, "Title", ["I1"])
    add_patron(store, "P1", given=KEPT_MARK)
    with store.write() as uow:
        circulation.checkout(uow, ADMIN, OUT_AT, "P1", "I1")
    assert OUT_MARK in _on_disk(store_options)  # the scan sees the open loan

    with store.write() as uow:
        circulation.checkin(uow, ADMIN, NOW + dt.timedelta(days=3), "I1")

    disk = _on_disk(store_options)
    assert KEPT_MARK.encode() in disk  # the scan still reads live data
    assert OUT_MARK not in disk


def test_withdrawn_history_leaves_the_file_and_the_wal(
    store: Store, store_options: StoreOptions
) -> None:
    patron = add_patron(store, "P1", given=KEPT_MARK)
    with store.write() as uow:
        grant_consent(uow, ADMIN, NOW, "P1", CHECKOUT_HISTORY, "desk")
        for n in range(40):  # spread over several pages
            uow.session.add(
                ReadingHistory(
                    patron_id=patron,
                    title=f"{HISTORY_MARK}-{n}",
                    author=HISTORY_MARK,
                    returned_on=NOW.date(),
                )
            )
    assert HISTORY_MARK.encode() in _on_disk(store_options)

    with store.write() as uow:
        assert withdraw_consent(uow, ADMIN, NOW, "P1", CHECKOUT_HISTORY, "desk").deleted == 40

    disk = _on_disk(store_options)
    assert KEPT_MARK.encode() in disk
    assert HISTORY_MARK.encode() not in disk


# The SQLCipher file, its WAL and its key (shared stores: tests/store_pg/).
pytestmark = pytest.mark.sqlcipher_only
