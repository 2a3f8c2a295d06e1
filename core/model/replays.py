"""SIP2 transactions already applied, so a kiosk's retry is answered and never applied twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated

REPLAY = "deleted once older than the replay window (10 minutes, core/services/replays.py)"
I, N = PiiClass.INDIRECT, PiiClass.NONE  # noqa: E741


class Sip2Replay(Base):
    """One applied SIP2 transaction: a keyed hash of what identifies it, and its answer.

    PRIV-03: no patron, no item and no title is stored. The key is an HMAC (a sub-key of the
    instance secret) of the terminal, the request, the patron, the item and the terminal's own
    transaction date; the answer is kept without its patron id, item id and title, which a
    retry carries (or names) itself. So the row tells no more than the retrying kiosk knows.
    """

    __tablename__ = "sip2_replays"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=REPLAY)
    key: Mapped[str] = annotated(String(64), index=True, pii=I, purpose="recognise a retried transaction (keyed hash)", retention=REPLAY)
    answer: Mapped[str] = annotated(Text, pii=I, purpose="the first answer, without patron, item or title", retention=REPLAY)
    created_at: Mapped[dt.datetime] = annotated(UTCDateTime, index=True, pii=N, purpose="prune after the replay window", retention=REPLAY)
