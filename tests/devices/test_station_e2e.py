"""Stations end to end: a real `reticent serve`, simulators on ptys, `reticent station`."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.config.cli_support import new_instance
from tests.devices.e2e_support import (
    PATRON,
    Process,
    launch_server,
    launch_sim,
    loans_of,
    prepare_instance,
    server_port,
    sim_ready,
    start_server,
    start_sim,
    start_station,
)

pytestmark = pytest.mark.slow

STACK = tuple(f"3319100010{n:04d}" for n in range(12))
TWO_PARTS = "33191000209999"
ONE_OF_TWO = "33191000208888"
NOBODY_LISTENS = 1  # a privileged port no test server uses: the server is "away"


@dataclass
class Rig:
    """The processes of one test; all are killed at its end, whatever happened."""

    config: Path
    tmp: Path
    started: list[Process]

    def keep(self, process: Process) -> Process:
        self.started.append(process)
        return process

    def boot(self, *sims: tuple[str, str]) -> tuple[int, dict[str, Process]]:
        """A server and simulators (kind, link name), started side by side."""
        server = self.keep(launch_server(self.config, self.tmp / "server.log"))
        launched = {
            name: (self.keep(launch_sim(kind, self.tmp / name, self.tmp / f"{name}.log")), name)
            for kind, name in sims
        }
        port = server_port(server)
        return port, {
            name: sim_ready(sim, self.tmp / link) for name, (sim, link) in launched.items()
        }

    def station(self, port: int, *options: str, log: str = "station.log") -> Process:
        return self.keep(start_station(self.config, self.tmp / log, port, *options))

    def scanner_option(self) -> tuple[str, str]:
        return ("--scanner", str(self.tmp / "scanner"))

    def reader_options(self, kind: str) -> tuple[str, ...]:
        return ("--reader", str(self.tmp / "pad"), "--reader-kind", kind)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    config = new_instance(tmp_path)
    prepare_instance(config, [*STACK, TWO_PARTS, ONE_OF_TWO])
    rig = Rig(config, tmp_path, [])
    yield rig
    for process in reversed(rig.started):
        process.stop(signal.SIGKILL)


def outcome(line: str) -> tuple[str, str]:
    item, _, text = line.partition(": ")
    return item, text


def assert_checked_in_once(lines: list[str], items: tuple[str, ...]) -> None:
    assert sorted(outcome(line)[0] for line in lines) == sorted(items)
    for line in lines:
        text = outcome(line)[1]
        assert text.startswith("checked in"), line
        assert "not on loan" not in text, line  # a second application of the same checkin


def assert_no_patron(station: Process, queue: Path) -> None:
    # PRIV-16: never a patron barcode in a station's lines, its log or its queue.
    assert PATRON not in "\n".join(station.seen)
    assert PATRON not in station.log_text()
    assert PATRON not in queue.read_text()


def test_a_book_drop_checks_in_a_stack_of_barcodes(rig: Rig) -> None:
    port, sims = rig.boot(("scanner", "scanner"))
    station = rig.station(port, *rig.scanner_option())
    for item in STACK:
        sims["scanner"].write(item)
    sims["scanner"].write(PATRON)  # a patron card at the drop, with no patron pattern set
    lines = station.lines_until(len(STACK) + 1)
    assert_checked_in_once(lines[:-1], STACK)
    assert lines[-1] == "a barcode the server does not know: not checked in: Item not recognised."
    assert loans_of(rig.config, STACK) == 0
    assert_no_patron(station, rig.config.parent / "station" / "queue.jsonl")


def test_a_patron_pattern_keeps_cards_from_the_server(rig: Rig) -> None:
    text = rig.config.read_text(encoding="utf-8")
    rig.config.write_text(text.replace("[station]\n", '[station]\npatron_pattern = "2[0-9]{13}"\n'))
    port, sims = rig.boot(("scanner", "scanner"))
    station = rig.station(port, *rig.scanner_option())
    sims["scanner"].write(PATRON)
    sims["scanner"].write(STACK[0])
    assert station.line() == "a patron card was ignored"
    assert outcome(station.line()) == (STACK[0], "checked in; sort bin stacks")
    assert_no_patron(station, rig.config.parent / "station" / "queue.jsonl")


@pytest.mark.parametrize("kind", ["feig", "3m"])
def test_an_rfid_station_relocks_a_two_part_item_and_reports_a_missing_part(
    rig: Rig, kind: str
) -> None:
    port, sims = rig.boot((kind, "pad"))
    pad = sims["pad"]
    station = rig.station(port, *rig.reader_options(kind))
    pad.write(f"place {TWO_PARTS} 1/2 afi=C2")
    pad.write(f"place {TWO_PARTS} 2/2 afi=C2")
    assert pad.line().startswith("placed")
    assert pad.line().startswith("placed")
    assert station.line() == f"{TWO_PARTS} (2 parts): checked in; sort bin stacks; relocked"
    pad.write("list")
    listed = pad.line()
    assert listed.count("afi=07") == 2, listed
    pad.write(f"place {ONE_OF_TWO} 1/2 afi=C2")
    assert station.line() == f"{ONE_OF_TWO}: missing part 2 of 2; not checked in"
    assert loans_of(rig.config, [TWO_PARTS]) == 0
    assert loans_of(rig.config, [ONE_OF_TWO]) == 1  # not checked in without its second part
    pad.write(f"place {ONE_OF_TWO} 2/2 afi=C2")  # the part turns up: now it is checked in
    assert station.line() == f"{ONE_OF_TWO} (2 parts): checked in; sort bin stacks; relocked"
    assert loans_of(rig.config, [ONE_OF_TWO]) == 0


def test_a_failed_relock_is_reported(rig: Rig) -> None:
    port, sims = rig.boot(("feig", "pad"))
    station = rig.station(port, *rig.reader_options("feig"))
    sims["pad"].write("fail-next-write")
    sims["pad"].write(f"place {STACK[0]} afi=C2")
    assert station.line() == f"{STACK[0]}: checked in; sort bin stacks; relock failed for part 1"


def test_the_server_restarts_under_a_station_without_a_lost_or_doubled_checkin(rig: Rig) -> None:
    port, sims = rig.boot(("scanner", "scanner"))
    station = rig.station(port, *rig.scanner_option())
    server = rig.started[0]
    half = len(STACK) // 2
    for item in STACK[:half]:
        sims["scanner"].write(item)
    first = station.lines_until(2)
    server.stop(signal.SIGKILL)  # mid-stack, with no chance to finish anything
    for item in STACK[half:]:
        sims["scanner"].write(item)
    station.wait_log("server away")
    rig.keep(start_server(rig.config, rig.tmp / "server2.log", port)[0])
    rest = station.lines_until(len(STACK) - 2)
    assert_checked_in_once(first + rest, STACK)
    station.no_line(1.0)
    assert loans_of(rig.config, STACK) == 0
    station.wait_log("server back")


def test_the_station_restarts_with_scans_queued(rig: Rig) -> None:
    scanner = rig.keep(start_sim("scanner", rig.tmp / "scanner", rig.tmp / "scanner.log"))
    station = rig.station(NOBODY_LISTENS, *rig.scanner_option())
    for item in STACK:
        scanner.write(item)
    station.wait_log("server away")
    station.no_line(1.0)
    queue = (rig.config.parent / "station" / "queue.jsonl").read_text()
    assert all(item in queue for item in STACK)
    assert station.stop() == 0  # SIGTERM: a clean stop, the queue stays on disk
    server, port = start_server(rig.config, rig.tmp / "server.log")
    rig.keep(server)
    station = rig.station(port, *rig.scanner_option(), log="station2.log")
    assert "waiting=12" in station.log_text()
    lines = station.lines_until(len(STACK))
    assert [outcome(line)[0] for line in lines] == list(STACK)  # in the order scanned
    assert_checked_in_once(lines, STACK)
    assert loans_of(rig.config, STACK) == 0


def test_an_unplugged_scanner_and_reader_recover_when_they_come_back(rig: Rig) -> None:
    port, sims = rig.boot(("scanner", "scanner"), ("3m", "pad"))
    scanner, pad = sims["scanner"], sims["pad"]
    station = rig.station(port, *rig.scanner_option(), *rig.reader_options("3m"))
    scanner.write(STACK[0])
    assert outcome(station.line())[0] == STACK[0]
    scanner.stop(signal.SIGKILL)  # the pty closes: the cable is pulled
    station.wait_log(r"device lost device=\S*scanner")
    scanner = rig.keep(start_sim("scanner", rig.tmp / "scanner", rig.tmp / "scanner2.log"))
    station.wait_log(r"device back device=\S*scanner")
    scanner.write(STACK[1])  # a scanner sends nothing before the port is open again
    assert outcome(station.line())[0] == STACK[1]
    pad.write("unplug")
    station.wait_log(r"device lost device=\S*pad")
    pad.write("plug")
    station.wait_log(r"device back device=\S*pad")
    pad.write(f"place {STACK[2]} afi=C2")
    assert station.line() == f"{STACK[2]}: checked in; sort bin stacks; relocked"
    assert "Traceback" not in station.log_text()
