"""The UI import contract catches a direct import of the database layer, not an indirect one."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _tui_contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["source_modules"] == ["tui"]]
    return dict(contract)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value) + '"'


def _project(tmp_path: Path, desk_source: str) -> Path:
    """A miniature tree with the real package names and the project's own tui contract."""
    files = {
        "core/__init__.py": "",
        "core/model/__init__.py": "",
        "core/store/__init__.py": "",
        "core/store/uow.py": "import sqlalchemy\nfrom core.model import *\n",
        "core/services/__init__.py": "",
        "core/services/circulation.py": "from core.store import uow\n",
        "tui/__init__.py": "",
        "tui/desk_under_test.py": desk_source,
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    contract = _tui_contract()
    lines = [
        "[tool.importlinter]",
        'root_packages = ["core", "tui"]',
        "include_external_packages = true",
        "[[tool.importlinter.contracts]]",
        *(f"{key} = {_toml_value(value)}" for key, value in contract.items()),
    ]
    config = tmp_path / "contract.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def _lint(tmp_path: Path, desk_source: str) -> subprocess.CompletedProcess[str]:
    config = _project(tmp_path, desk_source)
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_contract_allows_indirect_imports_only() -> None:
    contract = _tui_contract()
    assert contract["type"] == "forbidden"
    assert contract["allow_indirect_imports"] is True
    assert set(contract["forbidden_modules"]) >= {"sqlalchemy", "core.store", "core.model"}


@pytest.mark.parametrize(
    "source",
    [
        "from core.store.uow import *\n",
        "import core.model\n",
        "import sqlalchemy\n",
    ],
)
def test_a_direct_import_is_caught(tmp_path: Path, source: str) -> None:
    result = _lint(tmp_path, source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert "tui.desk_under_test" in result.stdout


def test_calling_a_service_is_allowed(tmp_path: Path) -> None:
    # core.services imports core.store, so the UI reaches it indirectly: that is the design.
    result = _lint(tmp_path, "from core.services import circulation\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout
