"""The CLI only calls steps and renders their reports: no ORM query, no domain module.

Grep-level on purpose: it reads the source of ``src/podsight/cli/``, so a shortcut
cannot hide behind an import done inside a function.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "src" / "podsight" / "cli"
MODULES = sorted(CLI.glob("*.py"))

# What a command module may import from podsight: the steps, the errors, the progress
# view, its siblings; and the entry's infrastructure (settings parsing, the log file's
# place, bootstrap's start), which is neither a query nor domain logic. Report types may
# be named for annotations under `if TYPE_CHECKING:`.
ALLOWED = (
    "podsight.pipeline",
    "podsight.errors",
    "podsight.progress",
    "podsight.cli",
    "podsight.conf",
    "podsight.logs",
    "podsight.bootstrap",
)
FORBIDDEN = [
    (r"\.objects\b", "an ORM query"),
    (r"\bdjango\b", "Django"),
    (r"\btransaction\b", "a transaction"),
    (r"\bselect_related\b|\bfilter\(|\bqueryset\b", "a queryset"),
    (r"\bSTEPS\[", "a step looked up by hand (use run_step)"),
]
# The entry (main.py) reads the log level to decide on printing a bug's traceback.
COMMANDS_ONLY = [
    (r"\bos\.environ\b", "a setting read in the CLI (steps read their settings)"),
]


def _type_only(tree: ast.AST) -> set[ast.AST]:
    """Nodes under ``if TYPE_CHECKING:``: report types named in annotations, never run."""
    inside: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.body:
                inside.update(ast.walk(child))
    return inside


def _imports(tree: ast.AST) -> list[str]:
    names = []
    skip = _type_only(tree)
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "podsight":
            names += [f"podsight.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_cli_imports_no_domain_module(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    wrong = [
        name
        for name in _imports(tree)
        if name.startswith("podsight") and not name.startswith(ALLOWED)
    ]
    assert not wrong, f"{path.name} imports {wrong}: call a step (podsight.pipeline) instead"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_cli_has_no_query_and_catches_no_builtin(path: Path) -> None:
    # Docstrings and comments may name these things; code may not.
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(
            node
        ):
            node.body = node.body[1:]
    code = ast.unparse(tree)
    for pattern, what in FORBIDDEN + (COMMANDS_ONLY if path.name != "main.py" else []):
        assert not re.search(pattern, code), f"{path.name} has {what} ({pattern})"
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            caught = ast.unparse(node.type)
            # Errors reach the user through the entry's one translation (cli/main.py);
            # a command catches only podsight's own (to add the option's name) or the
            # process-level ones (Ctrl-C, OS errors of a path it prints).
            assert not re.search(r"\b(ValueError|RuntimeError|LookupError|KeyError|TypeError)\b",
                                 caught), f"{path.name} catches {caught}"  # fmt: skip


def test_the_demo_port_default_is_the_demo_module_s() -> None:
    from podsight.cli.demo import DEMO_API_PORT
    from podsight.demo.load import DEMO_API_PORT as DOMAIN_PORT

    assert DEMO_API_PORT == DOMAIN_PORT
