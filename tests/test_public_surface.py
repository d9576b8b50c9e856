"""podsight's public surface is declared and the tests keep to it.

Every module declares ``__all__`` (as httpx does), every declared name exists, and tests,
benchmarks and scripts use only declared names: a private name reached from outside its
module is a seam that can move without notice.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "podsight"


def _modules() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


MODULES = _modules()
# Django reads the settings module by name: its upper-case names are its surface.
SETTINGS = "podsight.settings"


def _declared(module: str) -> list[str] | None:
    path = SRC.parent / Path(*module.split("."))
    file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(file.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                return list(ast.literal_eval(node.value))
    return None


def test_every_module_declares_its_public_names():
    missing = [m for m in MODULES if m != SETTINGS and _declared(m) is None]
    assert not missing, f"modules without __all__: {missing}"


@pytest.mark.parametrize("module", MODULES)
def test_declared_names_exist(module):
    declared = _declared(module) or []
    imported = importlib.import_module(module)
    absent = [n for n in declared if not hasattr(imported, n)]
    assert not absent, f"{module}.__all__ names what it lacks: {absent}"
    assert len(declared) == len(set(declared)), f"{module}.__all__ names a name twice"


def _public(module: str, name: str) -> bool:
    """Declared by ``module``, or a submodule of it."""
    if module == SETTINGS:
        return name.isupper()
    return name in (_declared(module) or ()) or f"{module}.{name}" in MODULES


def _undeclared_uses(path: Path) -> list[str]:
    """``from podsight.x import y`` and ``x.y`` (``x`` a podsight module bound in the file)
    where ``y`` is not among ``x``'s declared names."""
    tree = ast.parse(path.read_text())
    bound: dict[str, str] = {}  # local name → the podsight module it is
    found = []
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("podsight"):
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                elif alias.name != "*" and not _public(node.module, alias.name):
                    found.append(f"{where}:{node.lineno} from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    bound[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and not node.attr.startswith("__")
            and not _public(bound[node.value.id], node.attr)
        ):
            found.append(f"{where}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_tests_and_benchmarks_use_public_names_only():
    files = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("scripts/*.py")]
    uses = [use for f in files for use in _undeclared_uses(f)]
    assert not uses, "undeclared names used from outside their module:\n" + "\n".join(uses)
