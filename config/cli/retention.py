"""Purge, backup, restore and rekey at the command line (PRIV-07, PRIV-08)."""

from __future__ import annotations

import argparse
from pathlib import Path

from config.bootstrap import store_options
from config.cli._context import EXIT_OK, EXIT_REFUSED, EXIT_SETUP, Context
from config.privacy_wiring import backup_folder, retention_rules
from config.settings import Settings
from core.errors import StoreError
from core.privacy.backup import backup, restore
from core.privacy.keyring import prune_retired_keys
from core.privacy.purge import purge, run_retention
from core.privacy.rekey import plan_rekey, rekey
from core.security.keys import load_key
from core.services.actors import Actor, local_admin


def _admin(ctx: Context) -> Actor:
    return local_admin(ctx.settings.circulation.branches[0])


def _embedded_only(settings: Settings) -> None:
    if settings.store.url is not None:
        raise StoreError("rekey works on the embedded SQLCipher store only")


def cmd_purge(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    rules = retention_rules(settings.retention)
    batch = settings.retention.batch_size
    with ctx.store() as store:
        if args.dry_run:
            report = purge(
                store, ctx.clock(), rules, dry_run=True, batch_size=batch, actor=_admin(ctx)
            )
        else:
            report = run_retention(
                store,
                ctx.clock(),
                rules,
                backup_dir=backup_folder(settings),
                batch_size=batch,
                actor=_admin(ctx),
            )
    ctx.out(report.text())  # counts only: a purge report never names anyone (PRIV-07)
    if not args.dry_run:
        keys = prune_retired_keys(settings.key_path, backup_folder(settings), ctx.clock(), rules)
        if keys:
            ctx.out(f"retired keys no kept backup needs, destroyed: {keys}")
    return EXIT_OK


def cmd_backup(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    ctx.require_instance()
    now = ctx.clock()
    if args.file is not None:
        target = Path(args.file)
    else:
        folder = backup_folder(settings)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        suffix = "db" if settings.store.url is None else "shared-backup"  # not a database file
        target = folder / f"reticent-{now:%Y%m%dT%H%M%SZ}.{suffix}"
    if not target.parent.is_dir():
        ctx.err(f"no folder {target.parent}")
        return EXIT_SETUP
    key = load_key(settings.key_path)
    with ctx.store() as store:
        report = backup(store, key, target, now=now, actor=_admin(ctx))
    ctx.out(f"backup written to {report.path} ({report.size_bytes} bytes, encrypted)")
    return EXIT_OK


def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    ctx.require_instance()
    rules = retention_rules(settings.retention)
    backup_key = load_key(Path(args.backup_key_file)) if args.backup_key_file else None
    report = restore(
        store_options(settings),
        Path(args.file),
        rules,
        ctx.clock(),
        backup_key=backup_key,
        batch_size=settings.retention.batch_size,
        actor=_admin(ctx),
    )
    ctx.out(report.text())
    return EXIT_OK


def _confirmed(ctx: Context, args: argparse.Namespace, question: str) -> bool:
    """`--yes`, or a yes typed at a terminal; without a terminal nothing is assumed."""
    if args.yes:
        return True
    if not ctx.stdin.isatty():
        ctx.err("refused: this asks for confirmation; run it at a terminal or pass --yes")
        return False
    ctx.stdout.write(f"{question} [y/N] ")
    ctx.stdout.flush()
    return ctx.stdin.readline().strip().lower() in {"y", "yes"}


def cmd_rekey(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    _embedded_only(settings)
    ctx.require_instance()
    plan = plan_rekey(settings.key_path, backup_folder(settings))
    ctx.out(f"rekey re-encrypts {settings.database_path} with a new random key (PRIV-08).")
    ctx.out(
        f"The current key {plan.key_id} is kept, mode 0600, in {plan.retired_folder}, so the "
        f"{plan.backups_with_this_key} backup(s) made with it in {backup_folder(settings)} "
        "still restore with no extra option;"
    )
    ctx.out(
        "it is destroyed once retention has deleted the last backup that needs it. Keep a copy "
        "if you store backups elsewhere. `reticent serve` must be stopped."
    )
    if plan.retired_keys:
        ctx.out(f"({plan.retired_keys} key(s) from earlier rotations are kept there too.)")
    if not _confirmed(ctx, args, "Rotate the key now?"):
        ctx.out("nothing was changed")
        return EXIT_REFUSED
    report = rekey(settings.database_path, settings.key_path, now=ctx.clock(), actor=_admin(ctx))
    state = "completed an interrupted rotation" if report.resumed else "rotated the store key"
    ctx.out(f"{state}; new key in {report.key_file} (mode 0600); the old one is retired")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
    p = sub.add_parser("purge", help="apply the retention rules now (PRIV-07)")
    p.add_argument(
        "--dry-run", action="store_true", help="only count what would be removed; names nobody"
    )
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("backup", help="write an encrypted backup (safe while the server runs)")
    p.add_argument("file", nargs="?", help="target file (default: a dated file in backup_dir)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="replace the database with a backup, replaying the purge ledger (server stopped)",
    )
    p.add_argument("file", help="the backup file")
    p.add_argument(
        "--backup-key-file",
        help="key file the backup was made with, if it is not among the retired keys",
    )
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("rekey", help="rotate the database key (server stopped)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    p.set_defaults(func=cmd_rekey)
