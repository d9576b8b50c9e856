"""A model's life: trained, gated, promoted to serving, challenged, retired, rolled back.

``train`` reads the lake into a dataset (:func:`podsight.recs.data.build_dataset`), fits a
:class:`~podsight.recs.blend.Hybrid` (its models on a training split, the blend weights
on a validation split, then the models again on everything), writes the version
(:mod:`podsight.recs.bundle`) and records it as a :class:`ModelVersion`, then puts it
through the promotion gate.

**The gate.** A new version replaces the serving one only if its validation NDCG@10 is
not lower than the serving version's by more than ``PODSIGHT_RECS_PROMOTE_TOLERANCE``
(absolute, default 0.01); otherwise it is ``rejected`` with a note saying by how much.
``force`` promotes anyway. The first version promotes whenever it was trained on any
data. The two figures come from different data (each version's own validation split of
the lake as it was): a drop can be the data's as much as the model's, which is why the
tolerance exists and why ``force`` does. ``train(promote=False)`` (the pipeline's
``recs.train``) only saves the candidate: ``promote("latest")`` gates the newest one.

**Training only on new data.** Each version records the fingerprint of what it was
fitted on (the lake's ``engagement_daily`` and ``events`` versions, the catalog facts and
episode vectors the dataset carries, the models and seed asked for);
``train(if_changed=True)`` fits nothing when the newest version's fingerprint is the
same. :func:`refresh` recomputes the cached lists incrementally: only the users whose
listening the lake wrote since the last precompute, and those without a list.

Promoting retires the serving version, ends any A/B test (its challenger was measured
against the old version) and precomputes every known user's list. :func:`rollback` brings
back the version that served before (the retired one promoted last) and sets the rolled
back one aside as a candidate (``promote`` can bring it back). :func:`start_ab` lets a
trained version serve a share of users beside the serving one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from podsight import conf, engines
from podsight.errors import InputError, NotFoundError, PodsightError, StorageError
from podsight.progress import SILENT, Progress
from podsight.recs import bundle, serving
from podsight.recs.models import ModelStatus, ModelVersion

__all__ = [
    "DEFAULT_MODELS",
    "GATE_METRIC",
    "LOCK_WAIT_S",
    "GateRefused",
    "LifecycleBusy",
    "LifecycleReport",
    "ModelInfo",
    "ModelList",
    "NoPrevious",
    "NoTrainingData",
    "RefreshReport",
    "TrainReport",
    "gate",
    "gate_value",
    "list_models",
    "promote",
    "promote_tolerance",
    "refresh",
    "rollback",
    "start_ab",
    "stop_ab",
    "train",
]

GATE_METRIC = "ndcg@10"
DEFAULT_TOLERANCE = 0.01
# The candidate sources blended by default (each left out when the data lacks what it
# needs: Recommender.supports).
DEFAULT_MODELS = ("als", "itemknn", "content", "fresh", "trending", "popular")


class NoTrainingData(PodsightError):
    """The lake holds no listening to train on."""


def promote_tolerance() -> float:
    value = conf.env_float("PODSIGHT_RECS_PROMOTE_TOLERANCE", DEFAULT_TOLERANCE)
    if not 0 <= value <= 1:
        raise conf.SettingError(
            f"PODSIGHT_RECS_PROMOTE_TOLERANCE must be from 0 to 1 (NDCG@10 points), not {value}"
        )
    return value


@dataclass
class TrainReport:
    version: str
    status: str  # serving, rejected, candidate; skipped (if_changed: no new data)
    path: str
    models: list[str]  # blended (those the data supports)
    weights: dict[str, float]
    metrics: dict[str, Any]  # validation: {"hybrid": {...}, model: {...}}
    data: dict[str, Any]
    data_version: int | None
    note: str
    previous: str | None  # the version serving before
    cached: int  # users whose lists were precomputed
    seconds: float


@dataclass
class LifecycleReport:
    action: str  # promote, rollback, ab-start, ab-stop
    version: str  # "" when promote("latest") found no version
    status: str  # the version's status after the action ("none": no version)
    previous: str | None
    note: str
    cached: int = 0


@dataclass
class ModelInfo:
    version: str
    status: str
    share: float
    created_at: datetime
    promoted_at: datetime | None
    retired_at: datetime | None
    params: dict[str, Any]
    data_version: int | None
    data: dict[str, Any]
    metrics: dict[str, Any]
    online: dict[str, Any]
    note: str
    path: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "share": self.share,
            "created_at": self.created_at.isoformat(),
            "promoted_at": self.promoted_at.isoformat() if self.promoted_at else None,
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "params": self.params,
            "data_version": self.data_version,
            "data": self.data,
            "metrics": self.metrics,
            "online": self.online,
            "note": self.note,
        }


@dataclass
class ModelList:
    models: list[ModelInfo] = field(default_factory=list)
    tolerance: float = DEFAULT_TOLERANCE


# --------------------------------------------------------------------------- training


def _validation_metrics(fit: Any) -> dict[str, Any]:
    """The BlendFit's validation metrics as plain numbers: ``{"hybrid": {...}, model: …}``."""
    metrics = getattr(fit, "metrics", None)
    if metrics is None:
        metrics = {}
    if hasattr(metrics, "as_dict"):
        metrics = metrics.as_dict()
    return _plain(metrics)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()  # numpy scalars
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return _plain(asdict(value))
    return value


def gate_value(metrics: dict[str, Any]) -> float | None:
    """The figure the gate compares: the blend's validation NDCG@10."""
    value = (metrics.get("hybrid") or {}).get(GATE_METRIC)
    return None if value is None else float(value)


def gate(candidate: dict[str, Any], serving: dict[str, Any] | None,
         tolerance: float) -> tuple[bool, str]:  # fmt: skip
    """(passes, why) of a candidate's metrics against the serving version's."""
    new = gate_value(candidate)
    if serving is None:
        return True, "first version: nothing serves yet"
    old = gate_value(serving)
    if old is None:
        return True, "the serving version has no validation NDCG@10 to compare"
    if new is None:
        return False, "no validation NDCG@10: the data left no validation split to measure"
    if new >= old - tolerance:
        return True, (
            f"validation NDCG@10 {new:.4f} vs {old:.4f} serving (tolerance {tolerance:g})"
        )
    return False, (
        f"validation NDCG@10 {new:.4f} is {old - new:.4f} below the serving version's "
        f"{old:.4f}, more than the tolerance {tolerance:g} (PODSIGHT_RECS_PROMOTE_TOLERANCE); "
        "`podsight recs promote VERSION --force` promotes it anyway"
    )


def train(models: Sequence[str] | None = None, *, force: bool = False, seed: int = 0,
          promote: bool = True, if_changed: bool = False, engine: str | None = None,
          progress: Progress = SILENT) -> TrainReport:  # fmt: skip
    """Fit a hybrid on the lake's listening, save it as a new version, gate and promote
    (``promote``; otherwise it stays a candidate and no list is precomputed).

    ``if_changed``: fit nothing (status ``skipped``) when the newest version was fitted on
    the same inputs (:func:`fingerprint`), or when the lake holds no listening yet.
    ``engine``: where models that can run on Spark fit (ALS's factors; default
    ``PODSIGHT_ENGINE``); the rest of the hybrid is the same either way."""
    from podsight.recs.blend import Hybrid
    from podsight.recs.core import ALGORITHMS, algorithm
    from podsight.recs.data import build_dataset

    started = time.monotonic()
    engine = engines.current(engine)
    names = list(dict.fromkeys(models or DEFAULT_MODELS))
    unknown = [name for name in names if name not in ALGORITHMS]
    if unknown:  # before reading the lake
        algorithm(unknown[0])  # the registry's error, which lists the names
    tolerance = promote_tolerance()
    progress.note("reading the listening data from the lake")
    data = build_dataset(progress=progress)
    inputs = fingerprint(data, names, seed)
    if if_changed:
        skipped = _unchanged(data, inputs, started)
        if skipped is not None:
            progress.note(skipped.note)
            return skipped
    if data.n_users == 0 or data.matrix.nnz == 0:
        raise NoTrainingData(
            "the lake holds no listening to train on: send listening events to "
            "/api/events (or `podsight simulate listeners`) and run `podsight events consume`"
        )
    classes = {name: algorithm(name) for name in names}
    usable = {
        # A model with an `engine` parameter (ALS) fits where the run says.
        name: cls(engine=engine) if "engine" in getattr(cls, "defaults", {}) else cls()
        for name, cls in classes.items()
        if cls.supports(data)
    }
    left_out = [name for name in names if name not in usable]
    if not usable:
        raise InputError(
            f"none of the models {', '.join(names)} can be fitted on this data "
            f"(they need catalog facts it lacks)"
        )
    if left_out:
        progress.note(f"left out (the data lacks what they need): {', '.join(left_out)}")
    hybrid = Hybrid(usable)
    fit = hybrid.fit(data, seed=seed, progress=progress)
    metrics = _validation_metrics(fit)
    # How the validation was made (time or random split, users, held-out items) and the
    # blend's own parameters: what the metrics mean.
    blend = {
        **_plain(dict(getattr(hybrid, "params", {}) or {})),
        **{
            name: _plain(getattr(fit, name))
            for name in ("split", "validation_users", "held_out", "skipped", "seconds")
            if hasattr(fit, name)
        },
    }
    weights = {str(k): float(v) for k, v in dict(getattr(fit, "weights", hybrid.weights)).items()}
    created = datetime.now(UTC)
    version = bundle.new_version(created)
    counts = {
        "users": data.n_users,
        "items": data.n_items,
        "interactions": int(data.matrix.nnz),
        "shows": len(data.shows),
        "as_of": datetime.fromtimestamp(data.now, UTC).isoformat() if data.now else None,
        "source": data.name or "lake",
        "fingerprint": inputs,
    }
    params = {
        "models": {name: _plain(dict(model.params)) for name, model in usable.items()},
        "weights": weights,
        "left_out": left_out,
        "seed": seed,
        "blend": blend,
    }
    manifest = bundle.Manifest(
        version=version,
        created_at=created.isoformat(),
        models=params["models"],
        weights=weights,
        data_version=data.data_version,
        data=counts,
        metrics=metrics,
        blend=blend,
    )
    with progress.task("saving the model") as task:
        path = bundle.write_bundle(hybrid, manifest)
        task.advance()
    # Checked before it is recorded: a model that fails its data-quality checks never
    # serves (QualityError; its files stay for a look).
    from podsight.pipeline.validate import check_model

    checked = check_model(path, data.items, metrics, source=data.name or "lake")
    row = ModelVersion.objects.create(
        version=version,
        created_at=created,
        status=ModelStatus.CANDIDATE,
        path=str(path),
        params=params,
        data_version=data.data_version,
        data=counts,
        metrics=metrics,
    )
    cached = 0
    with _changing():
        current = _serving()
        passes, why = gate(metrics, current.metrics if current else None, tolerance)
        if not promote:
            row.note = (
                f"saved as a candidate, not promoted (the gate would "
                f"{'pass' if passes else 'refuse'} it: {why})"
            )
            row.save(update_fields=["note"])
        elif passes or force:
            note = why if passes else f"forced past the gate: {why}"
            _promote(row, note, progress=progress)
        else:
            row.status = ModelStatus.REJECTED
            row.note = why
            row.save(update_fields=["status", "note"])
    if promote and (passes or force):
        cached = _precompute(progress)
    trained = TrainReport(
        version=version,
        status=row.status,
        path=str(path),
        models=list(usable),
        weights=weights,
        metrics=metrics,
        data=counts,
        data_version=data.data_version,
        note=row.note,
        previous=current.version if current else None,
        cached=cached,
        seconds=round(time.monotonic() - started, 2),
    )
    from podsight.lake.quality import attach

    return attach(trained, checked)


def _table_version(name: str) -> int | None:
    """A lake table's Delta version now (None: it does not exist yet)."""
    from podsight import lake

    with lake.io_lock:
        return lake.version(name)


def fingerprint(data: Any, models: Sequence[str], seed: int) -> str:
    """What a fit reads, hashed: the lake tables' versions (``engagement_daily`` as the
    dataset read it, ``events`` for the subscriptions), the catalog facts and episode
    vectors the dataset carries, the users and items, the models asked for, the seed and
    the half-life. Not the matrix values: they decay with the clock (``now``), which is
    not new data."""
    import numpy as np

    digest = hashlib.sha256()

    def add(label: str, value: Any) -> None:
        digest.update(label.encode())
        if value is None:
            digest.update(b"\x00none")
        elif isinstance(value, np.ndarray):
            digest.update(str(value.dtype).encode() + str(value.shape).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(json.dumps(_plain(value), sort_keys=True, default=str).encode())

    add("engagement_daily", data.data_version)
    add("events", _table_version("events") if data.data_version is not None else None)
    for name in ("users", "items", "shows", "show_titles", "item_titles", "item_language",
                 "item_topics", "item_show", "item_published", "item_available",
                 "item_vectors"):  # fmt: skip
        add(name, getattr(data, name, None))
    add("models", list(models))
    add("seed", seed)
    add("half_life", conf.env("PODSIGHT_RECS_HALF_LIFE", ""))
    return digest.hexdigest()[:32]


def _unchanged(data: Any, inputs: str, started: float) -> TrainReport | None:
    """The ``skipped`` report when there is nothing new to fit on, else None."""
    newest = ModelVersion.objects.order_by("-created_at", "-id").first()
    if data.n_users == 0 or data.matrix.nnz == 0:
        note = (
            "the lake holds no listening to train on yet: nothing trained (events arrive "
            "through /api/events and `podsight events consume`)"
        )
    elif newest is not None and (newest.data or {}).get("fingerprint") == inputs:
        note = (
            f"no new data since version {newest.version} (engagement_daily version "
            f"{data.data_version}, the same events and catalog): nothing trained"
        )
    else:
        return None
    return TrainReport(
        version=newest.version if newest else "",
        status="skipped",
        path=newest.path if newest else "",
        models=list((newest.params or {}).get("models", {})) if newest else [],
        weights=dict((newest.params or {}).get("weights", {})) if newest else {},
        metrics=dict(newest.metrics or {}) if newest else {},
        data=dict(newest.data or {}) if newest else {},
        data_version=data.data_version,
        note=note,
        previous=None,
        cached=0,
        seconds=round(time.monotonic() - started, 2),
    )


# --------------------------------------------------------------------------- promotion


def _serving() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelStatus.SERVING).first()


def _get(version: str) -> ModelVersion:
    row = ModelVersion.objects.filter(version=version).first()
    if row is None:
        known = list(ModelVersion.objects.values_list("version", flat=True)[:5])
        hint = f"; known: {', '.join(known)}" if known else "; none is trained yet"
        raise NotFoundError(f"no model version {version!r} (see `podsight recs models`){hint}")
    bundle.read_manifest(version, _path(row))  # its files must still be there
    return row


def _path(row: ModelVersion):
    from pathlib import Path

    return Path(row.path) if row.path else None


# How long a change of which version serves waits for another process's change.
LOCK_WAIT_S = 120.0


class LifecycleBusy(StorageError):
    """Another process is changing which model version serves."""


@contextmanager
def _changing() -> Iterator[None]:
    """Held while one process reads which version serves, decides (the gate) and writes
    the new state, so two promotions (train, promote, rollback, A/B) cannot both decide
    from the same state and leave two versions serving. A file lock beside the models
    (under PODSIGHT_HOME), as the directory index and the migrations take theirs; the
    lists are precomputed after it is released."""
    import portalocker

    root = bundle.models_root()
    root.mkdir(parents=True, exist_ok=True)
    try:
        lock = portalocker.Lock(str(root / ".lifecycle.lock"), timeout=LOCK_WAIT_S)
        lock.acquire()
    except portalocker.exceptions.LockException as exc:
        raise LifecycleBusy(
            f"another process has been changing the serving model version for "
            f"{LOCK_WAIT_S:.0f} s ({root / '.lifecycle.lock'}); try again when it ends"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _promote(row: ModelVersion, note: str, *, progress: Progress = SILENT) -> int:
    """Make ``row`` the serving version (under :func:`_changing`); users' lists
    precomputed afterwards by the caller (:func:`serving.precompute`)."""
    from django.db import transaction

    now = datetime.now(UTC)
    with transaction.atomic():
        ModelVersion.objects.filter(status=ModelStatus.SERVING).exclude(pk=row.pk).update(
            status=ModelStatus.RETIRED, retired_at=now
        )
        # A challenger was measured against the version that served: the test ends.
        ModelVersion.objects.filter(status=ModelStatus.CHALLENGER).exclude(pk=row.pk).update(
            status=ModelStatus.CANDIDATE, share=0.0, note="A/B test ended by a promotion"
        )
        row.status = ModelStatus.SERVING
        row.share = 0.0
        row.promoted_at = now
        row.retired_at = None
        row.note = note
        row.save(update_fields=["status", "share", "promoted_at", "retired_at", "note"])
    serving.forget_active()
    return 0


LATEST = "latest"


def promote(version: str, *, force: bool = False, progress: Progress = SILENT) -> LifecycleReport:
    """Make ``version`` the serving one, through the gate unless ``force``.

    ``"latest"``: the newest version trained, when it is a candidate; nothing to do (said
    in the note, not an error) when none is trained or it already serves or the gate
    judged it before; a candidate the gate refuses is marked ``rejected``, not raised."""
    if version == LATEST:
        return _promote_latest(force=force, progress=progress)
    with _changing():
        row = _get(version)
        current = _serving()
        if current is not None and current.pk == row.pk:
            return LifecycleReport("promote", version, row.status, version, "already serving")
        passes, why = gate(row.metrics, current.metrics if current else None, promote_tolerance())
        if not passes and not force:
            raise GateRefused(f"model {version} was not promoted: {why}")
        note = why if passes else f"forced past the gate: {why}"
        _promote(row, note, progress=progress)
    cached = _precompute(progress)
    previous = current.version if current else None
    return LifecycleReport("promote", version, row.status, previous, note, cached)


def _promote_latest(*, force: bool, progress: Progress) -> LifecycleReport:
    with _changing():
        newest = ModelVersion.objects.order_by("-created_at", "-id").first()
        if newest is None:
            return LifecycleReport(
                "promote", "", "none", None,
                "no model version is trained yet: nothing to promote (`podsight recs train`)",
            )  # fmt: skip
        current = _serving()
        previous = current.version if current else None
        if newest.status == ModelStatus.SERVING:
            return LifecycleReport(
                "promote", newest.version, newest.status, previous,
                "the newest version already serves: nothing to promote",
            )  # fmt: skip
        if newest.status != ModelStatus.CANDIDATE:
            return LifecycleReport(
                "promote", newest.version, newest.status, previous,
                f"the newest version is {newest.status}: nothing to promote "
                f"(`podsight recs promote {newest.version} --force` would)",
            )  # fmt: skip
        row = _get(newest.version)
        passes, why = gate(row.metrics, current.metrics if current else None, promote_tolerance())
        if not passes and not force:
            row.status = ModelStatus.REJECTED
            row.note = why
            row.save(update_fields=["status", "note"])
            return LifecycleReport("promote", row.version, row.status, previous, why)
        note = why if passes else f"forced past the gate: {why}"
        _promote(row, note, progress=progress)
    cached = _precompute(progress)
    return LifecycleReport("promote", row.version, row.status, previous, note, cached)


class GateRefused(PodsightError):
    """A promotion the gate refused (``--force`` overrides)."""

    http_status = 409
    code = "gate_refused"


def rollback(*, progress: Progress = SILENT) -> LifecycleReport:
    """Bring back the version that served before the serving one."""
    from django.db import transaction

    with _changing():
        current = _serving()
        if current is None:
            raise NoPrevious(
                "no model version serves: nothing to roll back (`podsight recs train`)"
            )
        previous = (
            ModelVersion.objects.filter(status=ModelStatus.RETIRED, promoted_at__isnull=False)
            .order_by("-promoted_at", "-id")
            .first()
        )
        if previous is None:
            raise NoPrevious(
                f"model {current.version} is the only version that has served: there is none "
                "to roll back to"
            )
        _get(previous.version)
        now = datetime.now(UTC)
        with transaction.atomic():
            current.status = ModelStatus.CANDIDATE
            current.retired_at = now
            current.note = (
                f"rolled back to {previous.version} at {now.isoformat(timespec='seconds')}; "
                "`podsight recs promote` brings it back"
            )
            current.save(update_fields=["status", "retired_at", "note"])
            ModelVersion.objects.filter(status=ModelStatus.CHALLENGER).update(
                status=ModelStatus.CANDIDATE, share=0.0, note="A/B test ended by a rollback"
            )
            previous.status = ModelStatus.SERVING
            previous.retired_at = None
            previous.note = f"serving again after rolling back {current.version}"
            previous.save(update_fields=["status", "retired_at", "note"])
        serving.forget_active()
    cached = _precompute(progress)
    return LifecycleReport(
        "rollback", previous.version, previous.status, current.version, previous.note, cached
    )


class NoPrevious(PodsightError):
    """Nothing to roll back to."""

    http_status = 409
    code = "no_previous"


def start_ab(version: str, share: float, *, progress: Progress = SILENT) -> LifecycleReport:
    """Let ``version`` serve ``share`` of users (by a stable hash of their id) beside the
    serving version."""
    if not 0 < share < 1:
        raise InputError(f"--share must be between 0 and 1 (exclusive), not {share}")
    with _changing():
        row = _get(version)
        current = _serving()
        if current is None:
            raise serving.NoModel(
                "no model version serves yet: promote one first (`podsight recs train`)"
            )
        if current.pk == row.pk:
            raise InputError(f"model {version} is the serving version: choose another to test")
        ModelVersion.objects.filter(status=ModelStatus.CHALLENGER).exclude(pk=row.pk).update(
            status=ModelStatus.CANDIDATE, share=0.0, note="A/B test replaced by another"
        )
        before = row.status
        row.status = ModelStatus.CHALLENGER
        row.share = share
        row.note = (
            f"A/B challenger for {share:.0%} of users against {current.version} (was {before})"
        )
        row.save(update_fields=["status", "share", "note"])
        serving.forget_active()
    cached = _precompute(progress)
    return LifecycleReport("ab-start", version, row.status, current.version, row.note, cached)


def stop_ab(*, progress: Progress = SILENT) -> LifecycleReport:
    """End the A/B test: the challenger goes back to being a candidate."""
    with _changing():
        row = ModelVersion.objects.filter(status=ModelStatus.CHALLENGER).first()
        if row is None:
            raise NotFoundError("no A/B test is running (`podsight recs models` lists versions)")
        row.status = ModelStatus.CANDIDATE
        row.share = 0.0
        row.note = f"A/B test stopped at {datetime.now(UTC).isoformat(timespec='seconds')}"
        row.save(update_fields=["status", "share", "note"])
        serving.forget_active()
    cached = _precompute(progress)
    current = _serving()
    return LifecycleReport(
        "ab-stop", row.version, row.status, current.version if current else None, row.note, cached
    )


def list_models(*, online: bool = True) -> ModelList:
    """Every version, newest first, with its online play-through rate when ``online``."""
    rates = serving.play_through() if online else {}
    models = [
        ModelInfo(
            version=row.version,
            status=row.status,
            share=row.share,
            created_at=row.created_at,
            promoted_at=row.promoted_at,
            retired_at=row.retired_at,
            params=row.params,
            data_version=row.data_version,
            data=row.data,
            metrics=row.metrics,
            online=rates.get(
                row.version, {"impressions": 0, "shown": 0, "played": 0, "rate": None}
            ),
            note=row.note,
            path=row.path,
        )
        for row in ModelVersion.objects.all()
    ]
    return ModelList(models, promote_tolerance())


# --------------------------------------------------------------------------- the lists

# What the last full or incremental precompute covered, beside the models: the active
# versions and the lake tables' versions it read.
_REFRESH_STATE = ".refresh.json"
_LISTENING_TABLES = ("events", "engagement_daily")


@dataclass
class RefreshReport:
    version: str | None  # the serving version (None: none serves)
    mode: str  # full, incremental, none
    users: int  # lists recomputed
    known: int  # users with a list now
    note: str
    seconds: float

    def __str__(self) -> str:
        return f"{self.users} of {self.known} users' lists recomputed ({self.mode}): {self.note}"


def _active_key(current: serving.Active) -> dict[str, Any]:
    return {"serving": current.serving, "challenger": current.challenger, "share": current.share}


def _read_state() -> dict[str, Any] | None:
    path = bundle.models_root() / _REFRESH_STATE
    try:
        state = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return None  # no state, or unreadable: the next refresh is a full one
    return state if isinstance(state, dict) else None


def _write_state(current: serving.Active, tables: dict[str, int | None]) -> None:
    root = bundle.models_root()
    root.mkdir(parents=True, exist_ok=True)
    temporary = root / f".refresh-{time.monotonic_ns()}.tmp"
    temporary.write_text(json.dumps({"active": _active_key(current), "tables": tables}), "utf-8")
    temporary.replace(root / _REFRESH_STATE)


def _precompute(progress: Progress) -> int:
    """Every known user's list (:func:`serving.precompute`), recording what it covered so
    :func:`refresh` afterwards recomputes only what changed since."""
    tables = {name: _table_version(name) for name in _LISTENING_TABLES}  # before: conservative
    cached = serving.precompute(progress=progress)
    serving.forget_active()
    _write_state(serving.active(), tables)
    return cached


def _users_written_since(name: str, version: int) -> set[str] | None:
    """The users in the rows a lake table gained after ``version`` (its files now that
    version did not have); None when that version cannot be read (vacuumed)."""
    import pyarrow.parquet as pq

    from podsight import lake

    with lake.io_lock:
        added = lake.files_added_since(name, version)
        if added is None:
            return None
        users: set[str] = set()
        for uri in added:
            column = pq.read_table(uri, columns=["user_id"])["user_id"]
            users.update(u for u in column.to_pylist() if u)
    return users


def refresh(*, progress: Progress = SILENT) -> RefreshReport:
    """Recompute the cached lists that are out of date: everyone's when the active
    versions changed since the last precompute (or none was recorded), else only the users
    whose listening the lake wrote since then and known users without a list."""
    started = time.monotonic()
    serving.forget_active()
    current = serving.active()
    if not current.serving:
        return RefreshReport(
            None, "none", 0, 0,
            "no model version serves yet: nothing to refresh (`podsight recs train`)",
            round(time.monotonic() - started, 2),
        )  # fmt: skip
    tables = {name: _table_version(name) for name in _LISTENING_TABLES}
    state = _read_state()
    if state is None or state.get("active") != _active_key(current):
        why = (
            "no earlier precompute recorded" if state is None
            else "the serving versions changed since the last precompute"
        )  # fmt: skip
        cached = _precompute(progress)
        return RefreshReport(
            current.serving, "full", cached, cached, f"every list recomputed: {why}",
            round(time.monotonic() - started, 2),
        )  # fmt: skip
    changed: set[str] = set()
    for name, version in tables.items():
        before = (state.get("tables") or {}).get(name)
        if version is None or before == version:
            continue
        written = _users_written_since(name, before) if before is not None else None
        if written is None:  # the table is new since, or its old version is gone
            cached = _precompute(progress)
            return RefreshReport(
                current.serving, "full", cached, cached,
                f"every list recomputed: {name} cannot be compared with its version {before}",
                round(time.monotonic() - started, 2),
            )  # fmt: skip
        changed |= written
    known: set[str] = set()
    for version in current.versions:
        known.update(serving._load(version, current).users)
    have = serving.cache().users()
    missing = known - have
    wanted = sorted(changed | missing)
    count = serving.refresh_users(wanted) if wanted else 0
    _write_state(current, tables)
    if wanted:
        note = (
            f"{len(changed)} user(s) with new listening, {len(missing)} without a list, "
            f"with model {current.serving}"
        )
    else:
        note = f"nothing new since the last precompute with model {current.serving}"
    return RefreshReport(
        current.serving,
        "incremental",
        count,
        len(known | have),
        note,
        round(time.monotonic() - started, 2),
    )
