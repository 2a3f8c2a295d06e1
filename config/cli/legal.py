"""Legal requests, sharing, warrant canary and breach reports at the command line (PRIV-12..15)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

from config.cli._context import EXIT_OK, EXIT_REFUSED, EXIT_SETUP, Context
from config.privacy_wiring import canary_file
from core.model.legal import Instrument
from core.privacy import breach, canary, legal, package
from core.privacy.sharing import DATA_CLASSES

# --- shared helpers -------------------------------------------------------------------------


def _passphrase(ctx: Context) -> str:
    return ctx.read_secret()


def _write_new(path: Path, content: bytes, mode: int) -> None:
    """Write a file that must not exist yet, created with `mode` from the start."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def _when(moment: dt.datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


# --- legal requests (PRIV-13) -------------------------------------------------------------


def _show_request(ctx: Context, r: legal.LegalRequestView, *, patrons: bool) -> None:
    stage = "received, one approval in" if r.awaiting_second_review else r.status
    ctx.out(f"request   {r.id}: {stage}")
    ctx.out(f"from      {r.agency} ({r.instrument})")
    ctx.out(f"court     {r.court or '-'}, case {r.case_number or '-'}")
    ctx.out(f"received  {_when(r.received_at)} by {r.recorded_by}")
    ctx.out(f"scope     {len(r.patrons)} patron(s); {', '.join(r.classes)}")
    if patrons:
        ctx.out(f"patrons   {', '.join(r.patrons)}")
    if r.reviewed_by is not None:
        ctx.out(f"review    {r.reviewed_by} at {_when(r.reviewed_at)}")
    if r.second_reviewed_by is not None:
        ctx.out(f"review 2  {r.second_reviewed_by} at {_when(r.second_reviewed_at)}")
    if r.decision_reason:
        ctx.out(f"reason    {r.decision_reason.replace(chr(10), ' / ')}")
    for d in r.disclosures:
        ctx.out(
            f"disclosed {_when(d.created_at)} by {d.disclosed_by}: {len(d.patrons)} patron(s), "
            f"sha256 {d.sha256}"
        )
    if r.closed_at is not None:
        ctx.out(f"closed    {_when(r.closed_at)}")


def cmd_record(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store:
        actor = ctx.staff(store, args.as_user)
        if actor is None:
            return EXIT_REFUSED
        with store.write() as uow:
            view = legal.record_request(
                uow,
                actor,
                ctx.clock(),
                agency=args.agency,
                instrument=args.instrument,
                court=args.court,
                case_number=args.case,
                patrons=_split(args.patrons),
                classes=_split(args.classes),
            )
    ctx.out(f"recorded legal request {view.id} (received); it needs a review before anything")
    ctx.out("can be disclosed")
    return EXIT_OK


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store:
        actor = ctx.staff(store, args.as_user)
        if actor is None:
            return EXIT_REFUSED
        with store.write() as uow:  # write: the listing is audited (PRIV-05)
            views = legal.list_requests(uow, actor, ctx.clock())
    if not views:
        ctx.out("no legal requests")
    for i, view in enumerate(views):
        if i:
            ctx.out()
        _show_request(ctx, view, patrons=args.patrons)
    return EXIT_OK


def cmd_review(ctx: Context, args: argparse.Namespace) -> int:
    decision: legal.Decision = "approve" if args.approve else "reject"
    with ctx.store() as store:
        actor = ctx.staff(store, args.as_user)
        if actor is None:
            return EXIT_REFUSED
        with store.write() as uow:
            view = legal.review_request(
                uow,
                actor,
                ctx.clock(),
                args.id,
                decision,
                args.reason,
                two_person_review=ctx.settings.privacy.two_person_review,
            )
    if view.awaiting_second_review:
        ctx.out(f"legal request {view.id}: first approval recorded; a second person must review")
    else:
        ctx.out(f"legal request {view.id}: {view.status}")
    return EXIT_OK


def cmd_disclose(ctx: Context, args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists():
        ctx.err(f"{out} already exists; refusing to overwrite it")
        return EXIT_SETUP
    with ctx.store() as store:
        actor = ctx.staff(store, args.as_user)
        if actor is None:
            return EXIT_REFUSED
        passphrase = _passphrase(ctx)
        written = False
        try:
            with store.write() as uow:
                package = legal.disclose(uow, actor, ctx.clock(), args.id, passphrase)
                # Written inside the transaction: if the file cannot be written, nothing is
                # recorded as disclosed.
                _write_new(out, package.content, 0o600)
                written = True
        except BaseException:
            if written:  # the record failed: do not leave a package nobody has a record of
                out.unlink(missing_ok=True)
            raise
    ctx.out(f"wrote {out}: {len(package.patrons)} patron(s), classes {', '.join(package.classes)}")
    if package.patrons_not_held:
        ctx.out(f"{len(package.patrons_not_held)} barcode(s) in the scope have no record here")
    ctx.out(f"sha256 {package.sha256} (recorded in the audit log)")
    return EXIT_OK


def cmd_close(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store:
        actor = ctx.staff(store, args.as_user)
        if actor is None:
            return EXIT_REFUSED
        with store.write() as uow:
            view = legal.close_request(uow, actor, ctx.clock(), args.id)
    ctx.out(f"legal request {view.id}: closed")
    return EXIT_OK


def cmd_delete(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store() as store:
        actor = ctx.staff(store, args.as_user)
        if actor is None:
            return EXIT_REFUSED
        with store.write() as uow:
            legal.delete_request(uow, actor, ctx.clock(), args.id)
    ctx.out(f"legal request {args.id}: deleted with its scope and disclosure records")
    return EXIT_OK


def cmd_decrypt(ctx: Context, args: argparse.Namespace) -> int:
    content = Path(args.file).read_bytes()
    text = package.decrypt_package(content, _passphrase(ctx)).decode("utf-8")
    ctx.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


# --- warrant canary (PRIV-14) -------------------------------------------------------------


def _canary_file(ctx: Context) -> Path:
    return canary_file(ctx.settings)


def cmd_canary_keygen(ctx: Context, args: argparse.Namespace) -> int:
    private, public = Path(args.out), Path(f"{args.out}.pub")
    for path in (private, public):
        if path.exists():
            ctx.err(f"{path} already exists; refusing to overwrite a key")
            return EXIT_SETUP
    pair = canary.generate_keypair(_passphrase(ctx))
    _write_new(private, pair.private_pem, 0o600)
    _write_new(public, pair.public_pem, 0o644)
    ctx.out(f"private key {private} (encrypted with the passphrase, mode 0600)")
    ctx.out(f"public key  {public}")
    ctx.out(f"fingerprint {pair.fingerprint}")
    ctx.out("Keep the private key off this appliance; set privacy.canary_public_key to the .pub")
    return EXIT_OK


def cmd_canary_sign(ctx: Context, args: argparse.Namespace) -> int:
    key = canary.load_private_key(Path(args.key).read_bytes(), _passphrase(ctx))
    pinned = ctx.settings.privacy.canary_public_key
    if pinned is not None:
        expected = canary.fingerprint(canary.load_public_key(pinned.read_bytes()))
        if canary.fingerprint(key.public_key()) != expected:
            ctx.err(f"this key is not the one configured in privacy.canary_public_key ({pinned})")
            return EXIT_REFUSED
    signed = canary.sign_canary(key, args.statement, ctx.clock(), args.valid_days)
    target = _canary_file(ctx)
    temporary = target.with_name(target.name + ".new")
    temporary.unlink(missing_ok=True)
    _write_new(temporary, signed.to_json().encode("utf-8"), 0o644)
    temporary.replace(target)  # readers see the old canary or the new one, never half of one
    ctx.out(f"signed canary written to {target}, valid until {_when(signed.expires_at)}")
    return EXIT_OK


def _report_status(ctx: Context, status: canary.CanaryStatus, path: Path) -> None:
    ctx.out(f"canary    {path}: {status.state}")
    if status.problem:
        ctx.out(f"problem   {status.problem}")
    if status.expires_at is not None:
        ctx.out(f"issued    {_when(status.issued_at)}")
        ctx.out(f"expires   {_when(status.expires_at)}")
        ctx.out(f"key       {status.fingerprint}")
        if not status.pinned:
            ctx.out("note      checked only against the key inside the file; set")
            ctx.out("          privacy.canary_public_key to check who signed it")
    if status.statement:
        ctx.out(f"statement {status.statement}")


def cmd_canary_verify(ctx: Context, args: argparse.Namespace) -> int:
    path = Path(args.file)
    public = Path(args.public_key) if args.public_key else ctx.settings.privacy.canary_public_key
    status = canary.canary_status(path, public, ctx.clock(), ctx.settings.privacy.canary_warn_days)
    _report_status(ctx, status, path)
    return EXIT_REFUSED if status.state in ("invalid", "missing") else EXIT_OK


def cmd_canary_status(ctx: Context, args: argparse.Namespace) -> int:
    path = _canary_file(ctx)
    privacy = ctx.settings.privacy
    status = canary.canary_status(
        path, privacy.canary_public_key, ctx.clock(), privacy.canary_warn_days
    )
    _report_status(ctx, status, path)
    if status.state == "expiring":
        ctx.out("reminder  sign a new canary before it expires (reticent canary sign)")
    return EXIT_OK if status.state in ("fresh", "expiring") else EXIT_REFUSED


# --- breach report (PRIV-15) --------------------------------------------------------------


def _moment(ctx: Context, text: str, *, end_of_day: bool) -> dt.datetime:
    """A date (whole day in the library's time zone) or a date-time (local unless it says)."""
    zone = ZoneInfo(ctx.settings.circulation.calendar.timezone)
    try:
        if len(text) == len("YYYY-MM-DD"):
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), zone)
            moment = start + dt.timedelta(days=1, microseconds=-1) if end_of_day else start
        else:
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
    except ValueError:
        raise ValueError(f"expected a date (YYYY-MM-DD) or date-time, got {text!r}") from None
    return moment.astimezone(dt.UTC)


def cmd_breach_report(ctx: Context, args: argparse.Namespace) -> int:
    start = _moment(ctx, args.start, end_of_day=False)
    end = _moment(ctx, args.end, end_of_day=True)
    with ctx.store() as store:
        actor = ctx.staff(store, args.as_user)
        if actor is None:
            return EXIT_REFUSED
        with store.write() as uow:  # write: the report is audited (counts only)
            report = breach.breach_report(uow, actor, ctx.clock(), start, end)
    ctx.out(f"breach window {_when(report.window_from)} to {_when(report.window_to)}")
    ctx.out(f"patrons whose record existed: {report.patrons}")
    ctx.out("")
    width = max(len(c.description) for c in report.classes)
    for c in report.classes:
        ctx.out(f"  {c.description:<{width}}  {c.patrons:>7}")
    ctx.out("")
    ctx.out(report.caveat)
    ctx.out("")
    ctx.out("--- draft notice (adapt the [BRACKETS] before sending) ---")
    library = ctx.settings.library
    ctx.out(breach.draft_notice(report, library_name=library.name, contact=library.contact))
    return EXIT_OK


# --- parser -----------------------------------------------------------------------------


def _user_option(p: argparse.ArgumentParser) -> None:
    # PRIV-05: legal requests and PII reports belong to the privacy officer, so these commands
    # run as a staff user rather than as the local administrator.
    p.add_argument("--as", dest="as_user", required=True, metavar="USER", help="staff user")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="the staff password is the first line of standard input",
    )


def _register_legal(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    topic = sub.add_parser("legal", help="legal requests (privacy officer)")
    actions = topic.add_subparsers(dest="action", required=True)

    p = actions.add_parser("record", help="record a request from an agency")
    _user_option(p)
    p.add_argument("--agency", required=True)
    p.add_argument("--instrument", required=True, choices=[i.value for i in Instrument])
    p.add_argument("--court", default="")
    p.add_argument("--case", default="", help="the agency's case number")
    p.add_argument("--patrons", required=True, help="barcodes in scope, separated by commas")
    p.add_argument(
        "--classes", required=True, help=f"data classes in scope: {', '.join(DATA_CLASSES)}"
    )
    p.set_defaults(func=cmd_record)

    p = actions.add_parser("list", help="list requests (audited)")
    _user_option(p)
    p.add_argument("--patrons", action="store_true", help="also show the barcodes in scope")
    p.set_defaults(func=cmd_list)

    p = actions.add_parser("review", help="approve or reject a request")
    _user_option(p)
    p.add_argument("id", type=int)
    choice = p.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true")
    choice.add_argument("--reject", action="store_true")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_review)

    p = actions.add_parser("disclose", help="write the encrypted package of an approved request")
    _user_option(p)
    p.add_argument("id", type=int)
    p.add_argument("--out", required=True, help="package file to create")
    p.add_argument(
        "--passphrase-stdin",
        action="store_true",
        required=True,
        help="package passphrase on the line after the staff password",
    )
    p.set_defaults(func=cmd_disclose)

    p = actions.add_parser("close", help="close a request")
    _user_option(p)
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_close)

    p = actions.add_parser("delete", help="delete a closed request when the case is settled")
    _user_option(p)
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_delete)

    p = actions.add_parser("decrypt", help="show the contents of a disclosure package")
    p.add_argument("file")
    p.add_argument("--passphrase-stdin", action="store_true", required=True)
    p.set_defaults(func=cmd_decrypt)


def _register_canary(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    topic = sub.add_parser("canary", help="the warrant canary")
    actions = topic.add_subparsers(dest="action", required=True)

    p = actions.add_parser("keygen", help="create the privacy officer's signing key")
    p.add_argument("--out", required=True, help="private key file; the public key gets .pub")
    p.add_argument("--passphrase-stdin", action="store_true", required=True)
    p.set_defaults(func=cmd_canary_keygen)

    p = actions.add_parser("sign", help="sign and publish a new canary")
    p.add_argument("--key", required=True, help="the private key file")
    p.add_argument("--valid-days", type=int, required=True)
    p.add_argument("--statement", default=canary.DEFAULT_STATEMENT)
    p.add_argument("--passphrase-stdin", action="store_true", required=True)
    p.set_defaults(func=cmd_canary_sign)

    p = actions.add_parser("verify", help="check a canary file's signature and dates")
    p.add_argument("file")
    p.add_argument("--public-key", help="public key file (default privacy.canary_public_key)")
    p.set_defaults(func=cmd_canary_verify)

    p = actions.add_parser("status", help="fresh, expiring, stale or missing")
    p.set_defaults(func=cmd_canary_status)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
    _register_legal(sub)
    _register_canary(sub)
    topic = sub.add_parser("breach", help="breach notification (PRIV-15)")
    actions = topic.add_subparsers(dest="action", required=True)
    p = actions.add_parser("report", help="patrons whose data was reachable, and a draft notice")
    _user_option(p)
    p.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD or date-time")
    p.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD or date-time")
    p.set_defaults(func=cmd_breach_report)
