"""Finding at the desk: what a scanned barcode names, and patrons by name (audited, PRIV-05)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import or_, select

from core.audit import append_event
from core.errors import DomainError
from core.model import Item, Patron
from core.model.sealed import name_word_matches
from core.policy.reasons import Reason
from core.privacy.training import require_training
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

# A name search must say something about the person looked for: fewer letters would list
# half the town, which is browsing, not looking up (PRIV-05, PRIV-06).
MIN_QUERY_CHARS = 3
MAX_RESULTS = 20
_MAX_QUERY_CHARS = 100


@dataclass(frozen=True)
class PatronMatch:
    """One patron found by name: enough to tell people apart, then open the record by barcode."""

    barcode: str
    given_name: str
    family_name: str
    category: str
    expires_on: dt.date


@dataclass(frozen=True)
class SearchResult:
    """The matches, at most MAX_RESULTS; `more` says the search should be narrowed."""

    matches: tuple[PatronMatch, ...]
    more: bool


def search_patrons(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    query: str,
    *,
    session_id: str | None = None,
) -> SearchResult:
    """Patrons each of whose query words starts their given or family name (case-insensitive).

    Audited with the number of matches, never the query: the query is a name (PRIV-05).
    """
    actor.require(Permission.VIEW_PATRON)
    require_training(uow, actor, now)  # PRIV-15
    words = query.split()
    if len("".join(words)) < MIN_QUERY_CHARS or len(query) > _MAX_QUERY_CHARS:
        raise DomainError(
            Reason.PATRON_NOT_FOUND,
            f"type at least {MIN_QUERY_CHARS} letters of the name",
        )
    statement = select(
        Patron.barcode, Patron.given_name, Patron.family_name, Patron.category, Patron.expires_on
    )
    for word in words:
        # A prefix of a name on SQLite; a whole name word on a shared store, where names are
        # sealed and only their words' keyed hashes can be matched (core/model/sealed.py).
        statement = statement.where(
            or_(
                name_word_matches(Patron.family_name, word),
                name_word_matches(Patron.given_name, word),
            )
        )
    rows = uow.session.execute(
        statement.order_by(Patron.family_name, Patron.given_name, Patron.id).limit(MAX_RESULTS + 1)
    ).all()
    matches = tuple(PatronMatch(*row) for row in rows[:MAX_RESULTS])
    detail: dict[str, str | int] = {"matches": len(matches)}
    if session_id is not None:
        detail["session_id"] = session_id
    append_event(
        uow.session, now=now, actor=actor.label, action="patron.search", subject=None, detail=detail
    )
    return SearchResult(matches=matches, more=len(rows) > MAX_RESULTS)


class BarcodeKind(enum.StrEnum):
    """What a barcode typed or scanned at the desk names."""

    PATRON = "patron"
    ITEM = "item"
    UNKNOWN = "unknown"


def identify_barcode(uow: UnitOfWork, actor: Actor, barcode: str) -> BarcodeKind:
    """Whether a scanned barcode is a patron's card or an item: the desk has one input for both."""
    actor.require(Permission.CIRCULATE)
    if uow.session.scalar(select(Patron.id).where(Patron.barcode == barcode)) is not None:
        return BarcodeKind.PATRON
    if uow.session.scalar(select(Item.id).where(Item.barcode == barcode)) is not None:
        return BarcodeKind.ITEM
    return BarcodeKind.UNKNOWN
