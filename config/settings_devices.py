"""Serial devices (`[devices.NAME]`) and the headless station (`[station]`), see docs/devices.md."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal

from config.loader import ConfigError, join_key

DeviceKind = Literal["scanner", "feig", "3m", "display"]
DeviceRole = Literal["checkin", "item-info", "kiosk", "display"]
ReaderKind = Literal["feig", "3m"]
Parity = Literal["none", "even", "odd"]
Terminator = Literal["CR", "LF", "CRLF", "TAB", "ETX", "none"]
Security = Literal["afi", "eas", "both"]

# docs/devices.md: the readers' factory settings.
DEFAULT_BAUD: Mapping[str, int] = MappingProxyType(
    {"scanner": 9600, "display": 9600, "feig": 38400, "3m": 19200}
)
DEFAULT_PARITY: Mapping[str, Parity] = MappingProxyType(
    {"scanner": "none", "display": "none", "feig": "even", "3m": "none"}
)
_BAUDS = frozenset({1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200})
_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\s]+):(?P<port>\d{1,5})")


@dataclass(frozen=True)
class DeviceSettings:
    """One serial device: a barcode scanner, an RFID reader (Feig, 3M) or a line display."""

    kind: DeviceKind
    port: str  # e.g. /dev/ttyACM0, or a stable /dev/serial/by-id/... name
    baud: int | None = None  # None: the kind's factory setting
    parity: Parity | None = None
    role: DeviceRole | None = None
    # Scanners: how reads end and what the scanner adds around them.
    terminator: Terminator = "CR"
    prefix: str = ""
    suffix: str = ""
    idle_gap_ms: int = 75
    # RFID readers: the security state (docs/devices.md) and the inventory timing.
    security: Security = "afi"
    afi_secured: int = 0x07
    afi_unsecured: int = 0xC2
    poll_interval_ms: int = 250
    reply_timeout_ms: int = 500

    @property
    def line_baud(self) -> int:
        return self.baud if self.baud is not None else DEFAULT_BAUD[self.kind]

    @property
    def line_parity(self) -> Parity:
        return self.parity if self.parity is not None else DEFAULT_PARITY[self.kind]


def no_devices() -> Mapping[str, DeviceSettings]:
    return MappingProxyType({})


@dataclass(frozen=True)
class StationSettings:
    """The headless station (`reticent station`): a book drop, or a desk that looks items up.

    Flags on the command line override these.
    """

    mode: Literal["checkin", "item-info"] = "checkin"
    scanner: str | None = None  # a [devices] name, or a port such as /dev/ttyACM0
    reader: str | None = None  # an RFID pad: a [devices] name or a port
    reader_kind: ReaderKind | None = None  # needed when `reader` is a port
    sip2: str = "127.0.0.1:6001"
    tls_ca: Path | None = None
    login: str | None = None
    password_file: Path | None = None
    institution: str | None = None  # None: library.institution_id
    location: str | None = None  # None: the institution
    queue_dir: Path | None = None  # None: data_dir/station
    queue_limit: int = 1000
    settle_ms: int = 1500
    bell: bool = False
    display: str | None = None
    item_pattern: str | None = None
    item_check_digit: bool = False
    patron_pattern: str | None = None
    patron_check_digit: bool = False

    EXAMPLES: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "scanner": "desk-scanner",
            "reader": "return-pad",
            "reader_kind": "feig",
            "tls_ca": "/etc/reticent/sip2-ca.crt",
            "login": "bookdrop1",
            "password_file": "/etc/reticent/bookdrop1-password",
            "institution": "main",
            "location": "main-returns",
            "queue_dir": "/var/lib/reticent/station",
            "display": "drop-display",
            "item_pattern": "3[0-9]{13}",
            "patron_pattern": "2[0-9]{13}",
        }
    )
    COMMENTS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "mode": '"checkin" (a book drop) or "item-info" (look items up).',
            "scanner": "Barcode scanner: a [devices] name or a serial port.",
            "reader": "RFID pad: a [devices] name or a serial port.",
            "reader_kind": 'The pad\'s protocol when `reader` is a port: "feig" or "3m".',
            "sip2": "The SIP2 server, HOST:PORT.",
            "tls_ca": "Use TLS to the server, trusting this CA file (PRIV-08).",
            "login": "The station's SIP2 terminal account.",
            "password_file": "File holding that account's password (never the password).",
            "institution": "SIP2 institution id (default: library.institution_id).",
            "location": "SIP2 current location of returned items (default: the institution).",
            "queue_dir": "Where scans wait while the server is away (default: data_dir/station).",
            "queue_limit": "Scans kept waiting at most; more are refused with a bell.",
            "settle_ms": "RFID: how long to wait for every part of an item before reporting.",
            "bell": "Ring the terminal bell (or the display's) on a problem.",
            "display": "A serial line display for results: a [devices] name or a port.",
            "item_pattern": "Item barcodes must match this pattern (full match).",
            "item_check_digit": "Item barcodes carry the 14-digit library check digit.",
            "patron_pattern": "Patron card barcodes look like this: never checked in or logged.",
            "patron_check_digit": "Patron barcodes carry the library check digit.",
        }
    )


DEVICES_TEMPLATE = """\
# Serial devices: barcode scanners, RFID readers (Feig ISO-host, 3M/Bibliotheca 210/810) and
# line displays, each in a [devices.NAME] table (docs/devices.md). baud and parity default to
# the device's factory setting.
[devices]
#[devices.desk-scanner]
#kind = "scanner"
#port = "/dev/ttyACM0"
#role = "checkin"
#terminator = "CR"
#[devices.return-pad]
#kind = "feig"
#port = "/dev/ttyUSB0"
#security = "afi"
#afi_secured = 0x07
#afi_unsecured = 0xC2
#[devices.drop-display]
#kind = "display"
#port = "/dev/ttyUSB1"
"""


def parse_host_port(value: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 in brackets) as host and port; ValueError with a one-line reason."""
    found = _HOST_PORT.fullmatch(value)
    if found is None or not 1 <= int(found.group("port")) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return found.group("host").strip("[]"), int(found.group("port"))


def validate_devices(
    devices: Mapping[str, DeviceSettings], station: StationSettings, *, source: str
) -> None:
    """Raise ConfigError naming the first device or station setting that cannot be used."""
    for name, device in devices.items():
        key = join_key("devices", name)
        if not device.port:
            raise ConfigError(source, f"{key}.port", "must not be empty")
        if device.line_baud not in _BAUDS:
            raise ConfigError(source, f"{key}.baud", f"expected one of {sorted(_BAUDS)}")
        for field in ("afi_secured", "afi_unsecured"):
            if not 0 <= getattr(device, field) <= 0xFF:
                raise ConfigError(source, f"{key}.{field}", "an AFI is one byte (0x00-0xFF)")
        if device.afi_secured == device.afi_unsecured and device.security != "eas":
            raise ConfigError(source, f"{key}.afi_unsecured", "must differ from afi_secured")
        if device.kind == "3m" and device.security != "afi":
            raise ConfigError(source, f"{key}.security", "3M readers can set the AFI only")
        for field in ("idle_gap_ms", "poll_interval_ms", "reply_timeout_ms"):
            if getattr(device, field) < 1:
                raise ConfigError(source, f"{key}.{field}", "must be at least 1")
    check_station(devices, station, source=source)


def check_station(
    devices: Mapping[str, DeviceSettings], station: StationSettings, *, source: str
) -> None:
    """The [station] checks, also run on the command line's overrides."""
    try:
        parse_host_port(station.sip2)
    except ValueError as error:
        raise ConfigError(source, "station.sip2", str(error)) from None
    wanted = {"scanner": ("scanner",), "reader": ("feig", "3m"), "display": ("display",)}
    for field, kinds in wanted.items():
        name = getattr(station, field)
        if name is None or _is_port(name):
            continue
        device = devices.get(name)
        if device is None:
            raise ConfigError(source, f"station.{field}", f"no [devices.{name}] and not a port")
        if device.kind not in kinds:
            raise ConfigError(source, f"station.{field}", f"{name!r} is a {device.kind}")
        if field == "reader" and station.reader_kind not in (None, device.kind):
            raise ConfigError(source, "station.reader_kind", f"{name!r} is a {device.kind}")
    if station.reader is not None and _is_port(station.reader) and station.reader_kind is None:
        raise ConfigError(source, "station.reader_kind", 'needed for a port: "feig" or "3m"')
    if station.queue_limit < 1:
        raise ConfigError(source, "station.queue_limit", "must be at least 1")
    if station.settle_ms < 0:
        raise ConfigError(source, "station.settle_ms", "must not be negative")
    for field in ("item_pattern", "patron_pattern"):
        pattern = getattr(station, field)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ConfigError(source, f"station.{field}", f"bad pattern: {error}") from None


def _is_port(name: str) -> bool:
    """A path (/dev/ttyACM0, ./sim-scanner) rather than a [devices] name."""
    return "/" in name
