"""`reticent import items|patrons FILE`: all-or-nothing imports with line-numbered errors."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from config.cli._context import EXIT_OK, EXIT_REFUSED, Context
from core.imports import (
    ImportFailed,
    MarcHoldings,
    import_items,
    import_patrons,
    read_items_csv,
    read_items_marc,
    read_patrons_csv,
)
from core.services.actors import local_admin

MARC_SUFFIXES = (".mrc", ".marc", ".xml", ".marcxml")


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


@contextmanager
def _progress(ctx: Context, path: Path, label: str) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on the terminal for files over the configured size."""
    threshold = ctx.settings.imports.csv_progress_threshold
    total = _count_lines(path) - 1 if path.suffix.lower() == ".csv" else 0
    if total < threshold:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def _report_failure(ctx: Context, failure: ImportFailed) -> int:
    ctx.err(f"import aborted, nothing was written: {len(failure.errors)} bad row(s)")
    for error in failure.errors:
        ctx.err(f"  {error}")
    return EXIT_REFUSED


def cmd_import_items(ctx: Context, args: argparse.Namespace) -> int:
    path = Path(args.file)
    imports = ctx.settings.imports
    kind = args.format
    if kind == "auto":
        kind = "marc" if path.suffix.lower() in MARC_SUFFIXES else "csv"
    if kind == "marc":
        holdings = MarcHoldings(
            tag=imports.marc_holdings_tag,
            barcode=imports.marc_barcode_subfield,
            call_number=imports.marc_call_number_subfield,
            location=imports.marc_location_subfield,
            media_type=imports.marc_media_type_subfield,
            branch=imports.marc_branch_subfield,
        )
        rows = read_items_marc(path, holdings, media_types=ctx.settings.circulation.media_types)
    else:
        rows = read_items_csv(path)
    with ctx.store() as store, _progress(ctx, path, "items") as progress:
        try:
            with store.write() as uow:
                report = import_items(uow, local_admin(), ctx.clock(), rows, progress=progress)
        except ImportFailed as failure:
            return _report_failure(ctx, failure)
    ctx.out(
        f"imported {report.items_created} items on {report.records_created} new records "
        f"from {report.rows} rows"
    )
    return EXIT_OK


def cmd_import_patrons(ctx: Context, args: argparse.Namespace) -> int:
    path = Path(args.file)
    with ctx.store() as store, _progress(ctx, path, "patrons") as progress:
        try:
            with store.write() as uow:
                report = import_patrons(
                    uow,
                    local_admin(),
                    ctx.clock(),
                    read_patrons_csv(path),
                    progress=progress,
                    pin_rule=ctx.settings.security.pin,
                )
        except ImportFailed as failure:
            return _report_failure(ctx, failure)
    ctx.out(f"imported {report.patrons_created} patrons from {report.rows} rows")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("import", help="import items or patrons")
    kinds = group.add_subparsers(dest="kind", required=True)
    p = kinds.add_parser("items", help="items from CSV, MARC 21 or MARCXML")
    p.add_argument("file")
    p.add_argument("--format", choices=["auto", "csv", "marc"], default="auto")
    p.set_defaults(func=cmd_import_items)
    p = kinds.add_parser("patrons", help="patrons from CSV (PINs are hashed on the way in)")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_patrons)
