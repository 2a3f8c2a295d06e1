"""What a user can get wrong gives one line and the documented exit code, never a traceback.

Each case runs the installed `reticent` console script as a real process.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from config.cli._context import Context
from config.cli._errors import ERROR_LOG_NAME, EXIT_INTERNAL, EXIT_PIPE, exit_code
from tests.config.cli_support import new_instance, run, write

RETICENT = str(Path(sys.executable).with_name("reticent"))
ITEMS = """barcode,title,author,isbn,call_number,media_type,location
I1,Dune,"Herbert, Frank",,PS 1,book,stacks
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RETICENT_CONFIG"}
    env.pop("PYTHONUNBUFFERED", None)
    return env


def reticent(
    *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RETICENT, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or _env(),
        timeout=timeout,
        check=False,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    config = new_instance(tmp_path)
    assert run(config, "import", "items", str(write(tmp_path / "i.csv", ITEMS)))[0] == 0
    return config


def test_serve_on_a_port_in_use(instance: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = reticent(
            "--config", str(instance), "serve", "--sip2-listen", f"127.0.0.1:{port}"
        )
    assert_one_line(done, 2, f"127.0.0.1:{port}", "Address already in use", "reticent serve")


def test_serve_plain_sip2_off_the_loopback(instance: Path) -> None:
    done = reticent("serve", "--sip2-listen", "0.0.0.0:6109", "--config", str(instance))
    assert_one_line(done, 2, "0.0.0.0:6109", "TLS")


def test_import_of_a_missing_file(instance: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    done = reticent("import", "items", str(missing), "--config", str(instance))
    assert_one_line(done, 2, str(missing), "No such file")


def test_output_into_a_closed_pipe_is_quiet(instance: Path) -> None:
    """`item show X | head -1` when the reader has gone before we write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [RETICENT, "--config", str(instance), "item", "show", "I1"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == EXIT_PIPE
    assert done.stderr == ""


def test_item_show_into_head(instance: Path) -> None:
    """The same through a shell pipe, unbuffered so every line is its own write."""
    env = _env() | {"PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        f"'{RETICENT}' --config '{instance}' item show I1 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.stdout == "item      I1\n"
    assert done.stderr == ""


def test_a_backup_that_the_key_does_not_open(tmp_path: Path, instance: Path) -> None:
    other = new_instance(tmp_path / "other")
    backup = tmp_path / "other.db"
    assert run(other, "backup", str(backup))[0] == 0
    done = reticent("restore", str(backup), "--config", str(instance))
    assert_one_line(done, 2, "does not open")


def test_no_instance_here(tmp_path: Path) -> None:
    done = reticent("item", "show", "I1", cwd=tmp_path)
    assert_one_line(done, 2)
    assert done.stderr == (
        "reticent: no instance here: run `reticent init` or set RETICENT_CONFIG\n"
    )


def test_config_after_the_command(instance: Path) -> None:
    done = reticent("audit", "verify", "--config", str(instance))
    assert done.returncode == 0 and "intact" in done.stdout


def _boom(ctx: Context, args: argparse.Namespace) -> int:
    barcodes: dict[str, int] = {}
    return barcodes["20000001"]  # a bug whose message would name a barcode


def test_a_bug_prints_one_line_and_logs_where_without_values(instance: Path) -> None:
    err = io.StringIO()
    ctx = Context(config_path=instance, environ={}, stderr=err)
    args = argparse.Namespace(command="patron", action="show", func=_boom)
    try:
        _boom(ctx, args)
    except KeyError as exc:
        code = exit_code(ctx, args, exc)
    assert code == EXIT_INTERNAL
    log = instance.parent / ERROR_LOG_NAME
    assert err.getvalue() == (
        f"reticent: internal error (KeyError); details in {log}. Please report it.\n"
    )
    details = log.read_text()
    assert "reticent patron show" in details and "builtins.KeyError" in details
    assert "test_cli_errors.py" in details and "_boom" in details
    assert "20000001" not in details.replace('barcodes["20000001"]', "")
    assert log.stat().st_mode & 0o777 == 0o600
