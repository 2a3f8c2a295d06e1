"""The station's queue on disk: order, limit, replay after a restart, damage, compaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from devices.station import journal as journal_module
from devices.station.journal import Journal, JournalError, QueueFull

AT = dt.datetime(2026, 3, 4, 10, 0, 0, 123456, tzinfo=dt.UTC)


def test_scans_wait_in_order_with_fixed_dates_and_digits(tmp_path: Path) -> None:
    journal = Journal(tmp_path, 10)
    first = journal.add("A", AT, "scanner")
    second = journal.add("B", AT + dt.timedelta(seconds=1), "rfid", parts=2)
    assert [scan.item_id for scan in journal.pending()] == ["A", "B"]
    assert first.scanned_at == AT.replace(microsecond=0)  # SIP2 dates have whole seconds
    assert (first.sequence, second.sequence) == (1, 2)
    journal.done(first, "checked in")
    assert journal.pending() == [second]
    journal.close()


def test_a_restart_finds_what_was_not_answered(tmp_path: Path) -> None:
    journal = Journal(tmp_path, 10)
    answered = journal.add("A", AT, "scanner")
    waiting = journal.add("B", AT, "rfid", parts=2)
    journal.done(answered, "checked in")
    journal.close()
    again = Journal(tmp_path, 10)
    assert again.pending() == [waiting]
    assert again.add("C", AT, "scanner").number == 3  # numbers are never reused
    again.close()


def test_the_limit_refuses_more_scans(tmp_path: Path) -> None:
    journal = Journal(tmp_path, 2)
    journal.add("A", AT, "scanner")
    journal.add("B", AT, "scanner")
    with pytest.raises(QueueFull):
        journal.add("C", AT, "scanner")
    journal.close()


def test_a_line_cut_by_a_crash_is_ignored_but_damage_elsewhere_is_reported(tmp_path: Path) -> None:
    journal = Journal(tmp_path, 10)
    journal.add("A", AT, "scanner")
    journal.close()
    path = tmp_path / journal_module.JOURNAL_NAME
    with path.open("a") as file:
        file.write('{"add":2,"item":"B"')  # no newline: the write never finished
    assert [scan.item_id for scan in Journal(tmp_path, 10).pending()] == ["A"]
    path.write_text("not json\n" + path.read_text())
    with pytest.raises(JournalError, match="line 1"):
        Journal(tmp_path, 10)


def test_an_unknown_barcode_leaves_the_disk_once_nothing_waits(tmp_path: Path) -> None:
    journal = Journal(tmp_path, 10)
    card = journal.add("29990000000001", AT, "scanner")
    journal.done(card, "not checked in", forget=True)
    text = (tmp_path / journal_module.JOURNAL_NAME).read_text()
    assert "29990000000001" not in text  # PRIV-16
    assert journal.add("B", AT, "scanner").number == 2  # the numbering goes on
    journal.close()
    assert [scan.number for scan in Journal(tmp_path, 10).pending()] == [2]


def test_the_file_is_compacted_after_many_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "COMPACT_AFTER", 5)
    journal = Journal(tmp_path, 10)
    for n in range(5):
        journal.done(journal.add(f"I{n}", AT, "scanner"), "checked in")
    assert len((tmp_path / journal_module.JOURNAL_NAME).read_text().splitlines()) == 2
    journal.close()
    assert (tmp_path / journal_module.JOURNAL_NAME).stat().st_mode & 0o077 == 0
