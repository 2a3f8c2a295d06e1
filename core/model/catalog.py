"""Bibliographic records and the items (copies) that circulate."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, relationship

from core.model.base import Base, PiiClass, UTCDateTime, annotated

CATALOG = "kept while the item is in the collection"
N = PiiClass.NONE


class ItemStatus(enum.StrEnum):
    """Where an item is in its circulation life."""

    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    ON_HOLD_SHELF = "on_hold_shelf"
    IN_TRANSIT = "in_transit"
    IN_PROCESS = "in_process"
    LOST = "lost"
    MISSING = "missing"
    WITHDRAWN = "withdrawn"


class Record(Base):
    """A title: what the catalogue knows about a work, shared by its copies."""

    __tablename__ = "records"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=CATALOG)
    title: Mapped[str] = annotated(String(500), pii=N, purpose="catalogue", retention=CATALOG)
    author: Mapped[str] = annotated(String(300), default="", pii=N, purpose="catalogue", retention=CATALOG)
    isbn: Mapped[str] = annotated(String(20), default="", index=True, pii=N, purpose="catalogue", retention=CATALOG)

    items: Mapped[list[Item]] = relationship(back_populates="record")


class Item(Base):
    """A physical copy with its barcode, shelf place and circulation status."""

    __tablename__ = "items"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=CATALOG)
    barcode: Mapped[str] = annotated(String(64), unique=True, pii=N, purpose="identify the copy at the desk and kiosk", retention=CATALOG)
    record_id: Mapped[int] = annotated(ForeignKey("records.id"), index=True, pii=N, purpose="link copy to title", retention=CATALOG)
    call_number: Mapped[str] = annotated(String(100), default="", pii=N, purpose="shelving", retention=CATALOG)
    media_type: Mapped[str] = annotated(String(32), pii=N, purpose="loan rules and statistics", retention=CATALOG)
    home_branch: Mapped[str] = annotated(String(32), pii=N, purpose="routing returns", retention=CATALOG)
    location: Mapped[str] = annotated(String(64), default="", pii=N, purpose="shelving", retention=CATALOG)
    status: Mapped[str] = annotated(String(16), default=ItemStatus.AVAILABLE.value, pii=N, purpose="circulation", retention=CATALOG)
    properties: Mapped[str] = annotated(String(255), default="", pii=N, purpose="item properties for kiosks (SIP2 CH)", retention=CATALOG)
    rfid_tag: Mapped[str | None] = annotated(String(64), unique=True, pii=N, purpose="RFID pads and gates", retention=CATALOG)
    status_changed_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=N, purpose="shelf and transit management", retention=CATALOG)

    record: Mapped[Record] = relationship(back_populates="items")
