"""Versioned model directories: ``$PODSIGHT_HOME/models/<version>/``.

A version holds the fitted hybrid (each candidate model in its own folder, the blend
weights, the catalog facts it was fitted with: :meth:`Hybrid.save`) under ``model/``, and
``manifest.json``: what it is (models and their parameters, blend weights), what it was
fitted on (the engagement table's Delta version and the data's counts) and how it
measured offline (the blend's validation split).

A version is written into a temporary folder beside the others and renamed into place
only when complete, so a reader never sees half a model (a crash leaves a ``.tmp-*``
folder that the next write clears). A loaded version is kept per process
(:func:`load_hybrid`): a server loads each version once, however many requests use it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podsight import conf
from podsight.errors import StorageError

if TYPE_CHECKING:
    from podsight.recs.blend import Hybrid

__all__ = [
    "MANIFEST",
    "BundleMissing",
    "Manifest",
    "bundle_path",
    "clear_loaded",
    "forget_version",
    "load_hybrid",
    "models_root",
    "new_version",
    "read_manifest",
    "write_bundle",
]

MANIFEST = "manifest.json"
MODEL_DIR = "model"
FORMAT = 1


class BundleMissing(StorageError):
    """A version's directory (or its manifest) is not there, or its files cannot be read:
    the server's state is broken, not the request (HTTP 503), so the message says to
    train again or roll back."""


_REPAIR = "train again with `podsight recs train` or roll back with `podsight recs rollback`"


@dataclass
class Manifest:
    """What ``manifest.json`` says of a version."""

    version: str
    created_at: str  # ISO 8601, UTC
    models: dict[str, dict[str, Any]]  # name -> parameters, as fitted
    weights: dict[str, float]  # the blend's, fitted on the validation split
    data_version: int | None  # engagement_daily's Delta version
    data: dict[str, Any]  # users, items, interactions, shows; the data's "now"
    metrics: dict[str, Any]  # offline, on the validation split ({"hybrid": {...}, model: {...}})
    blend: dict[str, Any] = field(default_factory=dict)  # show cap, diversity, candidates…
    format: int = FORMAT

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def models_root() -> Path:
    return conf.podsight_home() / "models"


def bundle_path(version: str) -> Path:
    return models_root() / version


def new_version(now: datetime | None = None) -> str:
    """Sortable by time, unique even for two trainings in the same second."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def write_bundle(hybrid: Hybrid, manifest: Manifest) -> Path:
    """Save ``hybrid`` and ``manifest`` as version ``manifest.version``; its directory."""
    root = models_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / manifest.version
    if final.exists():
        raise StorageError(f"model version {manifest.version} exists already in {root}")
    for stale in root.glob(".tmp-*"):
        # A crashed write's leftovers (ours are renamed away before this returns); one
        # being written right now by another process is younger than an hour.
        try:
            if datetime.now(UTC).timestamp() - stale.stat().st_mtime > 3600:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    temp = root / f".tmp-{manifest.version}-{os.getpid()}"
    try:
        (temp / MODEL_DIR).mkdir(parents=True)
        hybrid.save(temp / MODEL_DIR)
        (temp / MANIFEST).write_text(
            json.dumps(manifest.as_dict(), indent=2, sort_keys=True, default=_plain), "utf-8"
        )
        os.replace(temp, final)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise StorageError(
            f"cannot write model version {manifest.version} in {root}: {exc}"
        ) from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return final


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_manifest(version: str, path: Path | None = None) -> Manifest:
    where = (path or bundle_path(version)) / MANIFEST
    try:
        raw = json.loads(where.read_text("utf-8"))
    except FileNotFoundError:
        raise BundleMissing(
            f"model version {version} has no files at {where.parent}: it was deleted or "
            "PODSIGHT_HOME changed; train again with `podsight recs train`"
        ) from None
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read {where}: {exc}") from exc
    known = set(Manifest.__dataclass_fields__)
    try:
        return Manifest(**{k: v for k, v in raw.items() if k in known})
    except (TypeError, AttributeError) as exc:  # {} or a list: not a manifest we wrote
        raise BundleMissing(
            f"model version {version}: {where} is damaged ({exc}); {_REPAIR}"
        ) from exc


_loaded: dict[str, Hybrid] = {}
_loading = threading.Lock()


def load_hybrid(version: str, path: Path | None = None) -> Hybrid:
    """Version ``version``'s hybrid, loaded once per process."""
    found = _loaded.get(version)
    if found is not None:
        return found
    with _loading:  # one thread loads; the others wait for it rather than load it again
        found = _loaded.get(version)
        if found is None:
            from podsight.recs.blend import Hybrid

            directory = (path or bundle_path(version)) / MODEL_DIR
            if not directory.is_dir():
                raise BundleMissing(
                    f"model version {version} has no files at {directory}: it was deleted "
                    "or PODSIGHT_HOME changed; train again with `podsight recs train`"
                )
            try:
                found = Hybrid.load(directory)
            except StorageError:
                raise
            except Exception as exc:
                # Whatever a damaged file raises (KeyError, a truncated npz's BadZipFile,
                # a model's own file error): the files are broken, not the request.
                raise BundleMissing(
                    f"model version {version} at {directory} cannot be loaded "
                    f"({type(exc).__name__}: {exc}); {_REPAIR}"
                ) from exc
            _loaded[version] = found
    return found


def forget_version(version: str) -> None:
    """Drop one loaded version (it no longer serves)."""
    with _loading:
        _loaded.pop(version, None)


def clear_loaded() -> None:
    """Forget every loaded version (tests; a process whose PODSIGHT_HOME changed)."""
    with _loading:
        _loaded.clear()
