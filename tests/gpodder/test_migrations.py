"""The gPodder models moved from ``events`` to ``gpodder`` without touching the database:
a database made before the move keeps its devices, subscriptions and episode actions,
read through the new models afterwards; and the migrations match the models."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from podsight.gpodder.models import Device, EpisodeAction, Subscription

pytestmark = pytest.mark.django_db(transaction=True)

# The last migration of `events` before the move: it made the three tables.
BEFORE_THE_MOVE = ("events", "0001_initial")


def test_rows_stored_before_the_move_are_read_through_the_new_app():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    before = [n for n in leaves if n[0] not in ("events", "gpodder")] + [BEFORE_THE_MOVE]
    executor.migrate([*before, ("gpodder", None)])  # None: no gpodder migration applied
    old = executor.loader.project_state(before).apps
    assert "gpodder" not in {model._meta.app_label for model in old.get_models()}
    user = old.get_model("auth", "User").objects.create(username="alice")
    device = old.get_model("events", "Device").objects.create(
        user_id=user.pk, uid="phone", caption="Phone", type="mobile"
    )
    old.get_model("events", "Subscription").objects.create(
        device=device, url="https://feeds.example.org/a.xml", subscribed=True,
        changed_at="2024-01-01T00:00:00Z",
    )  # fmt: skip
    key = uuid.uuid4()
    old.get_model("events", "EpisodeAction").objects.create(
        user_id=user.pk, device=device, podcast="https://feeds.example.org/a.xml",
        episode="https://media.example.org/a/1.mp3", action="play",
        timestamp="2024-01-01T00:00:00Z", started=0, position=60, total=600,
        uploaded_at="2024-01-01T00:01:00Z", key=key,
    )  # fmt: skip
    content_types = old.get_model("contenttypes", "ContentType").objects
    content_types.get_or_create(app_label="events", model="device")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Device.objects.get()
    assert (moved.pk, moved.user.username, moved.uid, moved.type) == (
        device.pk, "alice", "phone", "mobile"
    )  # fmt: skip
    assert list(Subscription.objects.filter(device=moved).values_list("url", "subscribed")) == [
        ("https://feeds.example.org/a.xml", True)
    ]
    action = EpisodeAction.objects.get()
    assert (action.device_id, action.key, action.position) == (moved.pk, key, 60)
    # Written through the new model into the same table, next to the old rows.
    Device.objects.create(user=moved.user, uid="laptop")
    assert Device.objects.count() == 2
    from django.contrib.contenttypes.models import ContentType

    assert ContentType.objects.filter(app_label="gpodder", model="device").exists()
    assert not ContentType.objects.filter(app_label="events", model="device").exists()


def test_the_migrations_describe_the_models():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
