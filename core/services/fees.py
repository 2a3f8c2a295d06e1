"""Paying and waiving fees; a settled fee forgets its item and keeps only days (PRIV-03)."""

from __future__ import annotations

import datetime as dt

from core.audit import append_event
from core.errors import DomainError, NotFound
from core.model import FeeStatus
from core.policy.calendar import start_of_day
from core.policy.reasons import Reason
from core.services.actors import Actor, Permission
from core.services.standing import require_patron_row
from core.services.views import PaymentResult
from core.store import repository
from core.store.repository import FeeRow
from core.store.uow import UnitOfWork

PAYMENT_METHODS = ("cash", "visa", "credit_card", "other", "waiver")


def _book(
    uow: UnitOfWork,
    now: dt.datetime,
    fee: FeeRow,
    part: int,
    method: str,
    transaction_id: str | None,
    settled: FeeStatus,
) -> bool:
    """Book ``part`` of a fee; True when that settles it."""
    balance = fee.balance - part
    repository.record_payment(
        uow,
        fee_id=fee.id,
        amount=part,
        balance=balance,
        method=method,
        transaction_id=transaction_id,
        # PRIV-03: the day only, so payment times cannot be matched to an item's times.
        paid_at=start_of_day(now, uow.env.rules.calendar),
        settled_status=settled.value if balance == 0 else None,
    )
    return balance == 0


def pay_fees(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron_barcode: str,
    amount: int,
    *,
    fee_id: int | None = None,
    method: str = "cash",
    transaction_id: str | None = None,
) -> PaymentResult:
    """Apply a payment to one fee, or to the oldest open fees first."""
    actor.require(Permission.CIRCULATE)
    if amount <= 0:
        raise DomainError(Reason.INVALID_AMOUNT)
    if method not in PAYMENT_METHODS or method == "waiver":
        raise DomainError(Reason.INVALID_AMOUNT, "unknown payment method")
    patron = require_patron_row(uow, patron_barcode, now)
    fees = repository.open_fees(uow, patron.id, fee_id)
    if not fees:
        raise NotFound(Reason.FEE_NOT_FOUND)
    if amount > sum(fee.balance for fee in fees):
        raise DomainError(Reason.PAYMENT_TOO_LARGE)
    remaining = amount
    settled: list[int] = []
    for fee in fees:
        if remaining == 0:
            break
        part = min(remaining, fee.balance)
        remaining -= part
        if _book(uow, now, fee, part, method, transaction_id, FeeStatus.PAID):
            settled.append(fee.id)
    # Every open fee of the patron, less what was paid: what is still owed.
    owed = patron.fees_outstanding - amount
    return PaymentResult(applied=amount, fees_settled=tuple(settled), outstanding=owed)


def waive_fee(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron_barcode: str, fee_id: int
) -> PaymentResult:
    """Waive what is left of a fee; staff only, audited."""
    actor.require(Permission.WAIVE_FEE)
    patron = require_patron_row(uow, patron_barcode, now)
    fee = next(iter(repository.open_fees(uow, patron.id, fee_id)), None)
    if fee is None:
        raise NotFound(Reason.FEE_NOT_FOUND)
    _book(uow, now, fee, fee.balance, "waiver", None, FeeStatus.WAIVED)
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="fee.waive",
        subject=uow.env.pseudonyms.patron(patron.id),
        detail={"amount": fee.balance},
    )
    return PaymentResult(
        applied=fee.balance,
        fees_settled=(fee.id,),
        outstanding=patron.fees_outstanding - fee.balance,
    )
