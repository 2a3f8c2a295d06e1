"""A patron's standing, blocks and view, computed once from the row the repository reads."""

from __future__ import annotations

import datetime as dt

from core.errors import NotFound
from core.policy.blocks import Block, PatronStanding, blocks_for, status_flags
from core.policy.calendar import local_date
from core.policy.reasons import Reason
from core.services.views import PatronView
from core.store import repository
from core.store.repository import PatronRow
from core.store.uow import UnitOfWork


def require_patron_row(uow: UnitOfWork, barcode: str, now: dt.datetime) -> PatronRow:
    """The patron with this barcode and its counts, or NotFound."""
    patron = repository.find_patron(uow, barcode, now)
    if patron is None:
        raise NotFound(Reason.PATRON_NOT_FOUND)
    return patron


def standing(patron: PatronRow) -> PatronStanding:
    """What the blocks are computed from."""
    return PatronStanding(
        expires_on=patron.expires_on,
        card_lost=patron.card_lost,
        staff_blocked=patron.staff_block is not None,
        loans=patron.loans,
        overdue=patron.overdue,
        fees_outstanding=patron.fees_outstanding,
        overdue_fines_outstanding=patron.fines_outstanding,
    )


def patron_blocks(uow: UnitOfWork, patron: PatronRow, now: dt.datetime) -> frozenset[Block]:
    """Every block that applies to the patron today."""
    rules = uow.env.rules
    return blocks_for(standing(patron), rules.limits, local_date(now, rules.calendar))


def patron_view(uow: UnitOfWork, patron: PatronRow, now: dt.datetime) -> PatronView:
    """The frozen view of a patron with its blocks and SIP2 status flags."""
    rules = uow.env.rules
    facts = standing(patron)
    today = local_date(now, rules.calendar)
    blocks = blocks_for(facts, rules.limits, today)
    note = patron.note
    if patron.note_expires_on is not None and patron.note_expires_on < today:
        note = None  # PRIV-06: an expired note is not shown (and is purged)
    return PatronView(
        patron_id=patron.id,
        barcode=patron.barcode,
        given_name=patron.given_name,
        family_name=patron.family_name,
        category=patron.category,
        home_branch=patron.home_branch,
        expires_on=patron.expires_on,
        email=patron.email,
        phone=patron.phone,
        is_minor=patron.is_minor,
        has_pin=patron.has_pin,
        card_lost=patron.card_lost,
        staff_block=patron.staff_block,
        note=note,
        loans=patron.loans,
        overdue=patron.overdue,
        holds=patron.holds,
        holds_available=patron.holds_on_shelf,
        fees_outstanding=patron.fees_outstanding,
        blocks=blocks,
        flags=status_flags(blocks, facts, limits=rules.limits),
    )
