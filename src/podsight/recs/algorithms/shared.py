"""What the models share: the n best of a score vector, the items no model may propose
because they were published after the data's ``now``, stacking histories into a matrix,
BLAS on one thread, and how a model keeps itself in its directory: ``params.json`` (its
parameters, and what it names) beside numpy arrays, never a pickle of a library object (a
saved model must load under another version).

Two ways to keep a model: :func:`write_params` / :func:`read_params` (the JSON only; the
model saves its arrays as it likes) and :func:`write_model` / :func:`read_model` (the JSON
with the model's name and the file's version, plus ``arrays.npz``, checked when read).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg  # noqa: F401 - loaded before the controller looks for BLAS libraries
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from podsight.errors import InputError
from podsight.recs.core import Dataset, History

__all__ = [
    "ModelFileError",
    "history_matrix",
    "one_blas_thread",
    "read_model",
    "read_params",
    "top_n",
    "unreleased",
    "write_model",
    "write_params",
]

PARAMS_FILE = "params.json"
ARRAYS_FILE = "arrays.npz"
FORMAT = 1


class ModelFileError(InputError):
    """A model directory cannot be read as the model it should hold."""


# -- ranking -----------------------------------------------------------------------------------


def top_n(
    scores: np.ndarray, n: int, excluded: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best items of a dense score vector and their scores, best first, leaving
    out ``excluded`` and non-finite scores. Ties go to the lower index, so the order is
    reproducible. Scores keep their float precision (float32 at least)."""
    scores = np.array(scores, dtype=np.result_type(np.asarray(scores).dtype, np.float32))
    if excluded is not None and len(excluded):
        excluded = np.asarray(excluded, dtype=np.int64)
        scores[excluded[(excluded >= 0) & (excluded < len(scores))]] = -np.inf
    valid = np.flatnonzero(np.isfinite(scores))
    if n <= 0 or not len(valid):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=scores.dtype)
    if len(valid) > n:
        # Everything strictly above the n-th best value, then the ties at it by index.
        kth = np.partition(scores[valid], len(valid) - n)[len(valid) - n]
        above = valid[scores[valid] > kth]
        ties = valid[scores[valid] == kth][: n - len(above)]
        valid = np.concatenate([above, ties])
    order = np.lexsort((valid, -scores[valid]))
    chosen = valid[order][:n]
    return chosen.astype(np.int64), scores[chosen]


def unreleased(data: Dataset) -> np.ndarray:
    """Per item, True when it was published after the data's ``now``. In a split by time
    such an episode did not exist yet; in a catalog it is one scheduled or dated ahead by
    its feed. No model proposes it (until a model fitted on later data). All False when
    the publication times or ``now`` are unknown."""
    n_items = len(data.items)
    if data.item_published is None or not data.now:
        return np.zeros(n_items, dtype=bool)
    published = np.asarray(data.item_published, dtype=np.float64)
    return np.nan_to_num(published, nan=-np.inf) > data.now


def history_matrix(histories: Sequence[History], n_items: int) -> sp.csr_matrix:
    """The histories' positive interactions as a len(histories) × n_items matrix."""
    if not histories:
        return sp.csr_matrix((0, n_items), dtype=np.float32)
    return sp.vstack([h.row(n_items) for h in histories], format="csr", dtype=np.float32)


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[Any]:
    """BLAS on one thread for the block. Small products (one user's fold-in) spend most of
    their time waking OpenBLAS' threads: measured 0.16 s against 0.8 ms per BPR fold-in on
    2 busy cores; and implicit warns that a BLAS thread pool slows ALS fitting many times.
    The controller is built once (threadpool_limits() looks the libraries up each time,
    ~1 ms)."""
    return _controller().limit(limits=1, user_api="blas")


# -- storage -----------------------------------------------------------------------------------


def write_params(directory: Path, params: dict[str, Any], **extra: Any) -> None:
    """``params.json``: ``{"params": params, **extra}``."""
    meta = {"params": params, **extra}
    (Path(directory) / PARAMS_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True), "utf-8")


def read_params(directory: Path) -> dict[str, Any]:
    """What :func:`write_params` wrote (``["params"]`` and the extras)."""
    return json.loads((Path(directory) / PARAMS_FILE).read_text("utf-8"))


def write_model(directory: Path, name: str, params: dict[str, Any], **arrays: np.ndarray) -> None:
    """``params.json`` naming the model ``name`` and the format, and ``arrays.npz``."""
    write_params(directory, params, model=name, format=FORMAT)
    np.savez(Path(directory) / ARRAYS_FILE, **arrays)


def read_model(directory: Path, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The parameters and arrays :func:`write_model` wrote for model ``name``."""
    directory = Path(directory)
    try:
        meta = read_params(directory)
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as stored:
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
