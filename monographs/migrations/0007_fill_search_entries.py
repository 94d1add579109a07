"""Fill the fields 0006 added on entries indexed before it (a new index fills them as it goes)."""

from django.db import migrations


def fill(apps, schema_editor):
    SearchEntry = apps.get_model("monographs", "SearchEntry")
    for entry in SearchEntry.objects.select_related("revision").only("id", "revision__title"):
        SearchEntry.objects.filter(pk=entry.pk).update(title=entry.revision.title)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE monographs_searchentry"
            " SET name_vector = to_tsvector('english', names), summary_vector = to_tsvector('english', summary)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0006_search_at_scale"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
    ]
