"""Privacy policy versions, consents and patron export at the command line (PRIV-01, 02, 04)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from config.cli._context import EXIT_OK, EXIT_REFUSED, EXIT_SETUP, Context
from core.policy.consent_kinds import DATA_SHARING_PREFIX
from core.privacy import consents, export, inventory, policy, training
from core.services.actors import Actor, local_admin


def _admin(ctx: Context) -> Actor:
    return local_admin(ctx.settings.circulation.branches[0])


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def cmd_policy_publish(ctx: Context, args: argparse.Namespace) -> int:
    text = Path(args.file).read_text(encoding="utf-8")
    with ctx.store() as store, store.write() as uow:
        view = policy.publish_policy(
            uow, _admin(ctx), ctx.clock(), text, args.version, args.effective
        )
    ctx.out(
        f"published policy {view.version}, effective {view.effective_on.isoformat()},"
        f" sha256 {view.sha256}"
    )
    ctx.out("from that day every patron and every staff member needs to acknowledge it")
    return EXIT_OK


def cmd_policy_status(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.read() as uow:
        status = policy.policy_status(uow.session, ctx.clock())
        untrained = training.staff_needing_training(uow.session, ctx.clock())
    if status.version is None or status.effective_on is None:
        ctx.out("no privacy policy in force")
    else:
        ctx.out(f"policy in force          {status.version} (since {status.effective_on})")
        ctx.out(f"patrons acknowledged     {status.acknowledged}")
        ctx.out(f"patrons still to ack.    {status.needing_acknowledgement}")
        ctx.out(f"staff still to ack.      {', '.join(untrained) or 'none'}")
    if status.upcoming is not None:
        ctx.out(f"published, not yet in force: {status.upcoming}")
    return EXIT_OK


def cmd_policy_acknowledge(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:
        view = policy.acknowledge_policy(uow, _admin(ctx), ctx.clock(), args.patron, args.channel)
    ctx.out(f"acknowledgement of policy {view.version} recorded ({args.channel})")
    return EXIT_OK


def cmd_consent_grant(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:
        change = consents.grant_consent(
            uow, _admin(ctx), ctx.clock(), args.patron, args.kind, args.channel
        )
    ctx.out(f"consent {change.kind} granted" if change.changed else f"{change.kind}: already given")
    return EXIT_OK


def cmd_consent_withdraw(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:
        change = consents.withdraw_consent(
            uow, _admin(ctx), ctx.clock(), args.patron, args.kind, args.channel
        )
    if not change.changed and not change.deleted:
        ctx.out(f"{change.kind}: was not given")
    else:
        ctx.out(f"consent {change.kind} withdrawn; {change.deleted} records kept under it deleted")
    return EXIT_OK


def _moment(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def cmd_consent_show(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:  # write: the look is audited (PRIV-05)
        report = consents.consent_show(uow, _admin(ctx), ctx.clock(), args.patron)
    ctx.out("consents given:")
    for c in report.current:
        version = c.policy_version or "-"
        ctx.out(f"  {c.kind}  since {_moment(c.granted_at)} ({c.channel}, policy {version})")
    if not report.current:
        ctx.out("  none")
    ctx.out("history:")
    for e in report.history:
        verb = "granted  " if e.granted else "withdrawn"
        ctx.out(f"  {_moment(e.at)}  {verb}  {e.kind}  ({e.channel}, by {e.actor})")
    if not report.history:
        ctx.out("  none")
    return EXIT_OK


def cmd_export_patron(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store:
        # PRIV-05: exports belong to the privacy officer, so the command runs as a staff user.
        officer = ctx.staff(store, args.as_user)
        if officer is None:
            return EXIT_REFUSED
        with store.write() as uow:
            result = export.export_patron(uow, officer, ctx.clock(), args.barcode)
    rendered = (
        export.export_as_json(result) if args.format == "json" else export.export_as_text(result)
    )
    ctx.stdout.write(rendered if rendered.endswith("\n") else rendered + "\n")
    return EXIT_OK


def cmd_staff_acknowledge(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store, store.write() as uow:
        version = training.acknowledge_training(uow, _admin(ctx), ctx.clock(), args.user)
    ctx.out(f"staff user {args.user} acknowledged policy and training version {version}")
    return EXIT_OK


def cmd_inventory(ctx: Context, args: argparse.Namespace) -> int:
    text = inventory.render_inventory()
    if args.write is None:
        ctx.stdout.write(text)
        return EXIT_OK
    target = Path(args.write)
    if not target.parent.is_dir():
        ctx.err(f"no folder {target.parent}")
        return EXIT_SETUP
    target.write_text(text, encoding="utf-8")
    ctx.out(f"wrote {target}")
    return EXIT_OK


def _subcommands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The subcommands of topic `name`, joining the topic when another module made it already."""
    existing = sub.choices.get(name)
    if existing is not None:
        for action in existing._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action
    return sub.add_parser(name, help=help_text).add_subparsers(dest="action", required=True)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
    pol = sub.add_parser("policy", help="privacy policy versions (PRIV-01)").add_subparsers(
        dest="action", required=True
    )
    p = pol.add_parser("publish", help="publish a new policy version from a text file")
    p.add_argument("file", help="the policy text (UTF-8)")
    p.add_argument("--version", required=True, help="version name, such as 2026-1")
    p.add_argument("--effective", required=True, type=_date, help="effective date, YYYY-MM-DD")
    p.set_defaults(func=cmd_policy_publish)
    p = pol.add_parser("status", help="who acknowledged the policy in force (counts only)")
    p.set_defaults(func=cmd_policy_status)
    p = pol.add_parser("acknowledge", help="record a patron's acknowledgement")
    p.add_argument("patron", help="patron barcode")
    p.add_argument("--channel", required=True, choices=policy.CHANNELS)
    p.set_defaults(func=cmd_policy_acknowledge)

    con = sub.add_parser("consent", help="patron consents (PRIV-02)").add_subparsers(
        dest="action", required=True
    )
    for action, func, text in (
        ("grant", cmd_consent_grant, "record an opt-in"),
        ("withdraw", cmd_consent_withdraw, "withdraw an opt-in and delete what was kept under it"),
    ):
        p = con.add_parser(action, help=text)
        p.add_argument("patron", help="patron barcode")
        p.add_argument(
            "kind",
            help=f"{', '.join(consents.FIXED_KINDS)} or {DATA_SHARING_PREFIX}<recipient>",
        )
        p.add_argument("--channel", default="desk", choices=policy.CHANNELS)
        p.set_defaults(func=func)
    p = con.add_parser("show", help="a patron's consents and their history (audited)")
    p.add_argument("patron", help="patron barcode")
    p.set_defaults(func=cmd_consent_show)

    p = sub.add_parser(
        "export-patron",
        help="everything held about a patron, at their request (PRIV-04; privacy officer)",
    )
    p.add_argument("barcode")
    p.add_argument("--format", choices=("json", "text"), default="text")
    p.add_argument("--as", dest="as_user", required=True, help="privacy officer's user name")
    p.add_argument("--password-stdin", action="store_true", required=True)
    p.set_defaults(func=cmd_export_patron)

    staff = _subcommands(sub, "staff", "staff accounts")
    p = staff.add_parser("acknowledge", help="record that a staff user acknowledged training")
    p.add_argument("user")
    p.set_defaults(func=cmd_staff_acknowledge)

    p = sub.add_parser("inventory", help="the data inventory: what we collect, why, how long")
    p.add_argument("--write", help="write it to this file (docs/data-inventory.md)")
    p.set_defaults(func=cmd_inventory)
