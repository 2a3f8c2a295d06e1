"""How data leaves the store: the paragraphs of docs/data-inventory.md beside the tables."""

from __future__ import annotations

from typing import Final

# (heading, paragraph); each paragraph says what the code does, and is checked like code.
LIFECYCLE: Final[tuple[tuple[str, str], ...]] = (
    (
        "Ids are never given out twice",
        "Patrons, consents, reading history, loans, holds, sent notices and legal requests "
        "take their ids from an AUTOINCREMENT sequence, so the id of a deleted row is never "
        "given to a new one. Audit events name patrons by a keyed pseudonym of the patron id, "
        "and legal requests by number: a new patron never inherits a purged patron's audit "
        "trail. A restore carries the live sequences over, so ids used after the backup are "
        "not given out again either.",
    ),
    (
        "Deleted rows stay deleted after a restore",
        "Whatever is deleted for privacy leaves a keyed hash (HMAC-SHA256 of the table and the "
        "row id under a sub-key of the instance secret, no date, no patron) in "
        "`destruction_ledger`, in the same transaction: the loan ended at checkin or cancelled, "
        "the hold filled at checkout or cancelled, the consent withdrawn and the reading "
        "history or sent notices it covered, the notices and reading history the purge "
        "removed, and a deleted legal request. `reticent restore` merges the live store's "
        "ledger into the backup and deletes every row it names before the restored file is "
        "used: a withdrawn consent is withdrawn again (with what it covered, a `restore` entry "
        "in the consent history and a `consent.withdraw` audit event), a loan or a trapped "
        "hold frees its item. Purged patrons are removed again through the purge ledger (a "
        "keyed hash of the barcode and the day), and the current retention rules are applied. "
        "Both ledgers are kept while the instance exists.",
    ),
    (
        "Deleted rows leave the disk",
        "The store runs with `secure_delete` on, so a deleted row is overwritten in its page. "
        "The transaction that makes a privacy delete (checkin, withdrawal, purge batch, "
        "legal-request delete, cancelled hold or checkout) is followed, once it commits, by a "
        "TRUNCATE checkpoint that never waits: the write-ahead log is copied into the database "
        "file and emptied at once, so the old row is on no page of the file or its WAL. When "
        "another connection holds an older snapshot at that moment the log is emptied by the "
        "next such checkpoint, and at the latest by the daily purge's TRUNCATE checkpoint.",
    ),
    (
        "The audit log is keyed",
        "Each audit event's hash is an HMAC-SHA256 of the event and the previous hash under a "
        "sub-key of the instance secret, so a row edited with the chain recomputed after it "
        "without that secret does not verify (`reticent audit verify`, `privacy audit`).",
    ),
)
