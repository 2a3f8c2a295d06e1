"""Staff accounts with roles, and SIP2 terminal accounts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated

STAFF = "while the account exists (a removed one stays as a tombstone without its password)"
TERMINAL = "while the terminal account exists"
KEY = "until removed, and with the staff account"
TICKET = "seconds: consumed when the session starts, or removed once expired"
I, N = PiiClass.INDIRECT, PiiClass.NONE  # noqa: E741


class StaffUser(Base):
    """A member of staff who signs in to the terminal UI or runs commands."""

    __tablename__ = "staff_users"

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=STAFF)
    username: Mapped[str] = annotated(String(64), unique=True, pii=I, purpose="sign-in and audit", retention=STAFF)
    role: Mapped[str] = annotated(String(32), pii=I, purpose="permissions (PRIV-05)", retention=STAFF)
    password_hash: Mapped[str] = annotated(String(200), pii=I, purpose="authentication (argon2id)", retention=STAFF)
    training_version: Mapped[str | None] = annotated(String(32), pii=I, purpose="training acknowledged (PRIV-15)", retention=STAFF)
    disabled: Mapped[bool] = annotated(Boolean, default=False, pii=I, purpose="revoke access", retention=STAFF)
    secret_rule: Mapped[str | None] = annotated(String(32), pii=N, purpose="password rule the password was set under; None: before rules (PRIV-09)", retention=STAFF)
    removed_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=I, purpose="a removed account stays as a tombstone so the audit trail reads (PRIV-15)", retention=STAFF)
    created_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="account management", retention=STAFF)


class SipAccount(Base):
    """A self-check kiosk, book drop or sorter that logs in over SIP2."""

    __tablename__ = "sip_accounts"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=TERMINAL)
    login: Mapped[str] = annotated(String(64), unique=True, pii=N, purpose="terminal sign-in", retention=TERMINAL)
    password_hash: Mapped[str] = annotated(String(200), pii=N, purpose="terminal authentication (argon2id)", retention=TERMINAL)
    institution_id: Mapped[str] = annotated(String(64), pii=N, purpose="SIP2 AO", retention=TERMINAL)
    location: Mapped[str] = annotated(String(64), default="", pii=N, purpose="branch of the terminal", retention=TERMINAL)
    profile: Mapped[str] = annotated(String(32), default="minimal", pii=N, purpose="fields the terminal may see (PRIV-16)", retention=TERMINAL)
    enabled: Mapped[bool] = annotated(Boolean, default=True, pii=N, purpose="revoke access", retention=TERMINAL)
    secret_rule: Mapped[str | None] = annotated(String(32), pii=N, purpose="password rule the password was set under; None: before rules (PRIV-09)", retention=TERMINAL)
    removed_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=N, purpose="a removed account stays as a tombstone so the audit trail reads (PRIV-15)", retention=TERMINAL)
    created_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=N, purpose="account management", retention=TERMINAL)


class StaffKey(Base):
    """An SSH public key with which a member of staff may sign in to the terminal UI."""

    __tablename__ = "staff_keys"

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=KEY)
    staff_id: Mapped[int] = annotated(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True, pii=I, purpose="whose key", retention=KEY)
    public_key: Mapped[str] = annotated(String(4000), pii=I, purpose="SSH sign-in by key (OpenSSH format, no comment)", retention=KEY)
    fingerprint: Mapped[str] = annotated(String(100), unique=True, pii=I, purpose="tell keys apart when listing and removing", retention=KEY)
    added_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="account management", retention=KEY)


class SessionTicket(Base):
    """A single-use ticket the SSH gateway hands to the terminal UI it starts for a member of staff.

    Only a hash of the ticket is kept, so reading the table gives nothing that opens a session.
    """

    __tablename__ = "session_tickets"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=TICKET)
    ticket_hash: Mapped[str] = annotated(String(64), unique=True, pii=N, purpose="recognise the ticket once", retention=TICKET)
    staff_id: Mapped[int] = annotated(ForeignKey("staff_users.id", ondelete="CASCADE"), pii=I, purpose="who the session serves", retention=TICKET)
    session_id: Mapped[str] = annotated(String(64), pii=N, purpose="SSH session named in the audit log (PRIV-05)", retention=TICKET)
    expires_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=N, purpose="tickets work for seconds only", retention=TICKET)
