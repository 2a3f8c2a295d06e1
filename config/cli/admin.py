"""Instance commands: init, migrate, staff and terminal accounts, audit verification."""

from __future__ import annotations

import argparse
from pathlib import Path

from config.bootstrap import build_store
from config.cli._context import EXIT_OK, EXIT_REFUSED, EXIT_SETUP, Context
from config.settings import load_settings
from config.template import render_config
from core.audit import verify_chain
from core.services.accounts import add_sip_account, add_staff
from core.services.actors import STAFF_ROLES, local_admin
from core.store.migrate import current_revision, head_revision

CONFIG_NAME = "reticent.toml"


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    if args.data_dir is not None:
        data_dir = Path(args.data_dir).resolve()
        config_file = data_dir / CONFIG_NAME
    else:
        data_dir = ctx.settings.data_dir
        config_file = ctx.config_path or data_dir / CONFIG_NAME
    for existing in (config_file, data_dir / "reticent.db", data_dir / "reticent.key"):
        if existing.exists():
            ctx.err(f"{existing} already exists; refusing to overwrite an instance")
            return EXIT_SETUP
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    if args.data_dir is not None or ctx.config_path is None:
        config_file.write_text(render_config(Path(".")), encoding="utf-8")
    settings = load_settings(config_file, {}) if config_file.exists() else ctx.settings
    store = build_store(settings, create=True, now=ctx.clock())
    try:
        ctx.out(
            f"created {settings.database_path} (encrypted), key {settings.key_path} (mode 0600)"
        )
        ctx.out(f"configuration: {config_file}")
        if args.demo:
            from config.demo import load_demo

            for line in load_demo(store, settings, ctx.clock()):
                ctx.out(line)
    finally:
        store.close()
    return EXIT_OK


def cmd_migrate(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store(migrate=True) as store:
        ctx.out(f"schema at revision {current_revision(store.engine)} (head {head_revision()})")
    return EXIT_OK


def cmd_staff_add(ctx: Context, args: argparse.Namespace) -> int:
    password = ctx.read_secret()
    with ctx.store() as store:
        password_hash = store.env.hasher.hash(password)
        with store.write() as uow:
            add_staff(uow, local_admin(), ctx.clock(), args.user, args.role, password_hash)
    ctx.out(f"staff user {args.user} added with role {args.role}")
    return EXIT_OK


def cmd_sip_account_add(ctx: Context, args: argparse.Namespace) -> int:
    profiles = {"minimal", "named", *ctx.settings.sip2.profiles}
    if args.profile not in profiles:
        ctx.err(f"unknown field profile {args.profile!r} (known: {', '.join(sorted(profiles))})")
        return EXIT_SETUP
    branches = ctx.settings.circulation.branches
    location = args.location or branches[0]
    if location not in branches:
        ctx.err(f"unknown branch {location!r} (configured: {', '.join(branches)})")
        return EXIT_SETUP
    password = ctx.read_secret()
    with ctx.store() as store:
        password_hash = store.env.hasher.hash(password)
        with store.write() as uow:
            add_sip_account(
                uow,
                local_admin(),
                ctx.clock(),
                args.login,
                password_hash,
                institution_id=args.institution,
                location=location,
                profile=args.profile,
            )
    ctx.out(f"terminal account {args.login} added (profile {args.profile})")
    return EXIT_OK


def cmd_audit_verify(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.read() as uow:
        report = verify_chain(uow.session)
    if report.first_broken is None:
        ctx.out(f"audit chain intact: {report.events} events")
        return EXIT_OK
    ctx.out(f"audit chain broken at event {report.first_broken}: {report.reason}")
    return EXIT_REFUSED


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="create a new encrypted instance")
    p.add_argument("--data-dir", help="folder for reticent.toml, the key file and the database")
    p.add_argument("--demo", action="store_true", help="load demo records, patrons and accounts")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("migrate", help="apply schema migrations")
    p.set_defaults(func=cmd_migrate)

    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(
        dest="action", required=True
    )
    p = staff.add_parser("add", help="add a staff user (password on standard input)")
    p.add_argument("user")
    p.add_argument("--role", required=True, choices=[r.value for r in STAFF_ROLES])
    p.add_argument("--password-stdin", action="store_true", required=True)
    p.set_defaults(func=cmd_staff_add)

    sip = sub.add_parser("sip-account", help="SIP2 terminal accounts")
    sip_sub = sip.add_subparsers(dest="action", required=True)
    p = sip_sub.add_parser("add", help="add a terminal account (password on standard input)")
    p.add_argument("login")
    p.add_argument("--institution", required=True, help="SIP2 institution id (AO)")
    p.add_argument("--location", help="branch of the terminal")
    p.add_argument("--profile", default="minimal", help="field profile (PRIV-16)")
    p.add_argument("--password-stdin", action="store_true", required=True)
    p.set_defaults(func=cmd_sip_account_add)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="action", required=True
    )
    p = audit.add_parser("verify", help="verify the hash chain")
    p.set_defaults(func=cmd_audit_verify)
