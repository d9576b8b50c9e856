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
    # Versions are named by the time they were trained: their data says what was trained
    # on what, and the metrics' names what was measured. Not the metrics' values nor the
    # gate's verdict: a model is trained as of its run's moment (listening weights decay
    # from the wall clock, the trending window ends at it), and on the twins' 8 listeners a
    # minute apart moved a validation coverage from 1.0 to 0.75 in a CI run.
    models = sorted(
        json.dumps(
            [
                m.data_version,
                _without(m.data, {"as_of"}),
                {name: sorted(values) for name, values in (m.metrics or {}).items()},
            ],
            sort_keys=True,
            default=str,
        )  # fmt: skip
        for m in ModelVersion.objects.all()
    )
    # Who has a list, of how many episodes, made by a model the home has. Not the episodes'
    # order nor the model's status (see the models above): a list is computed as of its
    # run's moment, and the twins run a minute or two apart, which reorders near ties (a CI
    # run failed on exactly that). tests/pipeline/test_pipeline_acceptance.py compares
    # top-10 lists of twins trained seconds apart.
    status = dict(ModelVersion.objects.values_list("version", "status"))
    cached = _digest(
        sorted(
            (
                {"user": c.user_id, "episodes": len(c.items), "model": c.model_version in status}
                for c in CachedRecommendations.objects.all()
            ),
            key=lambda row: row["user"],
        )
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
