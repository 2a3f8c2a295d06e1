"""`reticent notices`, `reticent report` and `reticent privacy audit` on a real instance."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.config.cli_support import new_instance, run, write
from tests.config.test_cli import ITEMS, PATRONS


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return new_instance(tmp_path)


@pytest.fixture
def circulated(instance: Path, tmp_path: Path) -> Path:
    """Two patrons, one checkout, one checkin: anonymous counts of 1 in the statistics."""
    assert run(instance, "import", "items", str(write(tmp_path / "i.csv", ITEMS)))[0] == 0
    assert run(instance, "import", "patrons", str(write(tmp_path / "p.csv", PATRONS)))[0] == 0
    assert run(instance, "checkout", "P1", "I1")[0] == 0
    assert run(instance, "checkin", "I1")[0] == 0
    assert run(instance, "checkout", "P2", "I2")[0] == 0
    return instance


def test_circulation_report_as_table_and_csv(circulated: Path) -> None:
    code, out, _ = run(circulated, "report", "circulation")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "month",
        "branch",
        "media",
        "type",
        "category",
        "checkouts",
        "checkins",
        "renewals",
    ]
    assert lines[2].split() == ["2026-03", "main", "book", "adult", "<5", "<5", "0"]
    assert "counts under 5 as <5" in lines[-1]
    code, out, _ = run(circulated, "report", "circulation", "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[1] == ["2026-03", "main", "book", "adult", "<5", "<5", "0"]
    for secret in ("P1", "P2", "Ada", "Lovelace", "I1", "Dune"):
        assert secret not in out


def test_overdue_report_needs_the_privacy_officer(circulated: Path) -> None:
    code, _, err = run(circulated, "report", "overdue")
    assert code == 1 and "not permitted: pii_reports" in err
    add = ("staff", "add", "pia", "--role", "privacy_officer", "--password-stdin")
    assert run(circulated, *add, stdin="officer-pass\n")[0] == 0
    code, _, err = run(circulated, "report", "overdue", "--as", "pia", stdin="wrong\n")
    assert code == 1 and "password not accepted" in err
    code, out, _ = run(circulated, "report", "overdue", "--as", "pia", stdin="officer-pass\n")
    assert code == 0 and out.splitlines()[0].split() == ["patron", "name", "item", "title", "due"]
    assert "(0 rows)" in out  # nothing is overdue yet on the fixed clock


def test_notices_send_dry_run_and_real(circulated: Path) -> None:
    code, out, _ = run(circulated, "notices", "send", "--dry-run")
    assert code == 0 and "would send 0" in out
    code, out, _ = run(circulated, "notices", "send")
    assert code == 0 and "sent 0" in out and "notification history (opt-in) 0" in out


def test_a_template_with_a_title_placeholder_is_refused_at_load(instance: Path) -> None:
    text = instance.read_text()
    text = text.replace('template_fee = "Library account\\n', 'template_fee = "Your $title\\n', 1)
    instance.write_text(text)
    code, _, err = run(instance, "notices", "send")
    assert code == 2 and "unknown placeholder $title" in err


def test_privacy_audit_fails_on_a_fresh_instance_and_a_readable_key(instance: Path) -> None:
    code, out, _ = run(instance, "privacy", "audit")
    assert code == 1
    assert any(line.startswith("PASS  PRIV-08") and "key file" in line for line in out.splitlines())
    assert any(line.startswith("FAIL  PRIV-01") for line in out.splitlines())  # no policy yet
    (instance.parent / "reticent.key").chmod(0o644)
    code, out, _ = run(instance, "privacy", "audit")
    lines = out.splitlines()
    assert code == 1
    assert any(line.startswith("FAIL  PRIV-08") and "mode 0644" in line for line in lines)
    assert any("store not opened" in line for line in lines)
    assert "failed" in lines[-1]
