"""Running the `reticent` command line in-process against a real instance, for tests."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from config.cli import main
from config.cli._context import Context
from tests.conftest import NOW


def run(
    config: Path | None, *argv: str, stdin: str = "", now: dt.datetime = NOW
) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of one command."""
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(
        config_path=config,
        environ={},
        stdout=out,
        stderr=err,
        stdin=io.StringIO(stdin),
        clock=lambda: now,
    )
    code = main(list(argv), ctx=ctx)
    return code, out.getvalue(), err.getvalue()


def set_option(config: Path, key: str, value: str) -> None:
    """Change the first `key = ...` line of a configuration file."""
    text = config.read_text()
    text, count = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.MULTILINE)
    assert count == 1, key
    config.write_text(text)


def cheapen_argon2(config: Path) -> None:
    """Cheap hashing keeps the suite fast; the code path is the same."""
    for key, value in (("time_cost", "1"), ("memory_cost_kib", "8192"), ("parallelism", "1")):
        set_option(config, key, value)


def new_instance(tmp_path: Path) -> Path:
    """`reticent init` in a fresh folder, with cheap hashing; the configuration file's path."""
    data = tmp_path / "inst"
    code, _, err = run(None, "init", "--data-dir", str(data))
    assert code == 0, err
    config = data / "reticent.toml"
    cheapen_argon2(config)
    return config


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
