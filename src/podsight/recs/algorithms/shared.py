"""What the numpy models share: the n best of a score vector, and how a model keeps
itself in its directory: ``params.json`` (its parameters, and what it names: the model and
the file's version) and ``arrays.npz`` (its numpy state), so that a bundle reads alike
whichever model wrote it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from podsight.errors import InputError

__all__ = ["ModelFileError", "read_model", "top_n", "write_model"]

FORMAT = 1


class ModelFileError(InputError):
    """A model directory cannot be read as the model it should hold."""


def write_model(directory: Path, name: str, params: dict[str, Any], **arrays: np.ndarray) -> None:
    directory = Path(directory)
    meta = {"model": name, "format": FORMAT, "params": params}
    (directory / "params.json").write_text(json.dumps(meta, indent=1, sort_keys=True), "utf-8")
    np.savez(directory / "arrays.npz", **arrays)


def read_model(directory: Path, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The parameters and arrays :func:`write_model` wrote for model ``name``."""
    directory = Path(directory)
    try:
        meta = json.loads((directory / "params.json").read_text("utf-8"))
        with np.load(directory / "arrays.npz", allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError) as exc:
        raise ModelFileError(
            f"{directory} does not hold a readable {name!r} model ({exc}); train the model again"
        ) from None
    if meta.get("model") != name or meta.get("format") != FORMAT:
        raise ModelFileError(
            f"{directory} holds a {meta.get('model')!r} model (format {meta.get('format')}), "
            f"not {name!r} (format {FORMAT}); train the model again"
        )
    return dict(meta["params"]), arrays


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest finite scores, best first (ties: lower index first)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if not len(finite) or n <= 0:
        return np.zeros(0, dtype=np.int64)
    if len(finite) > n:
        # Everything at least as good as the n-th best, so that ties go to the lower index.
        nth = np.partition(-scores[finite], n - 1)[n - 1]
        finite = finite[-scores[finite] <= nth]
    order = np.lexsort((finite, -scores[finite]))
    return finite[order][:n]
