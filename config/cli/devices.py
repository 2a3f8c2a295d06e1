"""`reticent sim` and `reticent station`: simulated devices and headless scanner stations."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import ssl
from pathlib import Path

import trio

from config.bootstrap import configure_logging
from config.cli._context import EXIT_OK, EXIT_SETUP, Context
from config.loader import ConfigError
from config.settings import Settings
from config.settings_devices import DeviceSettings, StationSettings, check_station, parse_host_port
from core.policy.rules import BarcodeRule
from devices.drivers import (
    DeviceEvent,
    ReaderConfig,
    ReaderKind,
    RfidReader,
    Scanner,
    ScannerConfig,
    SecurityScheme,
    SerialSpec,
)
from devices.protocols.barcode import BarcodeFraming

log = logging.getLogger("reticent.station")
COMMAND_LINE = "the command line"
TERMINATORS = ("CR", "LF", "CRLF", "TAB", "ETX", "none")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sim",
        help="a simulated scanner or RFID reader on a pseudo-terminal",
        description="Opens a pseudo-terminal, prints its path as the first line, and speaks the "
        "device's protocol on it. The scanner sends each line of standard input as a scan; the "
        "readers take commands (type help).",
    )
    p.add_argument("kind", choices=("scanner", "feig", "3m"))
    p.add_argument("--link", type=Path, help="also reach the port by this path (kept on replug)")
    p.add_argument("--tags", type=Path, help="reader commands to run first, one per line")
    p.add_argument("--terminator", choices=TERMINATORS, default="CR", help="scanner: read end")
    p.add_argument("--stx-etx", action="store_true", help="scanner: wrap reads in STX/ETX")
    p.add_argument("--aim", help="scanner: send this AIM id before each barcode, e.g. ]C0")
    p.add_argument("--prefix", default="", help="scanner: text sent before each read")
    p.add_argument("--suffix", default="", help="scanner: text sent after each read")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser(
        "station",
        help="a headless book drop or item lookup station (SIP2 client)",
        description="Feeds scans and RFID tags to a SIP2 server as checkins or item lookups, one "
        "result line per scan on standard output. Flags override [station] in the configuration.",
    )
    p.add_argument("--mode", choices=("checkin", "item-info"))
    p.add_argument("--scanner", metavar="DEVICE", help="a [devices] name or a serial port")
    p.add_argument("--reader", metavar="DEVICE", help="an RFID pad: a [devices] name or a port")
    p.add_argument("--reader-kind", choices=("feig", "3m"))
    p.add_argument("--sip2", metavar="HOST:PORT")
    p.add_argument("--tls-ca", type=Path, help="TLS to the server, trusting this CA file")
    p.add_argument("--login", help="the station's SIP2 terminal account")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the account's password from stdin"
    )
    p.add_argument("--institution", help="SIP2 institution id")
    p.add_argument("--location", help="SIP2 current location of returned items")
    p.add_argument("--queue-dir", type=Path, help="where scans wait while the server is away")
    p.add_argument("--queue-limit", type=int, help="scans kept waiting at most")
    p.add_argument("--display", metavar="DEVICE", help="a serial line display for results")
    p.add_argument("--bell", action="store_true", default=None, help="ring on a problem")
    p.set_defaults(func=cmd_station)


def cmd_sim(ctx: Context, args: argparse.Namespace) -> int:
    from devices.sim.run import ScannerSim, main

    framing = BarcodeFraming(
        terminator=args.terminator, stx_etx=args.stx_etx, prefix=args.prefix, suffix=args.suffix
    )
    script: list[str] = []
    if args.tags is not None:
        try:
            script = args.tags.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"{args.tags}: cannot be read ({error})") from None

    async def run() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_stop_on_signal, nursery.cancel_scope)
            await main(
                args.kind,
                link=args.link,
                stdin=ctx.stdin,
                stdout=ctx.stdout,
                scanner=ScannerSim(framing, args.aim),
                script=script,
            )
            nursery.cancel_scope.cancel()

    trio.run(run)
    return EXIT_OK


async def _stop_on_signal(scope: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            scope.cancel()
            return


def station_settings(settings: Settings, args: argparse.Namespace) -> StationSettings:
    """[station] with the command line's flags on top, checked like the file."""
    overrides = {
        name: value
        for name, value in (
            ("mode", args.mode),
            ("scanner", args.scanner),
            ("reader", args.reader),
            ("reader_kind", args.reader_kind),
            ("sip2", args.sip2),
            ("tls_ca", args.tls_ca),
            ("login", args.login),
            ("institution", args.institution),
            ("location", args.location),
            ("queue_dir", args.queue_dir),
            ("queue_limit", args.queue_limit),
            ("display", args.display),
            ("bell", args.bell),
        )
        if value is not None
    }
    station = dataclasses.replace(settings.station, **overrides)
    check_station(settings.devices, station, source=COMMAND_LINE)
    if station.scanner is None and station.reader is None:
        raise ConfigError(COMMAND_LINE, "station", "needs --scanner or --reader")
    if station.login is None:
        raise ConfigError(COMMAND_LINE, "station.login", "needs --login or [station] login")
    return station


def _device(settings: Settings, name: str, kind: str) -> DeviceSettings:
    """A [devices] entry, or one with the factory settings of ``kind`` for a port path."""
    device = settings.devices.get(name)
    return device if device is not None else DeviceSettings(kind=kind, port=name)  # type: ignore[arg-type]


def _spec(device: DeviceSettings) -> SerialSpec:
    return SerialSpec(device.port, device.line_baud, device.line_parity)


def scanner_config(settings: Settings, name: str) -> ScannerConfig:
    device = _device(settings, name, "scanner")
    framing = BarcodeFraming(
        terminator=device.terminator,
        prefix=device.prefix,
        suffix=device.suffix,
        idle_gap_s=device.idle_gap_ms / 1000,
    )
    return ScannerConfig(name, _spec(device), framing)


def reader_config(settings: Settings, name: str, kind: ReaderKind | None) -> ReaderConfig:
    device = _device(settings, name, kind or "feig")
    if device.kind not in ("feig", "3m"):
        raise ConfigError(COMMAND_LINE, "station.reader", f"{name!r} is a {device.kind}")
    scheme = SecurityScheme(
        afi_secured=device.afi_secured if device.security != "eas" else None,
        afi_unsecured=device.afi_unsecured if device.security != "eas" else None,
        eas=device.security != "afi",
    )
    return ReaderConfig(
        name,
        device.kind,
        _spec(device),
        scheme,
        poll_interval_s=device.poll_interval_ms / 1000,
        reply_timeout_s=device.reply_timeout_ms / 1000,
    )


def _password(ctx: Context, args: argparse.Namespace, station: StationSettings) -> str:
    if args.password_stdin:
        return ctx.read_secret()
    if station.password_file is None:
        raise ConfigError(
            COMMAND_LINE, "station.password_file", "needs --password-stdin or a password file"
        )
    try:
        secret = station.password_file.read_text(encoding="utf-8").strip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            COMMAND_LINE, "station.password_file", f"cannot be read: {error}"
        ) from None
    if not secret:
        raise ConfigError(COMMAND_LINE, "station.password_file", "is empty")
    return secret


def cmd_station(ctx: Context, args: argparse.Namespace) -> int:
    from devices.station.feedback import Feedback
    from devices.station.journal import Journal, JournalError
    from devices.station.link import ServerConfig, Sip2Link
    from devices.station.station import Station, StationConfig

    settings = ctx.settings
    station = station_settings(settings, args)
    password = _password(ctx, args, station)
    configure_logging(settings, ctx.stderr)
    host, port = parse_host_port(station.sip2)
    institution = station.institution or settings.library.institution_id
    context = ssl.create_default_context(cafile=station.tls_ca) if station.tls_ca else None
    assert station.login is not None
    link = Sip2Link(
        ServerConfig(host, port, station.login, password, station.location, ssl_context=context)
    )
    journal = None
    if station.mode == "checkin":
        try:
            journal = Journal(
                station.queue_dir or settings.data_dir / "station", station.queue_limit
            )
        except JournalError as error:
            ctx.err(str(error))
            return EXIT_SETUP
    display = None
    if station.display is not None:
        display = _spec(_device(settings, station.display, "display"))
    feedback = Feedback(bell=station.bell, display=display, terminal=ctx.stderr)
    reader = None
    if station.reader is not None:
        reader = RfidReader(reader_config(settings, station.reader, station.reader_kind))
    config = StationConfig(
        mode=station.mode,
        institution=institution,
        location=station.location or institution,
        item_rule=BarcodeRule(station.item_pattern, station.item_check_digit),
        patron_rule=(
            BarcodeRule(station.patron_pattern, station.patron_check_digit)
            if station.patron_pattern is not None or station.patron_check_digit
            else None
        ),
        settle_s=station.settle_ms / 1000,
    )

    def out(line: str) -> None:
        ctx.stdout.write(line + "\n")
        ctx.stdout.flush()

    runner = Station(
        config, link, journal=journal, out=out, feedback=feedback, reader=reader, clock=ctx.clock
    )

    async def run() -> None:
        send, receive = trio.open_memory_channel[DeviceEvent](1000)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_stop_on_signal, nursery.cancel_scope)
            await nursery.start(runner.run, receive)
            if station.scanner is not None:
                await nursery.start(Scanner(scanner_config(settings, station.scanner)).run, send)
            if reader is not None:
                await nursery.start(reader.run, send)
            waiting = len(journal.pending()) if journal else 0
            log.info(
                "station started",
                extra={
                    "fields": {"mode": station.mode, "server": station.sip2, "waiting": waiting}
                },
            )
        await link.close()
        await feedback.aclose()

    try:
        trio.run(run)
    finally:
        if journal is not None:
            journal.close()
    return EXIT_OK
