"""[devices] and [station] in the configuration, and the station's flags on top of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.cli import build_parser
from config.cli.devices import reader_config, scanner_config, station_settings
from config.loader import ConfigError
from config.settings import Settings, load_settings
from config.settings_devices import parse_host_port

DEVICES = """
[devices.desk]
kind = "scanner"
port = "/dev/ttyACM0"
terminator = "none"
idle_gap_ms = 60

[devices.pad]
kind = "feig"
port = "/dev/ttyUSB0"
security = "both"
afi_secured = 0x07
afi_unsecured = 0xC2

[devices.old-pad]
kind = "3m"
port = "/dev/ttyUSB1"

[station]
scanner = "desk"
reader = "pad"
login = "bookdrop1"
sip2 = "10.0.0.5:6001"
"""


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "reticent.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, {})


def test_devices_get_their_factory_line_settings(tmp_path: Path) -> None:
    settings = load(tmp_path, DEVICES)
    desk, pad, old = (settings.devices[name] for name in ("desk", "pad", "old-pad"))
    assert (desk.line_baud, desk.line_parity) == (9600, "none")
    assert (pad.line_baud, pad.line_parity) == (38400, "even")
    assert (old.line_baud, old.line_parity) == (19200, "none")
    scanner = scanner_config(settings, "desk")
    assert scanner.framing.terminator == "none"
    assert scanner.framing.idle_gap_s == pytest.approx(0.06)
    reader = reader_config(settings, "pad", None)
    assert (reader.kind, reader.port.parity, reader.security.eas) == ("feig", "even", True)
    assert reader.security.afi_secured == 0x07


def test_a_port_path_gets_the_defaults_of_its_kind(tmp_path: Path) -> None:
    settings = load(tmp_path, "")
    reader = reader_config(settings, "/dev/ttyS0", "3m")
    assert (reader.kind, reader.port.baud, reader.port.path) == ("3m", 19200, "/dev/ttyS0")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[station]\nscanner = "nowhere"\n', "station.scanner"),
        ('[station]\nreader = "/dev/ttyUSB0"\n', "station.reader_kind"),
        ('[station]\nsip2 = "localhost"\n', "station.sip2"),
        ('[station]\nitem_pattern = "(["\n', "station.item_pattern"),
        ("[station]\nqueue_limit = 0\n", "station.queue_limit"),
        ('[devices.x]\nkind = "3m"\nport = "/dev/x"\nsecurity = "eas"\n', "devices.x.security"),
        ('[devices.x]\nkind = "feig"\nport = "/dev/x"\nbaud = 1234\n', "devices.x.baud"),
        (
            '[devices.x]\nkind = "feig"\nport = "/dev/x"\nafi_secured = 300\n',
            "devices.x.afi_secured",
        ),
        ('[devices.x]\nkind = "printer"\nport = "/dev/x"\n', "devices.x.kind"),
        ('[devices.x]\nkind = "scanner"\n', "devices.x.port"),
    ],
)
def test_unusable_settings_name_their_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert caught.value.key == key


def test_flags_override_the_station_table(tmp_path: Path) -> None:
    settings = load(tmp_path, DEVICES)
    args = build_parser().parse_args(["station", "--mode", "item-info", "--sip2", "[::1]:6140"])
    station = station_settings(settings, args)
    assert (station.mode, station.sip2, station.scanner, station.login) == (
        "item-info",
        "[::1]:6140",
        "desk",
        "bookdrop1",
    )
    assert parse_host_port(station.sip2) == ("::1", 6140)


def test_a_station_needs_a_device_and_a_login(tmp_path: Path) -> None:
    settings = load(tmp_path, "")
    with pytest.raises(ConfigError, match="--scanner or --reader"):
        station_settings(settings, build_parser().parse_args(["station", "--login", "x"]))
    with pytest.raises(ConfigError, match="login"):
        station_settings(settings, build_parser().parse_args(["station", "--scanner", "/dev/x"]))
    with pytest.raises(ConfigError, match="reader_kind"):
        station_settings(
            settings, build_parser().parse_args(["station", "--reader", "/dev/x", "--login", "x"])
        )
