from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_cache_table")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Sign-in tokens (POST /api/auth/token) stop working then; null: never.",
                null=True,
            ),
        ),
    ]
