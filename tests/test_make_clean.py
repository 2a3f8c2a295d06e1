"""`make clean` removes every cache the tools create and never the instance in ./var."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CREATED = (
    ".venv/bin",
    ".mypy_cache/3.11",
    ".pytest_cache/v",
    ".ruff_cache/0.5",
    ".hypothesis/examples",
    ".import_linter_cache",
    "reticent.egg-info",
    "build/lib",
    "core/__pycache__",
    "core/store/__pycache__",
)


def test_make_clean_removes_caches_and_keeps_the_instance(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for folder in CREATED:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "x").write_text("cache")
    (tmp_path / "core" / "keep.py").write_text("")
    instance = tmp_path / "var"
    (instance / "__pycache__").mkdir(parents=True)
    for name in ("reticent.db", "reticent.key", "reticent.toml"):
        (instance / name).write_text("data")

    done = subprocess.run(
        ["make", "-C", str(tmp_path), "clean"], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Makefile", "core", "var"]
    assert sorted(p.name for p in (tmp_path / "core").iterdir()) == ["keep.py", "store"]
    assert list((tmp_path / "core" / "store").iterdir()) == []
    assert sorted(p.name for p in instance.iterdir()) == [
        "__pycache__",
        "reticent.db",
        "reticent.key",
        "reticent.toml",
    ]
    assert "kept var/" in done.stdout
