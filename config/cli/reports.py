"""Reports, notices and the privacy self-audit at the command line (PRIV-10, 11, 15)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt

from config.bootstrap import build_store
from config.cli._context import EXIT_OK, EXIT_REFUSED, Context
from config.privacy_wiring import (
    canary_file,
    notice_options,
    notice_transport,
    print_folder,
    retention_rules,
)
from config.settings import Settings
from core.errors import PermissionDenied, StoreError
from core.privacy.notices import send_notices
from core.privacy.reports import REPORT_NAMES, Report, run_report
from core.privacy.selfaudit import (
    AuditFacts,
    AuditStatus,
    ListenerFacts,
    ProfileFacts,
    any_failed,
    getting_started,
    next_steps,
    run_self_audit,
)
from core.services.actors import Actor, local_admin


def cmd_notices_send(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    options = notice_options(settings, dry_run=args.dry_run)
    transport = notice_transport(settings, ctx.clock())
    with ctx.store() as store:
        report = send_notices(store, ctx.clock(), options, transport)
    verb = "would send" if report.dry_run else "sent"
    ctx.out(f"notices since {report.since:%Y-%m-%d %H:%M} UTC: {verb} {report.notices}")
    ctx.out(f"  hold ready {report.hold_ready}, overdue {report.overdue}, fees {report.fee}")
    ctx.out(f"  e-mail {report.emailed}, print queue {report.printed}, refused {report.failed}")
    if not report.dry_run:
        ctx.out(f"  kept in notification history (opt-in) {report.recorded}")
    return EXIT_REFUSED if report.failed else EXIT_OK


def _render_table(report: Report) -> list[str]:
    widths = [len(column) for column in report.columns]
    for row in report.rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    rule = tuple("-" * w for w in widths)
    return [line(report.columns), line(rule), *(line(row) for row in report.rows)]


def cmd_report(ctx: Context, args: argparse.Namespace) -> int:
    k = ctx.settings.notices.report_k
    with ctx.store() as store:
        actor: Actor = local_admin(ctx.settings.circulation.branches[0])
        if args.as_user is not None:
            staff = ctx.staff(store, args.as_user)
            if staff is None:
                return EXIT_REFUSED
            actor = staff
        try:
            with store.write() as uow:  # write: every report is audited (PRIV-05)
                report = run_report(uow, actor, ctx.clock(), args.name, k=k)
        except PermissionDenied:
            if args.as_user is not None:
                raise
            ctx.err(
                f"refused: the {args.name} report names patrons, so only a privacy officer runs "
                f"it (PRIV-11): `reticent report {args.name} --as USER --password-stdin`"
            )
            return EXIT_REFUSED
    if args.csv:
        writer = csv.writer(ctx.stdout, lineterminator="\n")
        writer.writerow(report.columns)
        writer.writerows(report.rows)
    else:
        for text in _render_table(report):
            ctx.out(text)
        ctx.out(
            f"({len(report.rows)} rows{'' if report.personal else f'; counts under {k} as <{k}'})"
        )
    return EXIT_OK


def audit_facts(settings: Settings) -> AuditFacts:
    """The configuration as the self-audit sees it."""
    privacy = settings.privacy
    return AuditFacts(
        key_path=settings.key_path,
        listeners=tuple(
            ListenerFacts(
                host=listener.host,
                port=listener.port,
                tls_cert=listener.tls_cert,
                tls_key=listener.tls_key,
                allow_plaintext=listener.allow_plaintext,
            )
            for listener in settings.sip2.listeners
        ),
        profiles={
            name: ProfileFacts(base=profile.base, extra_fields=profile.extra_fields)
            for name, profile in settings.sip2.profiles.items()
        },
        retention=retention_rules(settings.retention),
        canary_path=canary_file(settings),
        canary_public_key=privacy.canary_public_key,
        canary_warn_days=privacy.canary_warn_days,
        smtp_host=settings.notices.smtp_host,
        smtp_starttls=settings.notices.starttls,
        print_folder=print_folder(settings),
        print_keep=dt.timedelta(hours=settings.notices.print_keep_hours),
        staff_password_rule=settings.security.staff_password_rule,
        terminal_password_rule=settings.security.terminal_password_rule,
        pin_rule=settings.security.pin,
        store_url=settings.store.url,
        patron_pin=dict(settings.sip2.patron_pin),
    )


def cmd_privacy_audit(ctx: Context, args: argparse.Namespace) -> int:
    facts = audit_facts(ctx.settings)
    now = ctx.clock()
    ctx.require_instance()
    try:
        store = build_store(ctx.settings)
    except StoreError as exc:
        # The audit still reports: a refused key file is itself a finding (PRIV-08).
        items = run_self_audit(None, now, facts, store_error=str(exc))
        started: list[str] = []
    else:
        try:
            items = run_self_audit(store, now, facts)
            with store.read() as uow:
                started = getting_started(uow.session, now)
        finally:
            store.close()
    width = max(len(item.title) for item in items)
    for item in items:
        ctx.out(f"{item.status.value:<4}  {item.id:<7}  {item.title:<{width}}  {item.detail}")
    failed = sum(1 for item in items if item.status is AuditStatus.FAIL)
    warned = sum(1 for item in items if item.status is AuditStatus.WARN)
    ctx.out(f"{len(items)} checks: {failed} failed, {warned} warnings")
    steps = next_steps(items, started)
    if steps:
        ctx.out("next steps:")
        for step in steps:
            ctx.out(f"  - {step}")
    return EXIT_REFUSED if any_failed(items) else EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
    notices = sub.add_parser("notices", help="notices to patrons (PRIV-10)").add_subparsers(
        dest="action", required=True
    )
    p = notices.add_parser(
        "send", help="send hold-ready, overdue and fee notices due since the last run"
    )
    p.add_argument("--dry-run", action="store_true", help="count the notices, send nothing")
    p.set_defaults(func=cmd_notices_send)

    p = sub.add_parser("report", help="anonymous reports, or staff reports for the privacy officer")
    p.add_argument("name", choices=REPORT_NAMES)
    p.add_argument("--csv", action="store_true", help="CSV instead of a text table")
    p.add_argument(
        "--as",
        dest="as_user",
        metavar="USER",
        help="run as this staff user (password on standard input); needed for overdue",
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the --as user's password from standard input (the only way it is read)",
    )
    p.set_defaults(func=cmd_report)

    privacy = sub.add_parser("privacy", help="privacy checks (PRIV-15)").add_subparsers(
        dest="action", required=True
    )
    p = privacy.add_parser("audit", help="check this instance against the privacy requirements")
    p.set_defaults(func=cmd_privacy_audit)
