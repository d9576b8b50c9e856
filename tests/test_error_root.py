"""One error root: every public exception podsight raises on purpose is a PodsightError,
on a documented branch (see :mod:`podsight.errors`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from podsight import errors

SRC = Path(__file__).resolve().parent.parent / "src" / "podsight"
BUILTIN_ROOTS = {"Exception", "BaseException", "ValueError", "RuntimeError", "LookupError",
                 "KeyError", "TypeError", "OSError"}  # fmt: skip
# gPodder's Refused is re-rooted where the gPodder app moves (another branch of issue 16).
NOT_YET = {"Refused", "PodsightError"}  # PodsightError: the root itself


def _exception_classes():
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
                yield path.relative_to(SRC), node.name, bases


def test_no_public_exception_is_rooted_in_a_builtin_alone() -> None:
    roots = [
        f"{path}: {name}({', '.join(sorted(bases))})"
        for path, name, bases in _exception_classes()
        if bases and bases <= BUILTIN_ROOTS and not name.startswith("_") and name not in NOT_YET
    ]
    assert not roots, f"derive these from podsight.errors.PodsightError (a branch): {roots}"


def test_the_module_docstring_draws_every_branch() -> None:
    for name in errors.__all__:
        assert name in errors.__doc__, name


@pytest.mark.parametrize(
    ("branch", "exit_code", "status"),
    [
        (errors.PodsightError, 1, 500),
        (errors.UsageError, 2, 400),
        (errors.ConfigurationError, 2, 503),
        (errors.InputError, 2, 400),
        (errors.NotFoundError, 1, 404),
        (errors.SourceError, 1, 502),
        (errors.StorageError, 1, 503),
    ],
)
def test_each_branch_has_its_exit_code_and_http_status(branch, exit_code, status) -> None:
    assert (branch.exit_code, branch.http_status) == (exit_code, status)


def test_leaves_keep_their_builtin_contracts_and_their_message() -> None:
    from podsight.accounts.services import AccountError, NoSuchToken
    from podsight.conf import TimespanError, parse_timespan
    from podsight.events.consumer import ConsumerBusy

    assert issubclass(AccountError, ValueError) and issubclass(NoSuchToken, LookupError)
    with pytest.raises(ValueError):  # settings parse spans beside numbers
        parse_timespan("soon")
    assert issubclass(TimespanError, errors.InputError)
    # It was a field-less dataclass by mistake: raising it with its message was a TypeError.
    assert str(ConsumerBusy("another consumer runs")) == "another consumer runs"
    assert issubclass(ConsumerBusy, errors.StorageError)
