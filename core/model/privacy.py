"""Policy versions, consent history and staff training acknowledgements (PRIV-01, PRIV-02, PRIV-15)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated

POLICY = "kept while the instance exists (the texts patrons and staff acknowledged)"
PATRON = "removed with the patron record (expired or inactive patron rule)"
CONSENT_PROOF = "removed with the patron record (proof of every opt-in and opt-out, PRIV-02)"
I, N = PiiClass.INDIRECT, PiiClass.NONE  # noqa: E741

VERSION_MAX_CHARS = 32  # the same width as patrons.policy_version and staff_users.training_version


class PolicyVersion(Base):
    """A published privacy policy text; the current one is the latest already in effect."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=POLICY)
    version: Mapped[str] = annotated(String(VERSION_MAX_CHARS), unique=True, pii=N, purpose="name of the version patrons and staff acknowledge", retention=POLICY)
    effective_on: Mapped[dt.date] = annotated(Date, pii=N, purpose="day the version takes effect (UTC)", retention=POLICY)
    text: Mapped[str] = annotated(Text, pii=N, purpose="the policy as published", retention=POLICY)
    sha256: Mapped[str] = annotated(String(64), pii=N, purpose="proof of exactly which text was acknowledged", retention=POLICY)
    published_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=N, purpose="when it was published", retention=POLICY)


class PolicyAck(Base):
    """One acknowledgement of a policy version by a patron, with the channel it came through."""

    __tablename__ = "policy_acks"

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=PATRON)
    patron_id: Mapped[int] = annotated(ForeignKey("patrons.id", ondelete="CASCADE"), index=True, pii=I, purpose="who acknowledged", retention=PATRON)
    version: Mapped[str] = annotated(String(VERSION_MAX_CHARS), pii=I, purpose="which policy version (PRIV-01)", retention=PATRON)
    channel: Mapped[str] = annotated(String(32), pii=I, purpose="how it was acknowledged (desk, kiosk, web)", retention=PATRON)
    acknowledged_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="when it was acknowledged", retention=PATRON)


class ConsentEvent(Base):
    """One grant or withdrawal of a consent: the history behind the current `consents` rows."""

    __tablename__ = "consent_events"

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=CONSENT_PROOF)
    patron_id: Mapped[int] = annotated(ForeignKey("patrons.id", ondelete="CASCADE"), index=True, pii=I, purpose="whose consent", retention=CONSENT_PROOF)
    kind: Mapped[str] = annotated(String(80), pii=I, purpose="what was consented to or withdrawn", retention=CONSENT_PROOF)
    granted: Mapped[bool] = annotated(Boolean, pii=I, purpose="given (true) or withdrawn (false)", retention=CONSENT_PROOF)
    policy_version: Mapped[str | None] = annotated(String(VERSION_MAX_CHARS), pii=I, purpose="policy in force at the time", retention=CONSENT_PROOF)
    at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="when", retention=CONSENT_PROOF)
    channel: Mapped[str] = annotated(String(32), pii=I, purpose="how (desk, kiosk, web)", retention=CONSENT_PROOF)
    actor: Mapped[str] = annotated(String(100), pii=I, purpose="who recorded it (staff user or terminal)", retention=CONSENT_PROOF)
