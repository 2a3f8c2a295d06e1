"""Instance commands: init, migrate, audit verification."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from config.bootstrap import build_store
from config.cli._context import EXIT_OK, EXIT_REFUSED, EXIT_SETUP, Context
from config.settings import load_settings
from config.template import render_config
from core.audit import verify_chain
from core.errors import StoreError
from core.privacy.selfaudit import getting_started
from core.store.migrate import current_revision, head_revision
from core.store.postgres import describe, parse_store_url

CONFIG_NAME = "reticent.toml"
_SERVE_STEP = "start the appliance: `reticent serve`"


def shared_store_config(text: str, url: str, password_file: str | None) -> str:
    """The rendered configuration with `[store] url` (and `password_file`) set."""
    try:
        parse_store_url(url)  # refused before the configuration is written
    except StoreError as exc:
        raise StoreError(f"--store-url: {exc}") from None
    lines = [f"url = {json.dumps(url)}"]
    if password_file is not None:
        lines.append(f"password_file = {json.dumps(str(Path(password_file).resolve()))}")
    head, sep, tail = text.partition("\n[store]\n")
    if not sep:
        raise StoreError("the configuration template has no [store] section")
    return head + sep + "\n".join(lines) + "\n" + tail


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
        from config.demo import DEMO_PIN_RULE

        text = render_config(Path("."), pin=DEMO_PIN_RULE if args.demo else None)
        if args.store_url is not None:
            text = shared_store_config(text, args.store_url, args.password_file)
        config_file.write_text(text, encoding="utf-8")
    settings = load_settings(config_file, {}) if config_file.exists() else ctx.settings
    store = build_store(settings, create=True, now=ctx.clock())
    try:
        if settings.store.url is not None:
            ctx.out(
                f"created the shared store at {describe(parse_store_url(settings.store.url))}, "
                f"key {settings.key_path} (mode 0600): every branch needs a copy of it"
            )
        else:
            ctx.out(
                f"created {settings.database_path} (encrypted), key {settings.key_path} (mode 0600)"
            )
        ctx.out(f"configuration: {config_file}")
        if args.demo:
            from config.demo import load_demo

            for line in load_demo(store, settings, ctx.clock()):
                ctx.out(line)
        with store.read() as uow:
            steps = getting_started(uow.session, ctx.clock())
    finally:
        store.close()
    option = f" --config {config_file}"
    ctx.out("next steps:")
    for step in [*steps, "check the instance: `reticent privacy audit`", _SERVE_STEP]:
        ctx.out(f"  - {step.replace('`reticent ', '`reticent' + option + ' ', 1)}")
    return EXIT_OK


def cmd_migrate(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store(migrate=True) as store:
        ctx.out(f"schema at revision {current_revision(store.engine)} (head {head_revision()})")
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
    p.add_argument(
        "--store-url",
        help="a shared PostgreSQL database (postgresql+psycopg://user@host/db) instead of the file",
    )
    p.add_argument("--password-file", help="the file holding that database's password")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("migrate", help="apply schema migrations")
    p.set_defaults(func=cmd_migrate)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="action", required=True
    )
    p = audit.add_parser("verify", help="verify the hash chain")
    p.set_defaults(func=cmd_audit_verify)
