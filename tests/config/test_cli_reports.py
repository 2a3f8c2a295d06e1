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
    assert code == 1 and "only a privacy officer" in err
    assert "`reticent report overdue --as USER --password-stdin`" in err
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


def test_privacy_audit_warns_on_a_fresh_instance_and_fails_a_readable_key(instance: Path) -> None:
    code, out, _ = run(instance, "privacy", "audit")
    assert code == 0, out
    assert any(line.startswith("PASS  PRIV-08") and "key file" in line for line in out.splitlines())
    assert any(line.startswith("WARN  PRIV-01") for line in out.splitlines())  # no policy yet
    assert "0 failed" in out and "next steps:" in out and "reticent staff add" in out
    (instance.parent / "reticent.key").chmod(0o644)
    code, out, _ = run(instance, "privacy", "audit")
    lines = out.splitlines()
    assert code == 1
    assert any(line.startswith("FAIL  PRIV-08") and "mode 0644" in line for line in lines)
    assert any("store not opened" in line for line in lines)
    assert "12 checks: 7 failed" in out and "chmod 600" in lines[lines.index("next steps:") + 1]


def test_the_fresh_demo_passes_its_own_audit_with_warnings_only(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    code, out, err = run(None, "init", "--data-dir", str(data), "--demo")
    assert code == 0, err
    assert "next steps:" in out and "privacy audit" in out
    code, out, _ = run(data / "reticent.toml", "privacy", "audit")
    assert code == 0, out
    outcomes = {"PASS", "WARN", "FAIL"}
    statuses = {line.split()[0] for line in out.splitlines() if line[:4] in outcomes}
    assert statuses == {"PASS", "WARN"}
    assert "WARN  PRIV-14" in out and "WARN  PRIV-07" in out  # no canary, no purge run yet
