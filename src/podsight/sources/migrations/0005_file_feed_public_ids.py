"""Source records of local feed files: ``file:<digest>`` instead of the file's URI.

The external id of an RSS record is shown by the API (``sources``, links, the
``field_sources`` and explanations that name records as ``source:external_id``); for a
file it was ``file:///path/on/the/server``. It becomes ``file:`` and 16 hex digits of the
SHA-256 of that URI (what ``sources.rss.ingest.record_external_id`` gives), here for
stored rows and the labels that name them. Links are by row id and are unchanged; the
feed row keeps the path, which is not served. Not reversible: a digest has no inverse.
"""

import hashlib

from django.db import migrations


def _public(uri: str) -> str:
    return "file:" + hashlib.sha256(uri.encode()).hexdigest()[:16]


def forwards(apps, schema_editor):
    SourceChannel = apps.get_model("sources", "SourceChannel")
    Channel = apps.get_model("catalog", "Channel")
    LinkEvent = apps.get_model("matching", "LinkEvent")
    records = SourceChannel.objects.filter(source="rss", external_id__startswith="file://")
    # Longest first: a path that is a prefix of another's must not rewrite the other's label.
    for record in sorted(records, key=lambda r: -len(r.external_id)):
        old, new = record.external_id, _public(record.external_id)
        if SourceChannel.objects.filter(source="rss", external_id=new).exists():
            continue
        record.external_id = new
        if record.url.startswith("file://"):
            record.url = ""
        record.save(update_fields=["external_id", "url"])
        old_label, new_label = f"rss:{old}", f"rss:{new}"
        if record.channel_id is not None:
            for channel in Channel.objects.filter(pk=record.channel_id):
                sources = {
                    k: new_label if v == old_label else v
                    for k, v in (channel.field_sources or {}).items()
                }
                if sources != channel.field_sources:
                    channel.field_sources = sources
                    channel.save(update_fields=["field_sources"])
        for model, field in ((SourceChannel, "link_explanation"), (LinkEvent, "explanation")):
            for row in model.objects.filter(**{f"{field}__contains": old_label}):
                setattr(row, field, getattr(row, field).replace(old_label, new_label))
                row.save(update_fields=[field])


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0004_catalogcandidate"),
        ("catalog", "0002_fulltext"),
        ("matching", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
