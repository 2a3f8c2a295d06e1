"""All-or-nothing import of patrons from CSV; PINs hashed on the way in, never echoed (PRIV-09)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sqlalchemy import Table, func, insert, select

from core.audit import append_event
from core.imports._common import (
    ImportReport,
    chunked,
    column_length,
    read_csv,
    resolve_name,
    validate_rows,
)
from core.model import Patron
from core.policy.barcodes import barcode_refusal
from core.policy.calendar import local_date
from core.policy.rules import CirculationRules
from core.policy.secret_rules import PinRule
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

PATRON_COLUMNS = (
    "barcode",
    "given_name",
    "family_name",
    "category",
    "expires_on",
    "pin",
    "email",
    "phone",
)

DEFAULT_PIN_RULE = PinRule()
# Patrons per INSERT: small, because with PINs each batch waits for its argon2 hashes and
# `progress` should move every few seconds, not every few minutes.
PATRON_BATCH = 500

_NAME_MAX = column_length(Patron.given_name)
_FAMILY_MAX = column_length(Patron.family_name)
_EMAIL_MAX = column_length(Patron.email)
_PHONE_MAX = column_length(Patron.phone)
_PATRONS = cast(Table, Patron.__table__)  # Core INSERTs, as for items
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class PatronRow:
    """One patron to import, as written in the file; personal values stay out of its repr."""

    barcode: str
    given_name: str = field(repr=False)
    family_name: str = field(repr=False)
    category: str
    expires_on: str
    pin: str = field(repr=False)  # PRIV-09: never shown, logged or stored in clear
    email: str = field(repr=False)
    phone: str = field(repr=False)


@dataclass(frozen=True)
class _CheckedPatron:
    barcode: str
    given_name: str = field(repr=False)
    family_name: str = field(repr=False)
    category: str
    expires_on: dt.date
    pin: str = field(repr=False)
    email: str | None = field(repr=False)
    phone: str | None = field(repr=False)


def read_patrons_csv(path: Path) -> Iterator[tuple[int, PatronRow]]:
    """Yield (line, row) from a CSV whose header is exactly PATRON_COLUMNS.

    Fields are trimmed except the PIN, which is hashed exactly as written.
    """
    pin_index = PATRON_COLUMNS.index("pin")
    for line, fields in read_csv(path, PATRON_COLUMNS):
        values = [value if i == pin_index else value.strip() for i, value in enumerate(fields)]
        yield line, PatronRow(*values)


def import_patrons(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    rows: Iterable[tuple[int, PatronRow]],
    *,
    progress: Callable[[int], None] | None = None,
    hash_pin: Callable[[str], str] | None = None,
    pin_rule: PinRule = DEFAULT_PIN_RULE,
) -> ImportReport:
    """Validate every row, then hash PINs and write the patrons; on any error raise ImportFailed.

    Nothing is written unless the whole file is valid, and no PIN is hashed before that.
    Every PIN must meet `pin_rule` (`[security.pin]`, PRIV-09); its label is stored with it.
    `progress` is called with the number of patrons written so far after each batch.
    """
    actor.require(Permission.IMPORT)
    rules = uow.env.rules
    checked = validate_rows(
        uow.session,
        rows,
        lambda row: _check_row(row, rules, pin_rule),
        lambda row: row.barcode,
        Patron.barcode,
    )
    created = _insert(
        uow,
        now,
        checked,
        hash_pin if hash_pin is not None else uow.env.hasher.hash,
        progress,
        pin_rule.label,
    )
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="import.patrons",
        subject=None,
        detail={
            "rows": len(checked),
            "patrons_created": created,
            "pins_set": sum(1 for patron in checked if patron.pin),
        },
    )
    return ImportReport(rows=len(checked), patrons_created=created)


def _check_text(problems: list[str], name: str, value: str, limit: int, *, required: bool) -> None:
    if required and not value:
        problems.append(f"{name} is empty")
    elif len(value) > limit:
        problems.append(f"{name} is longer than {limit} characters")


def _check_row(
    row: PatronRow, rules: CirculationRules, pin_rule: PinRule
) -> tuple[_CheckedPatron | None, list[str]]:
    """The validated patron (None when invalid) and what is wrong with the row.

    PRIV-09: the reasons name the field and the rule, never the value.
    """
    problems: list[str] = []
    if not row.barcode:
        problems.append("barcode is empty")
    elif barcode_refusal(row.barcode, rules.barcodes) is not None:
        problems.append("barcode does not satisfy the barcode rule")
    _check_text(problems, "given_name", row.given_name, _NAME_MAX, required=True)
    _check_text(problems, "family_name", row.family_name, _FAMILY_MAX, required=True)
    category = resolve_name(row.category, rules.categories)
    if category is None:
        problems.append(f"category must be one of: {', '.join(rules.categories)}")
    expires_on = _parse_date(row.expires_on)
    if expires_on is None:
        problems.append("expires_on must be a date written YYYY-MM-DD")
    pin_problem = pin_rule.problem(row.pin) if row.pin else None
    if pin_problem is not None:
        problems.append(f"pin {pin_problem}")
    if row.email and "@" not in row.email:
        problems.append("email must contain @")
    _check_text(problems, "email", row.email, _EMAIL_MAX, required=False)
    _check_text(problems, "phone", row.phone, _PHONE_MAX, required=False)
    if problems or category is None or expires_on is None:
        return None, problems
    checked = _CheckedPatron(
        barcode=row.barcode,
        given_name=row.given_name,
        family_name=row.family_name,
        category=category,
        expires_on=expires_on,
        pin=row.pin,
        email=row.email or None,
        phone=row.phone or None,
    )
    return checked, problems


def _parse_date(value: str) -> dt.date | None:
    if _ISO_DATE.fullmatch(value) is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _insert(
    uow: UnitOfWork,
    now: dt.datetime,
    checked: list[_CheckedPatron],
    hash_pin: Callable[[str], str],
    progress: Callable[[int], None] | None,
    pin_rule: str,
) -> int:
    """Second pass: hash the PINs in parallel threads (argon2 releases the GIL), then INSERT."""
    session = uow.session
    today = local_date(now, uow.env.rules.calendar)
    home_branch = uow.env.rules.branches[0]
    next_id = (session.scalar(select(func.max(Patron.id))) or 0) + 1
    written = 0
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        for batch in chunked(checked, PATRON_BATCH):
            hashes = iter(pool.map(hash_pin, [patron.pin for patron in batch if patron.pin]))
            values: list[dict[str, object]] = []
            for patron in batch:
                values.append(
                    {
                        "id": next_id,
                        "barcode": patron.barcode,
                        "given_name": patron.given_name,
                        "family_name": patron.family_name,
                        "category": patron.category,
                        "home_branch": home_branch,
                        "expires_on": patron.expires_on,
                        "email": patron.email,
                        "phone": patron.phone,
                        "pin_hash": next(hashes) if patron.pin else None,
                        "pin_rule": pin_rule if patron.pin else None,
                        "pin_failed_attempts": 0,
                        "is_minor": False,
                        "card_lost": False,
                        "created_on": today,
                        "last_activity_on": today,
                    }
                )
                next_id += 1
            session.connection().execute(insert(_PATRONS), values)
            written += len(values)
            if progress is not None:
                progress(written)
    return written
