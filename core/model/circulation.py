"""Loans (only while the item is out), holds, and fees kept as their own records (PRIV-03)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated, never_reused_ids

I = PiiClass.INDIRECT  # noqa: E741
LOAN = "deleted at checkin (PRIV-03)"
HOLD = "deleted when filled, cancelled or expired"
FEE = "paid or waived fees rule"


class Loan(Base):
    """An item currently out; the row is deleted at checkin so no history remains without opt-in."""

    __tablename__ = "loans"
    __table_args__ = never_reused_ids()

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=LOAN)
    patron_id: Mapped[int] = annotated(ForeignKey("patrons.id"), index=True, pii=I, purpose="who has the item", retention=LOAN)
    item_id: Mapped[int] = annotated(ForeignKey("items.id"), unique=True, pii=I, purpose="which item is out", retention=LOAN)
    branch: Mapped[str] = annotated(String(32), pii=I, purpose="where it was lent", retention=LOAN)
    checked_out_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="loan period", retention=LOAN)
    due_at: Mapped[dt.datetime] = annotated(UTCDateTime, index=True, pii=I, purpose="due date and overdue notices", retention=LOAN)
    renewals: Mapped[int] = annotated(Integer, default=0, pii=I, purpose="renewal limit", retention=LOAN)


class HoldStatus(enum.StrEnum):
    """Stages of a hold."""

    WAITING = "waiting"
    IN_TRANSIT = "in_transit"
    ON_SHELF = "on_shelf"


class Hold(Base):
    """A request for a title (any copy) or one item, queued by time placed."""

    __tablename__ = "holds"
    __table_args__ = never_reused_ids()

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=HOLD)
    patron_id: Mapped[int] = annotated(ForeignKey("patrons.id"), index=True, pii=I, purpose="who asked", retention=HOLD)
    record_id: Mapped[int] = annotated(ForeignKey("records.id"), index=True, pii=I, purpose="what was asked for", retention=HOLD)
    item_id: Mapped[int | None] = annotated(ForeignKey("items.id"), pii=I, purpose="item-level hold", retention=HOLD)
    pickup_branch: Mapped[str] = annotated(String(32), pii=I, purpose="where to collect", retention=HOLD)
    placed_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="queue order", retention=HOLD)
    expires_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=I, purpose="when the request lapses", retention=HOLD)
    status: Mapped[str] = annotated(String(16), default=HoldStatus.WAITING.value, pii=I, purpose="queue stage", retention=HOLD)
    trapped_item_id: Mapped[int | None] = annotated(ForeignKey("items.id"), unique=True, pii=I, purpose="the copy set aside", retention=HOLD)
    shelf_expires_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=I, purpose="hold shelf period", retention=HOLD)


class FeeStatus(enum.StrEnum):
    """Whether a fee is still owed."""

    OPEN = "open"
    PAID = "paid"
    WAIVED = "waived"


class Fee(Base):
    """Money owed; its own record so a fee never keeps a loan from being anonymised (PRIV-03)."""

    __tablename__ = "fees"

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=FEE)
    patron_id: Mapped[int] = annotated(ForeignKey("patrons.id"), index=True, pii=I, purpose="who owes", retention=FEE)
    item_id: Mapped[int | None] = annotated(ForeignKey("items.id", ondelete="SET NULL"), pii=I, purpose="what the fee is for, until settled", retention=FEE)
    kind: Mapped[str] = annotated(String(16), pii=I, purpose="fee type", retention=FEE)
    amount: Mapped[int] = annotated(Integer, pii=I, purpose="amount charged (minor units)", retention=FEE)
    balance: Mapped[int] = annotated(Integer, pii=I, purpose="amount still owed (minor units)", retention=FEE)
    status: Mapped[str] = annotated(String(16), default=FeeStatus.OPEN.value, pii=I, purpose="open, paid or waived", retention=FEE)
    created_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="when charged", retention=FEE)
    settled_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=I, purpose="start of the settled-fee retention", retention=FEE)


class FeePayment(Base):
    """A payment or waiver against a fee."""

    __tablename__ = "fee_payments"

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=FEE)
    fee_id: Mapped[int] = annotated(ForeignKey("fees.id", ondelete="CASCADE"), index=True, pii=I, purpose="which fee", retention=FEE)
    amount: Mapped[int] = annotated(Integer, pii=I, purpose="amount paid (minor units)", retention=FEE)
    method: Mapped[str] = annotated(String(16), pii=I, purpose="cash, card or waiver", retention=FEE)
    transaction_id: Mapped[str | None] = annotated(String(64), pii=I, purpose="payment terminal reference", retention=FEE)
    paid_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="bookkeeping", retention=FEE)
