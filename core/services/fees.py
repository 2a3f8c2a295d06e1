"""Paying and waiving fees; a settled fee forgets its item (PRIV-03)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.audit import append_event
from core.errors import DomainError, NotFound
from core.model import Fee, FeePayment, FeeStatus
from core.policy.reasons import Reason
from core.services._queries import patron_by_barcode
from core.services.actors import Actor, Permission
from core.services.views import PaymentResult
from core.store.uow import UnitOfWork

PAYMENT_METHODS = ("cash", "visa", "credit_card", "other", "waiver")


def _settle(fee: Fee, now: dt.datetime, status: FeeStatus) -> None:
    fee.status = status.value
    fee.settled_at = now
    fee.item_id = None  # the retained record of a settled fee names no item


def _outstanding(uow: UnitOfWork, patron_id: int) -> int:
    total = uow.session.scalar(
        select(func.coalesce(func.sum(Fee.balance), 0)).where(
            Fee.patron_id == patron_id, Fee.status == FeeStatus.OPEN.value
        )
    )
    return int(total or 0)


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
    session = uow.session
    patron = patron_by_barcode(session, patron_barcode)
    query = select(Fee).where(Fee.patron_id == patron.id, Fee.status == FeeStatus.OPEN.value)
    if fee_id is not None:
        query = query.where(Fee.id == fee_id)
    fees = list(session.scalars(query.order_by(Fee.created_at, Fee.id)))
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
        fee.balance -= part
        remaining -= part
        session.add(
            FeePayment(
                fee_id=fee.id,
                amount=part,
                method=method,
                transaction_id=transaction_id,
                paid_at=now,
            )
        )
        if fee.balance == 0:
            _settle(fee, now, FeeStatus.PAID)
            settled.append(fee.id)
    session.flush()
    return PaymentResult(
        applied=amount, fees_settled=tuple(settled), outstanding=_outstanding(uow, patron.id)
    )


def waive_fee(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron_barcode: str, fee_id: int
) -> PaymentResult:
    """Waive what is left of a fee; staff only, audited."""
    actor.require(Permission.WAIVE_FEE)
    session = uow.session
    patron = patron_by_barcode(session, patron_barcode)
    fee = session.scalars(
        select(Fee).where(
            Fee.id == fee_id, Fee.patron_id == patron.id, Fee.status == FeeStatus.OPEN.value
        )
    ).one_or_none()
    if fee is None:
        raise NotFound(Reason.FEE_NOT_FOUND)
    waived = fee.balance
    session.add(
        FeePayment(fee_id=fee.id, amount=waived, method="waiver", transaction_id=None, paid_at=now)
    )
    fee.balance = 0
    _settle(fee, now, FeeStatus.WAIVED)
    append_event(
        session,
        now=now,
        actor=actor.label,
        action="fee.waive",
        subject=uow.env.pseudonyms.patron(patron.id),
        detail={"amount": waived},
    )
    session.flush()
    return PaymentResult(
        applied=waived, fees_settled=(fee.id,), outstanding=_outstanding(uow, patron.id)
    )
