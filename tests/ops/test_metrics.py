"""The Prometheus endpoint: off by default, loopback unless allowed, counts without people."""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path

import pytest

from config.cli import build_parser
from config.loader import ConfigError
from config.settings import MetricsSettings, load_settings
from tests.config.cli_support import run, set_option
from tests.ops.support import (
    Served,
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
        assert 'reticent_notice_deliveries_total{result="emailed"} 0.0' in exposition
        assert "_created" not in exposition
    finally:
        assert served.stop() == 0


def test_a_busy_run_moves_the_counters_and_names_nobody(tmp_path: Path) -> None:
    config = make_instance(tmp_path)
    set_option(config, "allow_remote", 'false\nlisten = "127.0.0.1:0"')  # from the file this time
    served = serve(config, tmp_path, "--metrics-listen", "127.0.0.1:0")
    try:
        address = metrics_address(served)
        before = scrape(address)
        busy_run(sip2_port(config))
        after = scrape(address)
    finally:
        assert served.stop() == 0
    for value in personal_values():
        assert value not in after, value
        assert value not in before, value
    assert sample(after, "reticent_purge_runs_total") >= sample(before, "reticent_purge_runs_total")
