"""Search that stays fast at tens of thousands of monographs (monographs/search.py).

The first search index matched every query against every entry (a pg_trgm similarity on each row on
PostgreSQL, a Python loop on SQLite): 141 ms at the 95th percentile for 1,000 monographs on
PostgreSQL, seconds on SQLite.  This migration adds what lets each query touch only the rows it shows:

- every database: the live revision's title on the entry, indexed, so pages that merely mention a
  word can be listed A–Z by walking that index;
- PostgreSQL: small GIN-indexed vectors of the names and of the summary beside the full one, and a
  pg_trgm GIN index on the names for misspellings;
- SQLite: an FTS5 table over names, summary and body, and an FTS5 trigram table over the names (each
  name framed by newlines, so a word's first and last letters make trigrams of their own), both kept
  in step with the entries by triggers.

Existing entries are filled in by 0007 (PostgreSQL will not build an index in a transaction that has
already updated the table's rows).
"""

import django.contrib.postgres.search
from django.db import migrations, models

SQLITE_UP = [
    """CREATE VIRTUAL TABLE monographs_searchtext USING fts5(
        names, summary, body,
        content='monographs_searchentry', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    "CREATE VIRTUAL TABLE monographs_searchname USING fts5(words, tokenize='trigram')",
    """CREATE TRIGGER monographs_searchentry_ai AFTER INSERT ON monographs_searchentry BEGIN
        INSERT INTO monographs_searchtext(rowid, names, summary, body)
            VALUES (new.id, new.names, new.summary, new.body);
        INSERT INTO monographs_searchname(rowid, words)
            VALUES (new.id, char(10) || new.names || char(10));
    END""",
    """CREATE TRIGGER monographs_searchentry_ad AFTER DELETE ON monographs_searchentry BEGIN
        INSERT INTO monographs_searchtext(monographs_searchtext, rowid, names, summary, body)
            VALUES ('delete', old.id, old.names, old.summary, old.body);
        DELETE FROM monographs_searchname WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER monographs_searchentry_au AFTER UPDATE ON monographs_searchentry BEGIN
        INSERT INTO monographs_searchtext(monographs_searchtext, rowid, names, summary, body)
            VALUES ('delete', old.id, old.names, old.summary, old.body);
        INSERT INTO monographs_searchtext(rowid, names, summary, body)
            VALUES (new.id, new.names, new.summary, new.body);
        DELETE FROM monographs_searchname WHERE rowid = old.id;
        INSERT INTO monographs_searchname(rowid, words)
            VALUES (new.id, char(10) || new.names || char(10));
    END""",
    "INSERT INTO monographs_searchtext(monographs_searchtext) VALUES ('rebuild')",
    """INSERT INTO monographs_searchname(rowid, words)
        SELECT id, char(10) || names || char(10) FROM monographs_searchentry""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS monographs_searchentry_ai",
    "DROP TRIGGER IF EXISTS monographs_searchentry_ad",
    "DROP TRIGGER IF EXISTS monographs_searchentry_au",
    "DROP TABLE IF EXISTS monographs_searchtext",
    "DROP TABLE IF EXISTS monographs_searchname",
]
POSTGRES_UP = [
    "CREATE INDEX monographs_searchentry_name_vector_gin ON monographs_searchentry USING gin (name_vector)",
    "CREATE INDEX monographs_searchentry_summary_vector_gin ON monographs_searchentry USING gin (summary_vector)",
    "CREATE INDEX monographs_searchentry_names_trgm ON monographs_searchentry USING gin (names gin_trgm_ops)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS monographs_searchentry_name_vector_gin",
    "DROP INDEX IF EXISTS monographs_searchentry_summary_vector_gin",
    "DROP INDEX IF EXISTS monographs_searchentry_names_trgm",
]


def run(statements_by_vendor):
    def operation(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0005_merge_reader_and_workflow"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="title",
            field=models.CharField(
                db_index=True, default="", help_text="The live revision's title (sort order)", max_length=300
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="searchentry",
            name="name_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="summary_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(
            run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
            elidable=False,
        ),
    ]
