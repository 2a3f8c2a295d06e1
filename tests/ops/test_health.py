"""`reticent health`: one parseable line or JSON, exit 0 when healthy, 1 for each fault."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import load_settings
from core.privacy import canary
from core.security.keys import load_key
from core.store.engine import create_store_engine
from tests.config.cli_support import new_instance, run, set_option
from tests.conftest import NOW
from tests.ops.support import free_port

PASSPHRASE = "a long canary passphrase"


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """What a monitoring check does with the line: status, name=value pairs, the reasons."""
    head, _, reasons = line.strip().partition(" | ")
    status, *pairs = head.split(" ")
    return status, dict(pair.split("=", 1) for pair in pairs), reasons


def publish_canary(config: Path, issued: dt.datetime, days: int) -> None:
    pair = canary.generate_keypair(PASSPHRASE)
    key = canary.load_private_key(pair.private_pem, PASSPHRASE)
    signed = canary.sign_canary(key, "No secret orders received.", issued, days)
    (config.parent / "canary.json").write_text(signed.to_json(), encoding="utf-8")


@pytest.fixture
def sip2_listening() -> Iterator[int]:
    """Something accepting connections on a free port (the SIP2 server's place)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.fixture
def healthy(tmp_path: Path, sip2_listening: int) -> Path:
    """An instance with a purge run and a fresh canary at NOW, its listener port taken."""
    config = new_instance(tmp_path)
    set_option(config, "port", str(sip2_listening))
    code, _, err = run(config, "purge", now=NOW)
    assert code == 0, err
    publish_canary(config, NOW, days=90)
    return config


def health(
    config: Path, *options: str, now: dt.datetime = NOW
) -> tuple[int, str, dict[str, str], str]:
    code, out, err = run(config, "health", *options, now=now)
    assert err == ""
    assert out.count("\n") == 1  # one line, whatever happens
    status, values, reasons = parse(out)
    return code, status, values, reasons


def test_a_healthy_instance(healthy: Path) -> None:
    code, status, values, reasons = health(healthy)
    assert (code, status, reasons) == (0, "OK", "")
    assert values["store"] == "ok" and values["schema"] == "current"
    assert values["sip2"] == "listening"
    assert values["purge"] == f"ok({NOW:%Y-%m-%dT%H:%MZ})"
    assert values["canary"] == "fresh"
    assert values["disk"].startswith("ok(") and values["clock"] == "ok"
    assert "ssh" not in values  # this version has no SSH gateway setting: nothing to check


def test_json_for_machines(healthy: Path) -> None:
    code, out, _ = run(healthy, "health", "--json", now=NOW)
    assert code == 0
    answer = json.loads(out)
    assert answer["status"] == "ok"
    names = [check["name"] for check in answer["checks"]]
    assert names == ["store", "schema", "sip2", "purge", "canary", "disk", "clock"]
    assert all(check["ok"] for check in answer["checks"])


def test_store_missing(healthy: Path) -> None:
    load_settings(healthy, {}).database_path.unlink()
    code, status, values, reasons = health(healthy)
    assert (code, status) == (1, "FAIL")
    assert values["store"] == "missing" and values["purge"] == "unknown"
    assert "no database at" in reasons
    code, out, _ = run(healthy, "health", "--json", now=NOW)
    assert code == 1 and json.loads(out)["status"] == "fail"


def test_wrong_key(healthy: Path) -> None:
    key_file = load_settings(healthy, {}).key_path
    key_file.write_text("cd" * 32 + "\n")
    code, status, values, reasons = health(healthy)
    assert (code, status, values["store"]) == (1, "FAIL", "wrong-key")
    assert "key does not match" in reasons
    assert "cd" * 32 not in reasons


def test_key_file_readable_by_others(healthy: Path) -> None:
    load_settings(healthy, {}).key_path.chmod(0o644)
    code, _, values, reasons = health(healthy)
    assert (code, values["store"]) == (1, "key")
    assert "chmod 600" in reasons


def test_schema_behind_the_program(healthy: Path) -> None:
    settings = load_settings(healthy, {})
    engine = create_store_engine(settings.database_path, load_key(settings.key_path))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    engine.dispose()
    code, _, values, reasons = health(healthy)
    assert (code, values["store"], values["schema"]) == (1, "ok", "outdated")
    assert "at 0001" in reasons


def test_port_not_listening(healthy: Path) -> None:
    port = free_port()
    set_option(healthy, "port", str(port))
    code, _, values, reasons = health(healthy)
    assert (code, values["sip2"]) == (1, "down")
    assert f"127.0.0.1:{port}" in reasons


def test_purge_overdue(healthy: Path) -> None:
    later = NOW + dt.timedelta(hours=49)
    publish_canary(healthy, later, days=90)
    code, _, values, reasons = health(healthy, now=later)
    assert (code, values["purge"]) == (1, f"overdue({NOW:%Y-%m-%dT%H:%MZ})")
    assert "more than 48 hours ago" in reasons
    assert values["clock"] == "ok"


def test_purge_never_ran(tmp_path: Path, sip2_listening: int) -> None:
    config = new_instance(tmp_path)
    set_option(config, "port", str(sip2_listening))
    publish_canary(config, NOW, days=90)
    code, _, values, _ = health(config)
    assert (code, values["purge"]) == (1, "never")


def test_canary_stale(healthy: Path) -> None:
    publish_canary(healthy, NOW - dt.timedelta(days=40), days=30)
    code, _, values, reasons = health(healthy)
    assert (code, values["canary"]) == (1, "stale")
    assert "PRIV-14" in reasons


def test_canary_expiring_is_still_healthy(healthy: Path) -> None:
    publish_canary(healthy, NOW - dt.timedelta(days=20), days=30)
    code, _, values, _ = health(healthy)
    assert (code, values["canary"]) == (0, "expiring")


def test_clock_before_the_last_recorded_event(healthy: Path) -> None:
    earlier = NOW - dt.timedelta(days=2)
    publish_canary(healthy, earlier, days=90)
    code, _, values, reasons = health(healthy, now=earlier)
    assert (code, values["clock"]) == (1, "behind")
    assert "before the last recorded event" in reasons


def test_clock_years_ahead(healthy: Path) -> None:
    ahead = NOW + dt.timedelta(days=3 * 365)
    publish_canary(healthy, ahead, days=90)
    code, _, values, reasons = health(healthy, now=ahead)
    assert (code, values["clock"]) == (1, "ahead")
    assert "1095 days after the last recorded event" in reasons


def test_a_broken_configuration_is_one_failing_line(tmp_path: Path) -> None:
    config = tmp_path / "reticent.toml"
    config.write_text("[sip2\n")
    code, status, values, reasons = health(config)
    assert (code, status, values) == (1, "FAIL", {"config": "invalid"})
    assert "invalid TOML" in reasons
