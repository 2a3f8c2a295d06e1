"""Staff and SIP2 terminal accounts: add, list, disable, enable, passwd, remove (PRIV-05, 09).

Passwords come from standard input or are generated and printed once; no listing ever shows a
password or its hash. Every change is audited by the services.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets

from config.cli._context import EXIT_OK, EXIT_SETUP, Context
from core.policy.secret_rules import GENERATED_ALPHABET, PasswordRule
from core.services import accounts
from core.services.actors import STAFF_ROLES, local_admin

# A generated terminal password: 24 signs of a 57-sign alphabet, about 140 bits.
GENERATED_LENGTH = 24


def _date(moment: dt.datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d}"


def _new_password(ctx: Context, rule: PasswordRule, what: str, *, generate: bool) -> str:
    """The new password: generated (and printed once) or read from standard input."""
    if generate:
        length = max(GENERATED_LENGTH, rule.min_length)
        return "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(length))
    password = ctx.read_secret()
    rule.require(password, what)
    return password


def _show_generated(ctx: Context, login: str, password: str) -> None:
    ctx.out(f"password for {login} (shown once, it is not stored in clear): {password}")


def cmd_staff_add(ctx: Context, args: argparse.Namespace) -> int:
    rule = ctx.settings.security.staff_password_rule
    password = _new_password(ctx, rule, "password", generate=False)
    with ctx.store() as store:
        password_hash = store.env.hasher.hash(password)
        with store.write() as uow:
            accounts.add_staff(
                uow,
                local_admin(),
                ctx.clock(),
                args.user,
                args.role,
                password_hash,
                secret_rule=rule.label,
            )
    ctx.out(f"staff user {args.user} added with role {args.role}")
    return EXIT_OK


def cmd_staff_list(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.read() as uow:
        rows = accounts.list_staff(uow, local_admin())
    ctx.out(f"{'user':<20} {'role':<16} {'state':<9} {'training':<10} {'rule':<6} created")
    for row in rows:
        state = "removed" if row.removed_at else ("enabled" if row.enabled else "disabled")
        ctx.out(
            f"{row.username:<20} {row.role:<16} {state:<9} {row.training_version or '-':<10} "
            f"{row.secret_rule or '-':<6} {_date(row.created_at)}"
        )
    ctx.out(f"({len(rows)} staff accounts)")
    return EXIT_OK


def cmd_staff_enable(ctx: Context, args: argparse.Namespace) -> int:
    enable = args.action == "enable"
    with ctx.store() as store, store.write() as uow:
        changed = accounts.set_staff_enabled(
            uow, local_admin(), ctx.clock(), args.user, enabled=enable
        )
    state = "enabled" if enable else "disabled"
    ctx.out(f"staff user {args.user} {state}" + ("" if changed else " (it already was)"))
    return EXIT_OK


def cmd_staff_passwd(ctx: Context, args: argparse.Namespace) -> int:
    rule = ctx.settings.security.staff_password_rule
    password = _new_password(ctx, rule, "password", generate=False)
    with ctx.store() as store:
        password_hash = store.env.hasher.hash(password)
        with store.write() as uow:
            accounts.set_staff_password(
                uow, local_admin(), ctx.clock(), args.user, password_hash, secret_rule=rule.label
            )
    ctx.out(f"password of staff user {args.user} changed")
    return EXIT_OK


def cmd_staff_remove(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:
        accounts.remove_staff(uow, local_admin(), ctx.clock(), args.user)
    ctx.out(f"staff user {args.user} removed (the name stays in the audit trail, not reusable)")
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
    rule = ctx.settings.security.terminal_password_rule
    password = _new_password(ctx, rule, "terminal password", generate=args.generate)
    with ctx.store() as store:
        password_hash = store.env.hasher.hash(password)
        with store.write() as uow:
            accounts.add_sip_account(
                uow,
                local_admin(),
                ctx.clock(),
                args.login,
                password_hash,
                institution_id=args.institution,
                location=location,
                profile=args.profile,
                secret_rule=rule.label,
            )
    ctx.out(f"terminal account {args.login} added (profile {args.profile})")
    if args.generate:
        _show_generated(ctx, args.login, password)
    return EXIT_OK


def cmd_sip_account_list(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.read() as uow:
        rows = accounts.list_terminals(uow, local_admin())
    ctx.out(
        f"{'login':<20} {'institution':<12} {'branch':<10} {'profile':<10} {'state':<9} "
        f"{'rule':<6} created"
    )
    for row in rows:
        state = "removed" if row.removed_at else ("enabled" if row.enabled else "disabled")
        ctx.out(
            f"{row.login:<20} {row.institution_id:<12} {row.location or '-':<10} "
            f"{row.profile:<10} {state:<9} {row.secret_rule or '-':<6} {_date(row.created_at)}"
        )
    ctx.out(f"({len(rows)} terminal accounts)")
    return EXIT_OK


def cmd_sip_account_enable(ctx: Context, args: argparse.Namespace) -> int:
    enable = args.action == "enable"
    with ctx.store() as store, store.write() as uow:
        changed = accounts.set_terminal_enabled(
            uow, local_admin(), ctx.clock(), args.login, enabled=enable
        )
    state = "enabled" if enable else "disabled; its logins are refused"
    ctx.out(f"terminal account {args.login} {state}" + ("" if changed else " (it already was)"))
    return EXIT_OK


def cmd_sip_account_passwd(ctx: Context, args: argparse.Namespace) -> int:
    rule = ctx.settings.security.terminal_password_rule
    password = _new_password(ctx, rule, "terminal password", generate=args.generate)
    with ctx.store() as store:
        password_hash = store.env.hasher.hash(password)
        with store.write() as uow:
            accounts.set_terminal_password(
                uow, local_admin(), ctx.clock(), args.login, password_hash, secret_rule=rule.label
            )
    ctx.out(f"password of terminal account {args.login} changed")
    if args.generate:
        _show_generated(ctx, args.login, password)
    return EXIT_OK


def cmd_sip_account_remove(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:
        accounts.remove_terminal(uow, local_admin(), ctx.clock(), args.login)
    ctx.out(f"terminal account {args.login} removed (the name stays in the audit trail)")
    return EXIT_OK


def _password_source(p: argparse.ArgumentParser, *, generate: bool) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    if generate:
        group.add_argument(
            "--generate", action="store_true", help="make a random password and print it once"
        )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(
        dest="action", required=True
    )
    p = staff.add_parser("add", help="add a staff user (password on standard input)")
    p.add_argument("user")
    p.add_argument("--role", required=True, choices=[r.value for r in STAFF_ROLES])
    _password_source(p, generate=False)
    p.set_defaults(func=cmd_staff_add)
    p = staff.add_parser("list", help="list staff accounts (never a password)")
    p.set_defaults(func=cmd_staff_list)
    for action, text in (("disable", "refuse a user's sign-in"), ("enable", "allow it again")):
        p = staff.add_parser(action, help=text)
        p.add_argument("user")
        p.set_defaults(func=cmd_staff_enable)
    p = staff.add_parser("passwd", help="set a new password (on standard input)")
    p.add_argument("user")
    _password_source(p, generate=False)
    p.set_defaults(func=cmd_staff_passwd)
    p = staff.add_parser("remove", help="remove a user, keeping its name in the audit trail")
    p.add_argument("user")
    p.set_defaults(func=cmd_staff_remove)

    sip = sub.add_parser("sip-account", help="SIP2 terminal accounts").add_subparsers(
        dest="action", required=True
    )
    p = sip.add_parser("add", help="add a terminal account")
    p.add_argument("login")
    p.add_argument("--institution", required=True, help="SIP2 institution id (AO)")
    p.add_argument("--location", help="branch of the terminal")
    p.add_argument("--profile", default="minimal", help="field profile (PRIV-16)")
    _password_source(p, generate=True)
    p.set_defaults(func=cmd_sip_account_add)
    p = sip.add_parser("list", help="list terminal accounts (never a password)")
    p.set_defaults(func=cmd_sip_account_list)
    for action, text in (("disable", "refuse a terminal's logins"), ("enable", "allow them again")):
        p = sip.add_parser(action, help=text)
        p.add_argument("login")
        p.set_defaults(func=cmd_sip_account_enable)
    p = sip.add_parser("passwd", help="set a new terminal password")
    p.add_argument("login")
    _password_source(p, generate=True)
    p.set_defaults(func=cmd_sip_account_passwd)
    p = sip.add_parser("remove", help="remove a terminal, keeping its name in the audit trail")
    p.add_argument("login")
    p.set_defaults(func=cmd_sip_account_remove)
