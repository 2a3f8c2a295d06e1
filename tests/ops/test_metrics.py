"""The Prometheus endpoint: off by default, loopback unless allowed, counts without people."""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path

import pytest

from config.cli import build_parser
from config.loader import ConfigError
from config.metrics import ApplianceMetrics, command_label
from config.settings import MetricsSettings, load_settings
from tests.config.cli_support import run, set_option
from tests.ops.support import (
    Served,
    Terminal,
    busy_run,
    make_instance,
    personal_values,
    serve,
    sip2_port,
)


def scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
        return str(answer.read().decode("utf-8"))


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one series; 0 when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(f"^{pattern}$", exposition, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_metrics_are_off_by_default(tmp_path: Path) -> None:
    assert MetricsSettings().listen is None
    config = make_instance(tmp_path)
    assert load_settings(config, {}).metrics.address is None


@pytest.mark.parametrize("listen", ["0.0.0.0:9464", "192.0.2.7:9464", "metrics.example:9464"])
def test_a_non_loopback_address_is_refused_unless_allowed(tmp_path: Path, listen: str) -> None:
    path = tmp_path / "reticent.toml"
    path.write_text(f'[metrics]\nlisten = "{listen}"\n')
    with pytest.raises(ConfigError, match=r"metrics\.listen: .*allow_remote = true"):
        load_settings(path, {})
    path.write_text(f'[metrics]\nlisten = "{listen}"\nallow_remote = true\n')
    assert load_settings(path, {}).metrics.listen == listen


@pytest.mark.parametrize("listen", ["9464", "127.0.0.1:", "127.0.0.1:65536", ":9464"])
def test_a_malformed_address_is_refused_naming_the_key(tmp_path: Path, listen: str) -> None:
    path = tmp_path / "reticent.toml"
    path.write_text(f'[metrics]\nlisten = "{listen}"\n')
    with pytest.raises(ConfigError, match=r"metrics\.listen: expected HOST:PORT"):
        load_settings(path, {})


def test_the_command_line_refuses_a_remote_address_before_starting(tmp_path: Path) -> None:
    config = make_instance(tmp_path)
    code, out, err = run(config, "serve", "--metrics-listen", "0.0.0.0:9464")
    assert code == 2 and "allow_remote" in err and out == ""
    assert build_parser().parse_args(["serve", "--metrics-listen", "[::1]:9464"]).metrics_listen


def test_metrics_need_a_single_process(tmp_path: Path) -> None:
    config = make_instance(tmp_path)
    code, _, err = run(config, "serve", "--metrics-listen", "127.0.0.1:0", "--sip2-workers", "2")
    assert code == 2 and "workers = 1" in err


def test_command_labels_are_codes_only() -> None:
    assert command_label("11") == "11"
    assert command_label("PZ") == "??"
    assert command_label("") == "??"


def test_a_refused_login_is_counted_without_its_name() -> None:
    metrics = ApplianceMetrics()
    metrics.login_refused()
    assert metrics.registry.get_sample_value("reticent_sip2_logins_refused_total") == 1


def test_sessions_follow_the_terminal_a_connection_is_logged_in_as() -> None:
    metrics = ApplianceMetrics()
    first, second = object(), object()

    def sessions(terminal: str) -> float | None:
        return metrics.registry.get_sample_value("reticent_sip2_sessions", {"terminal": terminal})

    metrics.connection_opened(first)
    metrics.connection_opened(second)
    metrics.terminal_changed(first, "kiosk1")
    assert (sessions("-"), sessions("kiosk1")) == (1, 1)
    metrics.terminal_changed(first, None)  # a failed re-login signs the terminal out
    assert (sessions("-"), sessions("kiosk1")) == (2, 0)
    metrics.connection_closed(first)
    metrics.connection_closed(second)
    metrics.connection_closed(second)  # closing twice counts once
    assert sessions("-") == 0


def metrics_address(served: Served) -> str:
    found = re.fullmatch(r"metrics on http://(127\.0\.0\.1:\d+)/metrics", served.lines[2].strip())
    assert found is not None, served.lines
    return found.group(1)


def test_the_daily_job_is_counted_on_the_endpoint(tmp_path: Path) -> None:
    config = make_instance(tmp_path)
    served = serve(config, tmp_path, "--metrics-listen", "127.0.0.1:0")
    try:
        address = metrics_address(served)
        exposition = scrape(address)
        deadline = time.monotonic() + 20
        # The catch-up run (retention, then notices) starts with the server.
        while not re.search(r"^reticent_notice_deliveries_total\{", exposition, re.MULTILINE):
            assert time.monotonic() < deadline, exposition
            time.sleep(0.05)
            exposition = scrape(address)
        assert sample(exposition, "reticent_purge_runs_total") == 1
        assert sample(exposition, "reticent_purge_last_run_timestamp_seconds") > 0
        assert "reticent_purge_rows_removed_total" in exposition
        assert "reticent_database_queue_depth 0.0" in exposition
        assert 'reticent_notice_deliveries_total{result="emailed"} 0.0' in exposition
        assert "_created" not in exposition
    finally:
        assert served.stop() == 0


def test_a_busy_run_moves_the_counters_and_names_nobody(tmp_path: Path) -> None:
    config = make_instance(tmp_path)
    set_option(config, "allow_remote", 'false\nlisten = "127.0.0.1:0"')  # from the file this time
    served = serve(config, tmp_path, "--metrics-listen", "127.0.0.1:0")
    port = sip2_port(config)
    try:
        address = metrics_address(served)
        before = scrape(address)
        busy_run(port)
        held = Terminal(port)  # a terminal still logged in while the endpoint is read
        try:
            assert held.login()
            during = scrape(address)
        finally:
            held.close()
        after = scrape(address)
        deadline = time.monotonic() + 10
        while sample(after, "reticent_sip2_sessions", terminal="kiosk1"):  # the close lands
            assert time.monotonic() < deadline, after
            time.sleep(0.05)
            after = scrape(address)
    finally:
        assert served.stop() == 0
    # PRIV-16: not a barcode, name, PIN, password or item id anywhere, as label or value.
    for exposition in (before, during, after):
        for value in personal_values():
            assert value not in exposition, value
    requests = "reticent_sip2_requests_total"
    assert sample(before, requests, command="11", outcome="ok") == 0
    assert sample(after, requests, command="93", outcome="refused") == 1
    assert sample(after, requests, command="93", outcome="ok") == 2
    assert sample(after, requests, command="63", outcome="answered") == 6
    assert sample(after, requests, command="11", outcome="ok") == 3
    assert sample(after, requests, command="09", outcome="ok") == 3
    assert sample(after, requests, command="09", outcome="refused") == 1
    assert sample(after, "reticent_sip2_request_seconds_count", command="11") == 3
    assert sample(after, "reticent_sip2_request_seconds_sum", command="11") > 0
    assert sample(after, "reticent_sip2_logins_refused_total") == 1
    assert sample(during, "reticent_sip2_sessions", terminal="kiosk1") == 1
    assert sample(after, "reticent_sip2_sessions", terminal="kiosk1") == 0
    assert "reticent_database_queue_depth" in after
