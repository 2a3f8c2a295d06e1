"""`reticent tui`: the staff terminal UI, signed in by hand or by a ticket from the SSH gateway."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING

from config.cli._context import EXIT_OK, EXIT_REFUSED, Context
from config.privacy_wiring import backup_folder, retention_rules
from config.settings import Settings
from core.errors import ReticentError
from core.privacy.backup import BackupReport, backup
from core.security.keys import load_key
from core.services.actors import Actor
from core.services.ssh_access import redeem_ticket
from core.store.uow import Store

if TYPE_CHECKING:  # the UI is imported only when it runs: other commands start faster
    from tui.context import Facilities

# The SSH gateway puts the ticket here for the process it starts; it is removed at once so
# nothing the app starts inherits it. It names no one: the store row it points to does.
TICKET_ENV = "RETICENT_TUI_TICKET"


def build_facilities(settings: Settings, store: Store) -> Facilities:
    """The appliance's parts the screens use, from the settings (the UI never reads config)."""
    from tui.context import Facilities

    def make_backup(actor: Actor, now: dt.datetime) -> BackupReport:
        folder = backup_folder(settings)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = folder / f"reticent-{now:%Y%m%dT%H%M%SZ}.db"
        return backup(store, load_key(settings.key_path), target, now=now, actor=actor)

    return Facilities(
        library_name=settings.library.name,
        branch=settings.circulation.branches[0],
        currency=settings.library.currency,
        report_k=settings.notices.report_k,
        pin_rule=settings.security.pin,
        retention_rules=retention_rules(settings.retention),
        retention_batch=settings.retention.batch_size,
        backup_dir=backup_folder(settings),
        make_backup=make_backup,
    )


def take_ticket(environ: MutableMapping[str, str]) -> str | None:
    return environ.pop(TICKET_ENV, None)


def cmd_tui(ctx: Context, args: argparse.Namespace) -> int:
    from tui.app import StaffApp
    from tui.context import StaffSession

    ticket = take_ticket(os.environ) if ctx.environ is os.environ else None
    clock: Callable[[], dt.datetime] = ctx.clock
    with ctx.store() as store:
        facilities = build_facilities(ctx.settings, store)
        session = None
        session_id = f"local-{secrets.token_hex(4)}"
        if ticket is not None:
            try:
                with store.write() as uow:
                    grant = redeem_ticket(uow, clock(), ticket)
            except ReticentError as error:
                ctx.err(str(error))
                return EXIT_REFUSED
            session = StaffSession(grant.actor, grant.session_id)
        app = StaffApp(
            store,
            facilities,
            clock,
            session=session,
            session_id=session_id,
            theme_name=args.theme,
            environ=ctx.environ,
        )
        app.run()
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tui", help="the staff terminal UI (asks for a staff user and password)")
    p.add_argument(
        "--theme",
        choices=("reticent", "reticent-contrast"),
        help="colour theme (default: reticent; reticent-contrast when NO_COLOR is set)",
    )
    p.set_defaults(func=cmd_tui)
