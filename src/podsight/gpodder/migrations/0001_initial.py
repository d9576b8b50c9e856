"""The gPodder models moved here from ``events``, keeping their tables.

State only: the tables ``events_device``, ``events_subscription`` and
``events_episodeaction`` (made by events/0001) stay as they are, rows included; this
migration tells Django they now belong to ``gpodder``, and events/0002 forgets them there.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("device", "subscription", "episodeaction")


def _relabel(old: str, new: str):
    """Content types (and the permissions hanging on them) follow the models, rather than
    being left stale under the old app and made anew under the new one."""

    def run(apps, schema_editor):
        rows = apps.get_model("contenttypes", "ContentType").objects.using(
            schema_editor.connection.alias
        )
        # One made under the new label already (a database migrated back and forth) wins.
        there = set(rows.filter(app_label=new, model__in=MODELS).values_list("model", flat=True))
        rows.filter(app_label=old, model__in=set(MODELS) - there).update(app_label=new)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The tables are made there, on a fresh database too.
        ("events", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Device",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "uid",
                            models.CharField(
                                help_text="The device id the app chose.", max_length=100
                            ),
                        ),
                        ("caption", models.CharField(blank=True, default="", max_length=200)),
                        (
                            "type",
                            models.CharField(
                                choices=[
                                    ("desktop", "Desktop"),
                                    ("laptop", "Laptop"),
                                    ("mobile", "Mobile"),
                                    ("server", "Server"),
                                    ("other", "Other"),
                                ],
                                default="other",
                                max_length=10,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="devices",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_device",
                        "ordering": ["id"],
                    },
                ),
                migrations.CreateModel(
                    name="EpisodeAction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("podcast", models.TextField()),
                        ("episode", models.TextField()),
                        ("guid", models.TextField(blank=True, default="")),
                        ("action", models.CharField(max_length=10)),
                        (
                            "timestamp",
                            models.DateTimeField(help_text="When it happened, by the app's clock."),
                        ),
                        ("started", models.IntegerField(null=True)),
                        ("position", models.IntegerField(null=True)),
                        ("total", models.IntegerField(null=True)),
                        (
                            "uploaded_at",
                            models.DateTimeField(db_index=True, help_text="What `since` compares."),
                        ),
                        (
                            "key",
                            models.UUIDField(
                                help_text="Identity of the action as sent; repeats are stored once."
                            ),
                        ),
                        (
                            "device",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to="gpodder.device",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="episode_actions",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_episodeaction",
                        "ordering": ["uploaded_at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="Subscription",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("url", models.TextField()),
                        ("subscribed", models.BooleanField()),
                        ("changed_at", models.DateTimeField(db_index=True)),
                        (
                            "device",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="subscriptions",
                                to="gpodder.device",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_subscription",
                        "ordering": ["id"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="device",
                    constraint=models.UniqueConstraint(
                        fields=("user", "uid"), name="uniq_user_device"
                    ),
                ),
                migrations.AddIndex(
                    model_name="episodeaction",
                    index=models.Index(fields=["user", "uploaded_at"], name="episode_action_since"),
                ),
                migrations.AddConstraint(
                    model_name="episodeaction",
                    constraint=models.UniqueConstraint(
                        fields=("user", "key"), name="uniq_user_episode_action"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="subscription",
                    constraint=models.UniqueConstraint(
                        fields=("device", "url"), name="uniq_device_subscription"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_relabel("events", "gpodder"), _relabel("gpodder", "events")),
    ]
