"""`[sip2] workers` and `serve --sip2-workers`: the setting, its checks and the command line."""

from __future__ import annotations

import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from config.cli import build_parser
from config.loader import ConfigError
from config.settings import MAX_SIP2_WORKERS, Sip2Settings, load_settings
from config.template import render_config
from tests.config.cli_support import new_instance, set_option

RETICENT = "import sys; from config.cli import main; sys.exit(main())"


def load_workers(tmp_path: Path, value: str) -> int:
    path = tmp_path / "reticent.toml"
    path.write_text(f"[sip2]\nworkers = {value}\n", encoding="utf-8")
    return load_settings(path, {}).sip2.workers


def test_one_worker_by_default() -> None:
    assert Sip2Settings().workers == 1


def test_workers_are_read_from_the_file(tmp_path: Path) -> None:
    assert load_workers(tmp_path, "2") == 2


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_SIP2_WORKERS + 1)])
def test_workers_out_of_range_are_refused_naming_the_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"sip2\.workers"):
        load_workers(tmp_path, value)


def test_workers_must_be_a_whole_number(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sip2\.workers"):
        load_workers(tmp_path, "1.5")


def test_the_template_explains_workers_and_sets_one(tmp_path: Path) -> None:
    text = render_config(tmp_path / "data")
    assert tomllib.loads(text)["sip2"]["workers"] == 1
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("workers = "))
    assert lines[at - 1].startswith("#")  # a comment for the librarian right above it


@pytest.mark.parametrize("value", ["0", "two", str(MAX_SIP2_WORKERS + 1)])
def test_the_command_line_refuses_a_bad_worker_count(value: str) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["serve", "--sip2-workers", value])
    assert caught.value.code == 2


def test_the_command_line_overrides_the_setting() -> None:
    args = build_parser().parse_args(["serve", "--sip2-workers", "3"])
    assert args.sip2_workers == 3
    assert build_parser().parse_args(["serve"]).sip2_workers is None  # then [sip2] workers


def test_a_port_in_use_is_reported_before_any_worker_starts(tmp_path: Path) -> None:
    config = new_instance(tmp_path)
    set_option(config, "workers", "2")
    with socket.socket() as taken:  # another program listens on the port, without SO_REUSEPORT
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = ["serve", "--sip2-listen", f"127.0.0.1:{port}"]
        done = subprocess.run(
            [sys.executable, "-c", RETICENT, "--config", str(config), *serve],
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    expected = f"cannot listen for SIP2 on 127.0.0.1:{port}: Address already in use"
    assert expected in done.stderr.decode()
    assert b"worker started" not in done.stderr
