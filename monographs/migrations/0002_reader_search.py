"""The search index (monographs/search.py).

On PostgreSQL: the pg_trgm extension (misspelling-tolerant name matching) and a GIN index on the
weighted search vector.  On SQLite both operations do nothing: TrigramExtension skips databases
other than PostgreSQL, and so does the index step below.
"""

import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension
import django.db.models.deletion
from django.db import migrations, models


def create_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX monographs_searchentry_vector_gin ON monographs_searchentry USING gin (vector)"
        )


def drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS monographs_searchentry_vector_gin")


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("names", models.TextField(help_text="INN, title, aliases and brand names, one per line")),
                (
                    "misspellings",
                    models.TextField(blank=True, help_text="Aliases recorded as misspellings, one per line"),
                ),
                ("summary", models.TextField(blank=True)),
                ("body", models.TextField(blank=True, help_text="Plain text of the rendered body, tables and FAQs")),
                ("vector", django.contrib.postgres.search.SearchVectorField(editable=False, null=True)),
                ("indexed_at", models.DateTimeField(auto_now=True)),
                (
                    "monograph",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="search_entry",
                        to="monographs.monograph",
                    ),
                ),
                (
                    "revision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="monographs.revision"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "search entries",
            },
        ),
        migrations.RunPython(create_gin_index, drop_gin_index, elidable=False),
    ]
