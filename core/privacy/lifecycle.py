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
        "next such checkpoint, and at the latest by the TRUNCATE checkpoint `reticent serve` "
        "runs every hour (it waits for readers; when one still holds the log, the serve log "
        "says so and the next hour tries again). So a deleted row is decryptable from the "
        "disk for at most one hour, and in practice until its own commit's checkpoint.",
    ),
    (
        "Holds lapse",
        "The daily job deletes holds whose request date (`expires_at`) has passed while they "
        "wait or travel, and holds on the hold shelf whose shelf period (`shelf_expires_at`, "
        "the loan rule's `hold_shelf_days` open days) has passed. A copy on the shelf for a "
        "lapsed hold is returned at its pickup branch as staff would: set aside for the next "
        "patron in line (whose hold-ready notice goes out with the same day's notices), sent "
        "home, or put back on the shelf. A copy in transit for a lapsed hold is routed when it "
        "is checked in where it arrives. Lapsed holds are noted in the destruction ledger; a "
        "patron is no longer kept by a hold that has lapsed.",
    ),
    (
        "Printed notices",
        "Notices for patrons without an e-mail address are written to a print file of their "
        "own for each notice run (`print-queue/notices-<time>.txt` in the data folder, mode "
        "0600 in a folder of mode 0700). The daily job deletes print files older than "
        "`notices.print_keep_hours` (default 48): print them before then. Printed or e-mailed, "
        "a notice is remembered in `sent_notices` only for patrons who opted in to "
        "`notification_history`. `reticent privacy audit` fails a print file kept too long or "
        "readable by others.",
    ),
    (
        "The daily job and circulation",
        "`reticent serve` runs the purge, the hold expiry and the notice run so that each store "
        "transaction (one batch of `retention.batch_size` rows, one batch of lapsed holds, "
        "reading the notices due, recording the run) is its own call on the database lane: "
        "SIP2 requests are answered between any two of them. Mail is sent, print files written "
        "and old backups and print files deleted off the lane, with no transaction open.",
    ),
    (
        "The audit log is keyed",
        "Each audit event's hash is an HMAC-SHA256 of the event and the previous hash under a "
        "sub-key of the instance secret, so a row edited with the chain recomputed after it "
        "without that secret does not verify (`reticent audit verify`, `privacy audit`).",
    ),
)
