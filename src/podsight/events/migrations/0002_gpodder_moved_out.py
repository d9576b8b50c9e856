"""The gPodder models moved to the ``gpodder`` app (gpodder/0001), tables and rows kept.

State only: dropping the tables here would lose every device, subscription and episode
action, which now belong to ``gpodder`` under the same table names.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0001_initial"),
        ("gpodder", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                # Subscription and EpisodeAction first: they point at Device.
                migrations.DeleteModel(name="Subscription"),
                migrations.DeleteModel(name="EpisodeAction"),
                migrations.DeleteModel(name="Device"),
            ],
            database_operations=[],
        ),
    ]
