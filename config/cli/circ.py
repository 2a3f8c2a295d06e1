"""Circulation at the command line: checkout, checkin, renew, patron and item lookups."""

from __future__ import annotations

import argparse
import datetime as dt

from config.cli._context import EXIT_OK, EXIT_REFUSED, Context
from core.services import circulation, items, patrons
from core.services.actors import Actor, local_admin
from core.services.views import ItemView, PatronView


def _admin(ctx: Context) -> Actor:
    return local_admin(ctx.settings.circulation.branches[0])


def _money(amount: int, ctx: Context) -> str:
    return f"{amount / 100:.2f} {ctx.settings.library.currency}"


def _date(moment: dt.datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _show_item(ctx: Context, item: ItemView) -> None:
    ctx.out(f"item      {item.barcode}")
    ctx.out(f"title     {item.title}")
    ctx.out(f"author    {item.author or '-'}")
    ctx.out(f"isbn      {item.isbn or '-'}")
    ctx.out(f"call no.  {item.call_number or '-'}")
    ctx.out(f"media     {item.media_type}")
    ctx.out(f"home      {item.home_branch} / {item.location or '-'}")
    ctx.out(f"status    {item.status}")
    ctx.out(f"due       {_date(item.due_at)}")
    ctx.out(f"holds     {item.hold_queue_length}")


def _show_patron(ctx: Context, p: PatronView) -> None:
    ctx.out(f"patron    {p.barcode}")
    ctx.out(f"name      {p.given_name} {p.family_name}")
    ctx.out(f"category  {p.category}{' (minor)' if p.is_minor else ''}")
    ctx.out(f"expires   {p.expires_on.isoformat()}")
    ctx.out(f"contact   {p.email or '-'} / {p.phone or '-'}")
    ctx.out(f"PIN       {'set' if p.has_pin else 'not set'}")  # PRIV-09: never the PIN itself
    ctx.out(f"loans     {p.loans} ({p.overdue} overdue)")
    ctx.out(f"holds     {p.holds} ({p.holds_available} ready)")
    ctx.out(f"fees      {_money(p.fees_outstanding, ctx)}")
    blocks = ", ".join(sorted(b.value for b in p.blocks)) or "none"
    ctx.out(f"blocks    {blocks}")
    if p.note:
        ctx.out(f"note      {p.note}")


class _AlreadyLent(Exception):
    """The patron already has the item: the checkout (a renewal) is rolled back."""


def cmd_checkout(ctx: Context, args: argparse.Namespace) -> int:
    try:
        with ctx.store() as store, store.write() as uow:
            result = circulation.checkout(uow, _admin(ctx), ctx.clock(), args.patron, args.item)
            if result.renewed:
                # SIP2 terminals renew this way; at the command line it is a mistake more often.
                raise _AlreadyLent
    except _AlreadyLent:
        ctx.err(
            f"refused: {args.patron} already has {args.item}; nothing was changed. To extend "
            f"the loan: `reticent renew {args.item}`"
        )
        return EXIT_REFUSED
    ctx.out(f"checked out {result.item.barcode}, due {_date(result.due_at)}")
    return EXIT_OK


def cmd_checkin(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:
        result = circulation.checkin(uow, _admin(ctx), ctx.clock(), args.item)
    ctx.out(f"checked in {result.item.barcode}: {result.item.status}")
    if result.fine:
        ctx.out(f"overdue fine {_money(result.fine, ctx)}")
    if result.on_hold_shelf:
        ctx.out("put on the hold shelf")
    elif result.destination_branch:
        ctx.out(f"send to {result.destination_branch}")
    if not result.was_on_loan:
        ctx.out("(the item was not on loan)")
    return EXIT_OK


def cmd_renew(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:
        result = circulation.renew(uow, _admin(ctx), ctx.clock(), args.item)
    ctx.out(f"renewed {result.item.barcode} ({result.renewals}), due {_date(result.due_at)}")
    return EXIT_OK


def cmd_patron_show(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:  # write: the view is audited (PRIV-05)
        view = patrons.find_patron(uow, _admin(ctx), ctx.clock(), args.barcode)
    _show_patron(ctx, view)
    return EXIT_OK


def cmd_item_show(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.read() as uow:
        view = items.find_item(uow, _admin(ctx), ctx.clock(), args.barcode)
    _show_item(ctx, view)
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("checkout", help="lend an item to a patron")
    p.add_argument("patron")
    p.add_argument("item")
    p.set_defaults(func=cmd_checkout)
    p = sub.add_parser("checkin", help="return an item")
    p.add_argument("item")
    p.set_defaults(func=cmd_checkin)
    p = sub.add_parser("renew", help="renew a loan")
    p.add_argument("item")
    p.set_defaults(func=cmd_renew)
    patron = sub.add_parser("patron", help="patrons").add_subparsers(dest="action", required=True)
    p = patron.add_parser("show", help="show a patron (audited)")
    p.add_argument("barcode")
    p.set_defaults(func=cmd_patron_show)
    item = sub.add_parser("item", help="items").add_subparsers(dest="action", required=True)
    p = item.add_parser("show", help="show an item")
    p.add_argument("barcode")
    p.set_defaults(func=cmd_item_show)
