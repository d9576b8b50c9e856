"""What a podsight home holds, as JSON: run with podsight's own Python (not Airflow's).

    PODSIGHT_HOME=... .venv/bin/python tests_airflow/fingerprint.py

Row counts of every table of podsight's database (but the run records, which say how the
work was started), the serving model's status and every cached recommendation list, and
for every lake table its row count and a digest of its rows. Columns that say when a row
was written (and so differ between two runs of the same work) are left out of digests.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

import django

# Written at the moment of the run, not derived from the inputs (a model's data `as_of` too).
WALL_CLOCK_COLUMNS = {"ingested_at", "consumed_at", "written_at", "created_at", "updated_at",
                      "fetched_at", "analyzed_at", "computed_at", "received_at"}  # fmt: skip


def _digest(rows: list[dict]) -> str:
    lines = sorted(json.dumps(row, sort_keys=True, default=str) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _without(data: dict, keys: set[str]) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


def main() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podsight.settings")
    django.setup()
    from django.apps import apps

    from podsight import lake
    from podsight.lake import tables
    from podsight.recs.models import CachedRecommendations, ModelVersion

    database = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model.__module__.startswith("podsight.") and model._meta.app_label != "jobs"
    }
    # Versions are named by the time they were trained: their status, data and metrics say
    # what was trained on what.
    models = sorted(
        json.dumps(
            [m.status, m.data_version, _without(m.data, {"as_of"}), m.metrics],
            sort_keys=True,
            default=str,
        )  # fmt: skip
        for m in ModelVersion.objects.all()
    )
    # Each list's episodes in order and the status of the model that made it (versions are
    # named by when they were trained; scores hold listening weights, which decay with the
    # wall clock: tests_airflow/test_same_tables.py).
    status = dict(ModelVersion.objects.values_list("version", "status"))
    cached = _digest(
        [
            {
                "user": c.user_id,
                "model": status.get(c.model_version, "unknown"),
                "episodes": [i["episode"] for i in c.items],
            }
            for c in CachedRecommendations.objects.all()
        ]
    )
    found = {}
    for name in dir(tables):
        table = getattr(tables, name)
        if not isinstance(table, tables.LakeTable) or not lake.exists(table):
            continue
        rows = lake.query("SELECT * FROM t", t=table).to_pylist()
        kept = [_without(row, WALL_CLOCK_COLUMNS) for row in rows]
        found[table.name] = {"rows": len(rows), "digest": _digest(kept)}
    return {"database": database, "models": models, "cached": cached, "lake": found}


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=1, sort_keys=True, default=str)
    print()
