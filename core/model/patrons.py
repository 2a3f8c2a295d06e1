"""Patrons with only what circulation needs (PRIV-06), their consents and opt-in reading history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated, never_reused_ids
from core.model.sealed import SealedLookup, SealedName, SealedText

PATRON = "removed with the patron record (expired or inactive patron rule)"
D, I = PiiClass.DIRECT, PiiClass.INDIRECT  # noqa: E741

NOTE_MAX_CHARS = 500  # PRIV-06: free-text notes are capped and expire


class Patron(Base):
    """A borrower: barcode, name, category, expiry, optional contact, PIN hash and flags."""

    __tablename__ = "patrons"
    __table_args__ = never_reused_ids()

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=PATRON)
    barcode: Mapped[str] = annotated(SealedLookup(64, "patron.barcode"), unique=True, pii=D, purpose="identify the patron at desk and kiosk", retention=PATRON)
    given_name: Mapped[str] = annotated(SealedName(100, "patron.given_name"), pii=D, purpose="address the patron", retention=PATRON)
    family_name: Mapped[str] = annotated(SealedName(100, "patron.family_name"), pii=D, purpose="tell patrons apart at the desk", retention=PATRON)
    category: Mapped[str] = annotated(String(32), pii=I, purpose="loan rules", retention=PATRON)
    home_branch: Mapped[str] = annotated(String(32), default="main", pii=I, purpose="default pickup branch", retention=PATRON)
    expires_on: Mapped[dt.date] = annotated(Date, pii=I, purpose="card validity", retention=PATRON)
    email: Mapped[str | None] = annotated(SealedText(254, "patron.email"), pii=D, purpose="notices the patron asked for", retention=PATRON)
    phone: Mapped[str | None] = annotated(SealedText(32, "patron.phone"), pii=D, purpose="notices the patron asked for", retention=PATRON)
    pin_hash: Mapped[str | None] = annotated(String(200), pii=D, purpose="authenticate the patron (argon2id, PRIV-09)", retention=PATRON)
    pin_rule: Mapped[str | None] = annotated(String(32), pii=I, purpose="PIN rule the PIN was set under; None: before rules (PRIV-09)", retention=PATRON)
    pin_failed_attempts: Mapped[int] = annotated(Integer, default=0, pii=I, purpose="lock out PIN guessing", retention=PATRON)
    pin_locked_until: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=I, purpose="lock out PIN guessing", retention=PATRON)
    is_minor: Mapped[bool] = annotated(Boolean, default=False, pii=I, purpose="minors' rules without a birth date (PRIV-06)", retention=PATRON)
    guardian_id: Mapped[int | None] = annotated(ForeignKey("patrons.id", ondelete="SET NULL"), pii=I, purpose="guardian of a minor", retention=PATRON)
    card_lost: Mapped[bool] = annotated(Boolean, default=False, pii=I, purpose="block a lost card", retention=PATRON)
    staff_block: Mapped[str | None] = annotated(String(200), pii=I, purpose="staff block with its reason", retention=PATRON)
    note: Mapped[str | None] = annotated(SealedText(NOTE_MAX_CHARS, "patron.note"), pii=D, purpose="staff note (capped, expires, PRIV-06)", retention="until note_expires_on, and with the patron")
    note_expires_on: Mapped[dt.date | None] = annotated(Date, pii=I, purpose="expiry of the staff note", retention=PATRON)
    policy_version: Mapped[str | None] = annotated(String(32), pii=I, purpose="privacy policy version acknowledged (PRIV-01)", retention=PATRON)
    created_on: Mapped[dt.date] = annotated(Date, pii=I, purpose="retention of inactive accounts", retention=PATRON)
    last_activity_on: Mapped[dt.date] = annotated(Date, pii=I, purpose="retention of inactive accounts (day only)", retention=PATRON)


class Consent(Base):
    """An opt-in currently given by a patron (PRIV-02); absent means no."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("patron_id", "kind"), never_reused_ids())

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=PATRON)
    patron_id: Mapped[int] = annotated(ForeignKey("patrons.id", ondelete="CASCADE"), index=True, pii=I, purpose="whose consent", retention=PATRON)
    kind: Mapped[str] = annotated(String(80), pii=I, purpose="what was consented to", retention="until withdrawn")
    granted_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="proof of consent", retention="until withdrawn")
    policy_version: Mapped[str | None] = annotated(String(32), pii=I, purpose="policy in force when given", retention="until withdrawn")
    channel: Mapped[str] = annotated(String(32), pii=I, purpose="how it was given (desk, kiosk, web)", retention="until withdrawn")


class ReadingHistory(Base):
    """A returned loan remembered only for patrons who opted in (PRIV-03)."""

    __tablename__ = "reading_history"
    __table_args__ = never_reused_ids()

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention="reading history rule")
    patron_id: Mapped[int] = annotated(ForeignKey("patrons.id", ondelete="CASCADE"), index=True, pii=I, purpose="whose history", retention="reading history rule; deleted when checkout_history consent is withdrawn")
    record_id: Mapped[int | None] = annotated(ForeignKey("records.id", ondelete="SET NULL"), pii=I, purpose="what was read", retention="reading history rule")
    title: Mapped[str] = annotated(String(500), pii=I, purpose="what was read, kept if the record is withdrawn", retention="reading history rule")
    author: Mapped[str] = annotated(String(300), pii=I, purpose="what was read", retention="reading history rule")
    returned_on: Mapped[dt.date] = annotated(Date, pii=I, purpose="when (day only)", retention="reading history rule")
