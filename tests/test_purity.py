"""Pure packages (docs/architecture.md, rule 2): standard library only, no clock, no I/O."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE = ("sip2/codec", "core/policy", "devices/protocols")
FORBIDDEN_CALLS = {"now", "utcnow", "today", "monotonic", "perf_counter", "open", "time_ns"}
FORBIDDEN_MODULES = {"logging", "socket", "subprocess", "os", "io", "pathlib", "random"}


def _modules() -> list[Path]:
    return sorted(p for pkg in PURE for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = path.relative_to(ROOT).parts[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for name in names:
                if isinstance(node, ast.ImportFrom) and node.level > 0:
                    continue
                top = name.split(".")[0]
                if top in (package, "__future__"):
                    continue
                assert top in sys.stdlib_module_names, f"{path}: imports {name}"
                assert top not in FORBIDDEN_MODULES, f"{path}: imports {name} (I/O or side effects)"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            assert called not in FORBIDDEN_CALLS, f"{path}:{node.lineno}: calls {called}()"
            clock = ast.unparse(node.func) == "time.time"
            assert not clock, f"{path}:{node.lineno}: reads the clock"


def test_there_is_something_to_check() -> None:
    assert len(_modules()) > 10
