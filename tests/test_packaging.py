"""Packaging metadata that setuptools reads without deprecation warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_license_is_an_spdx_expression_for_a_setuptools_that_reads_it() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["license"] == "AGPL-3.0-or-later"  # a table is deprecated
    [setuptools] = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    found = re.fullmatch(r"setuptools>=(\d+)", setuptools)
    assert found is not None and int(found.group(1)) >= 77  # SPDX strings since 77
    # A flat layout declared as such: the editable install is a plain .pth, with no warning.
    assert data["tool"]["setuptools"]["package-dir"] == {"": "."}
