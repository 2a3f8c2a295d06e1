"""Patron messages: status (23), information (63), end session (35), block (01), enable (25)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TypedDict

from core.errors import DomainError, NotFound
from core.policy.blocks import Block
from core.policy.reasons import Reason
from core.privacy.policy import patron_needs_acknowledgement
from core.services import patrons
from core.services.views import PatronDetail, PatronView
from core.store.uow import Transactions
from sip2.codec import (
    BlockPatron,
    EndPatronSession,
    EndSessionResponse,
    PatronEnable,
    PatronEnableResponse,
    PatronInformation,
    PatronInformationResponse,
    PatronStatusRequest,
    PatronStatusResponse,
)
from sip2.handlers._common import (
    PIN_INVALID,
    HandlerContext,
    denied_status,
    patron_status,
    reason_text,
)
from sip2.handlers.session import TerminalSession

UNKNOWN_CARD = "Library card not recognised."
# PRIV-01: a kiosk only says that the policy changed; staff hand out the text.
POLICY_CHANGED = "Our privacy policy has changed: please ask staff for a copy."

_BLOCK_REASONS = {
    Block.EXPIRED: Reason.CARD_EXPIRED,
    Block.CARD_LOST: Reason.CARD_LOST,
    Block.STAFF: Reason.STAFF_BLOCK,
    Block.FEE_LIMIT: Reason.FEE_LIMIT,
    Block.TOO_MANY_OVERDUE: Reason.TOO_MANY_OVERDUE,
    Block.TOO_MANY_LOANS: Reason.TOO_MANY_LOANS,
}


class _Common(TypedDict):
    language: str
    transaction_date: dt.datetime | None
    institution_id: str
    patron_id: str


def _common(ctx: HandlerContext, now: dt.datetime, institution_id: str, patron_id: str) -> _Common:
    return _Common(
        language=ctx.options.language,
        transaction_date=ctx.local(now),
        institution_id=institution_id or ctx.options.institution_id,
        patron_id=patron_id,
    )


def pin_state(session: TerminalSession, barcode: str, pin: str | None) -> bool | None:
    """None: no PIN that counts; else whether it passed (``TerminalSession.pin_proven``)."""
    return session.pin_proven(barcode, pin)


def _lookup(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    barcode: str,
    *,
    authenticated: bool = False,
) -> tuple[PatronView | None, bool]:
    """The patron, and whether a patron who proved a PIN must acknowledge a newer policy."""
    assert session.actor is not None
    try:
        with tx.read() as uow:
            view = patrons.find_patron(uow, session.actor, now, barcode)
            return view, authenticated and patron_needs_acknowledgement(
                uow.session, now, view.patron_id
            )
    except NotFound:
        return None, False


def _messages(
    view: PatronView, pin_ok: bool | None, policy_changed: bool = False
) -> tuple[str, ...]:
    if pin_ok is False:
        return (PIN_INVALID,)
    texts: list[str] = []
    for block in sorted(view.blocks):
        texts.append(reason_text(_BLOCK_REASONS[block]))
    if view.holds_available and pin_ok:  # PRIV-16: only the patron learns of their holds
        texts.append("Items are waiting for you on the hold shelf.")
    if policy_changed:  # PRIV-01, only after a valid PIN
        texts.append(POLICY_CHANGED)
    return tuple(texts)


def patron_status_request(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: PatronStatusRequest,
) -> PatronStatusResponse:
    opts = ctx.options
    pin_ok = pin_state(session, request.patron_id, request.patron_password)
    view, policy_changed = _lookup(
        ctx, tx, session, now, request.patron_id, authenticated=pin_ok is True
    )
    common = _common(ctx, now, request.institution_id, request.patron_id)
    if view is None:
        return PatronStatusResponse(
            patron_status=denied_status(),
            personal_name="",
            valid_patron=False,
            screen_messages=(UNKNOWN_CARD,),
            **common,
        )
    authenticated = pin_ok is True
    return PatronStatusResponse(
        patron_status=patron_status(view.flags),
        # PRIV-16: a name only after a valid PIN, and only as much as the profile allows.
        personal_name=session.profile.name_of(view) if authenticated else "",
        valid_patron=True,
        valid_patron_password=pin_ok,
        currency_type=opts.currency if authenticated else None,
        fee_amount=ctx.money(view.fees_outstanding) if authenticated else None,
        screen_messages=_messages(view, pin_ok, policy_changed),
        extra=session.profile.extras_of(view) if authenticated else (),
        **common,
    )


def _window(
    items: tuple[str, ...], start: int | None, end: int | None, limit: int
) -> tuple[str, ...]:
    first = max(1, start or 1)
    last = end if end is not None and end >= first else first + limit - 1
    last = min(last, first + limit - 1)
    return items[first - 1 : last]


class _ItemLists(TypedDict, total=False):
    hold_items: tuple[str, ...]
    overdue_items: tuple[str, ...]
    charged_items: tuple[str, ...]
    fine_items: tuple[str, ...]
    unavailable_hold_items: tuple[str, ...]


def _item_lists(
    ctx: HandlerContext, detail: PatronDetail, request: PatronInformation
) -> _ItemLists:
    """The one list the summary asks for (SIP2 allows one at a time), in the BP/BQ window."""
    summary = request.summary
    ready = tuple(h.item_barcode or h.title for h in detail.holds if h.status == "on_shelf")
    waiting = tuple(h.item_barcode or h.title for h in detail.holds if h.status != "on_shelf")
    lists = {
        "hold_items": (summary.hold_items, ready),
        "overdue_items": (
            summary.overdue_items,
            tuple(ln.item_barcode for ln in detail.loans if ln.overdue),
        ),
        "charged_items": (summary.charged_items, tuple(ln.item_barcode for ln in detail.loans)),
        "fine_items": (
            summary.fine_items,
            tuple(f"{fee.fee_id} {ctx.money(fee.balance)} {fee.kind}" for fee in detail.fees),
        ),
        "unavailable_hold_items": (summary.unavailable_holds, waiting),
    }
    for name, (wanted, entries) in lists.items():
        if wanted:
            window = _window(
                entries, request.start_item, request.end_item, ctx.options.item_list_limit
            )
            return _ItemLists(**{name: window})  # type: ignore[misc]
    return _ItemLists()


def patron_information(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: PatronInformation,
) -> PatronInformationResponse:
    opts = ctx.options
    pin_ok = pin_state(session, request.patron_id, request.patron_password)
    common = _common(ctx, now, request.institution_id, request.patron_id)
    assert session.actor is not None
    try:
        with tx.read() as uow:
            detail = patrons.patron_detail(uow, session.actor, now, request.patron_id)
            policy_changed = pin_ok is True and patron_needs_acknowledgement(
                uow.session, now, detail.patron.patron_id
            )
    except NotFound:
        return PatronInformationResponse(
            patron_status=denied_status(),
            hold_items_count=0,
            overdue_items_count=0,
            charged_items_count=0,
            fine_items_count=0,
            recall_items_count=0,
            unavailable_holds_count=0,
            personal_name="",
            valid_patron=False,
            screen_messages=(UNKNOWN_CARD,),
            **common,
        )
    view = detail.patron
    authenticated = pin_ok is True
    limits = ctx.store.env.rules.limits
    ready = sum(1 for h in detail.holds if h.status == "on_shelf")
    response = PatronInformationResponse(
        patron_status=patron_status(view.flags),
        # Counts, like names and lists, only after a valid PIN (PRIV-16).
        hold_items_count=ready if authenticated else 0,
        overdue_items_count=view.overdue if authenticated else 0,
        charged_items_count=view.loans if authenticated else 0,
        fine_items_count=len(detail.fees) if authenticated else 0,
        recall_items_count=0,
        unavailable_holds_count=len(detail.holds) - ready if authenticated else 0,
        personal_name=session.profile.name_of(view) if authenticated else "",
        overdue_items_limit=limits.max_overdue or None,
        charged_items_limit=limits.max_loans or None,
        valid_patron=True,
        valid_patron_password=pin_ok,
        currency_type=opts.currency if authenticated else None,
        fee_amount=ctx.money(view.fees_outstanding) if authenticated else None,
        fee_limit=ctx.money(limits.max_fees) if authenticated and limits.max_fees else None,
        screen_messages=_messages(view, pin_ok, policy_changed),
        extra=session.profile.extras_of(view) if authenticated else (),
        **common,
    )
    if not authenticated:
        return response  # PRIV-16: no item lists without a valid PIN
    return dataclasses.replace(response, **_item_lists(ctx, detail, request))


def end_patron_session(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: EndPatronSession,
) -> EndSessionResponse:
    session.end_patron_session()
    return EndSessionResponse(
        end_session=True,
        transaction_date=ctx.local(now),
        institution_id=request.institution_id or ctx.options.institution_id,
        patron_id=request.patron_id,
        screen_messages=("Thank you.",),
    )


def block_patron(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: BlockPatron,
) -> PatronStatusResponse:
    """01: block the card and record it for staff; the answer names nobody."""
    assert session.actor is not None
    opts = ctx.options
    reason = (request.blocked_card_message or "card blocked at a terminal")[:150]
    try:
        with tx.write() as uow:
            view = patrons.block_patron(
                uow,
                session.actor,
                now,
                request.patron_id,
                reason=reason,
                card_lost=request.card_retained,
            )
        status, valid, messages = (
            patron_status(view.flags),
            True,
            ("Card blocked, please see staff.",),
        )
    except NotFound:
        status, valid, messages = denied_status(), False, (UNKNOWN_CARD,)
    session.end_patron_session()
    return PatronStatusResponse(
        patron_status=status,
        language=opts.language,
        transaction_date=ctx.local(now),
        institution_id=request.institution_id or opts.institution_id,
        patron_id=request.patron_id,
        personal_name="",
        valid_patron=valid,
        screen_messages=messages,
    )


def patron_enable(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: PatronEnable,
) -> PatronEnableResponse:
    """25: lift a block a terminal set (staff blocks stay; PRIV-05)."""
    assert session.actor is not None
    pin_ok = pin_state(session, request.patron_id, request.patron_password)
    common = _common(ctx, now, request.institution_id, request.patron_id)
    if pin_ok is False:
        view, _ = _lookup(ctx, tx, session, now, request.patron_id)
        return PatronEnableResponse(
            patron_status=patron_status(view.flags) if view else denied_status(),
            personal_name="",
            valid_patron=view is not None,
            valid_patron_password=False,
            screen_messages=(PIN_INVALID,),
            **common,
        )
    try:
        with tx.write() as uow:
            view = patrons.unblock_patron(uow, session.actor, now, request.patron_id)
    except (NotFound, DomainError):
        return PatronEnableResponse(
            patron_status=denied_status(),
            personal_name="",
            valid_patron=False,
            screen_messages=(UNKNOWN_CARD,),
            **common,
        )
    return PatronEnableResponse(
        patron_status=patron_status(view.flags),
        personal_name=session.profile.name_of(view) if pin_ok else "",
        valid_patron=True,
        valid_patron_password=pin_ok,
        screen_messages=_messages(view, pin_ok),
        **common,
    )
