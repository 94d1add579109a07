"""The content generation: one row, moved on in the transaction of every change readers can see, and read
with each cached page's stamp, so a change made by another process is seen at once (see
monographs.models.ContentGeneration: a table without a model, so that fixtures and backups never carry it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0011_editorial_guarantee"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                "CREATE TABLE monographs_content_generation (id bigint NOT NULL PRIMARY KEY, value bigint NOT NULL)",
                "INSERT INTO monographs_content_generation (id, value) VALUES (1, 0)",
            ],
            reverse_sql=["DROP TABLE monographs_content_generation"],
        ),
    ]
