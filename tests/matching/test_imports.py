"""matching/ imports without a circle: neither at module level nor inside functions (the
old ``services`` ↔ ``review`` circle was hidden in function-level imports), and each
module of a run imports alone in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import podsight.matching

PACKAGE = Path(podsight.matching.__file__).parent
NAME = "podsight.matching"


def _imports(path: Path) -> set[str]:
    """The podsight.matching modules a module imports, anywhere in it."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == NAME:
                out |= {f"{NAME}.{alias.name}" for alias in node.names}
            elif node.module.startswith(NAME + "."):
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith(NAME + ".")}
    return out


def test_no_module_of_matching_imports_itself_back():
    graph = {f"{NAME}.{p.stem}": _imports(p) for p in PACKAGE.glob("*.py")}
    graph.pop(f"{NAME}.__init__")
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            pytest.fail("import circle: " + " → ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for other in sorted(graph.get(module, ())):
            visit(other, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


@pytest.mark.parametrize("module", ["writes", "review", "snapshot", "run"])
def test_each_module_of_a_run_imports_alone(module: str):
    code = f"import django; django.setup(); import {NAME}.{module}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
