"""loaddata reads a fixture as a stream and writes new rows in batches, with Django's results.

What Django's loaddata guarantees and these tests hold the project's to, beside tests/test_fixtures.py
and tests/test_reliability.py: natural keys, forward references, m2m, a fixture loaded twice (or into
itself) changes nothing, and dumpdata → loaddata → dumpdata gives the same bytes.
"""

import io
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core import serializers
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monographs import serializers as fixture_format
from monographs.management.commands import loaddata as loaddata_command
from monographs.models import DrugClass, Monograph, Revision

from .conftest import CONTENT_MODELS, ROOT, row_counts

SEED = ROOT / "fixtures" / "seed.json"
DERIVED = [
    "monographs.searchentry",
    "monographs.searchword",
    "monographs.internallink",
    "monographs.comparisonreview",  # recorded afresh by loaddata; confirmations travel in backups
]  # rebuilt by loaddata, never in fixtures


def seed_records() -> list[dict]:
    return json.loads(SEED.read_text(encoding="utf-8"))


def write(tmp_path, records, name="fixture.json"):
    path = tmp_path / name
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def dump() -> str:
    out = StringIO()
    call_command(
        "dumpdata", "monographs", natural_foreign=True, natural_primary=True, indent=2, exclude=DERIVED, stdout=out
    )
    return out.getvalue()


@pytest.fixture
def small_chunks(monkeypatch):
    """Runs of five records, and a key memory of ten: the seed then crosses every boundary a large
    fixture does (flushes between runs, a run of one model split in several, the memory cleared)."""
    monkeypatch.setattr(fixture_format, "CHUNK", 5)
    monkeypatch.setattr(fixture_format, "KNOWN_LIMIT", 10)


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


@pytest.mark.django_db
def test_the_fixture_is_read_as_it_is_loaded_not_whole_first():
    records = seed_records()
    padding = [
        {"model": "monographs.drugclass", "fields": {"name": f"Class {i}", "slug": f"c{i}"}} for i in range(50_000)
    ]
    data = json.dumps(records + padding).encode()
    assert len(data) > 3_000_000
    stream = CountingStream(data)
    first = next(iter(serializers.deserialize("json", stream)))
    assert first.object.slug == records[0]["fields"]["slug"]
    assert stream.bytes_read < 300_000  # a buffer or two, not the 3 MB Django's reader took before the first row


@pytest.mark.django_db
def test_new_rows_are_inserted_in_batches(tmp_path, monkeypatch):
    """Into an empty database: an INSERT per batch of rows, and no "is this row there already?" query
    per object (Django: both for each object)."""
    monkeypatch.setattr(loaddata_command, "reindex_all", lambda: 0)  # the load alone
    monkeypatch.setattr(loaddata_command, "rebuild_links", lambda: 0)
    monkeypatch.setattr(loaddata_command, "record_all_reviews", lambda: None)
    monkeypatch.setattr(loaddata_command, "store_missing", lambda **options: 0)
    records = seed_records()
    faq = next(record for record in records if record["model"] == "monographs.faq")
    extra = [{**faq, "fields": {**faq["fields"], "position": 100 + i}} for i in range(450)]
    records[records.index(faq) : records.index(faq)] = extra
    with CaptureQueriesContext(connection) as queries:
        call_command("loaddata", str(write(tmp_path, records)), verbosity=0)
    assert row_counts()["FAQ"] == 460
    inserts = Counter(
        re.match(r'INSERT INTO "?(\w+)', q["sql"]).group(1)
        for q in queries
        if q["sql"].lstrip().upper().startswith("INSERT")
    )
    rows = Counter(record["model"].replace(".", "_") for record in records)
    assert inserts.pop("monographs_drug_classes") == 1  # the drug's classes (m2m), with the drug
    assert inserts == {table: math.ceil(n / fixture_format.CHUNK) for table, n in rows.items()}
    assert len(queries) < len(records) / 4


def assert_is_the_seed(dumped: str) -> None:
    assert json.loads(dumped) == seed_records()
    if connection.vendor == "sqlite":  # PostgreSQL's jsonb orders the keys of JSON fields its own way
        assert dumped == SEED.read_text(encoding="utf-8")


def empty_the_content_tables() -> None:
    Revision.objects.all().delete()  # protected references first: revisions, then monographs
    Monograph.objects.all().delete()
    for model in CONTENT_MODELS:
        model.objects.all().delete()
    assert sum(row_counts().values()) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("chunks", ["default", "small"])
def test_dumpdata_loaddata_dumpdata_gives_the_same_bytes(request, tmp_path, chunks):
    if chunks == "small":
        request.getfixturevalue("small_chunks")
    call_command("loaddata", "seed", verbosity=0)
    first = dump()
    assert_is_the_seed(first)
    call_command("loaddata", "seed", verbosity=0)  # loaded twice: updates, nothing added or changed
    assert dump() == first
    backup = tmp_path / "backup.json"
    backup.write_text(first, encoding="utf-8")
    empty_the_content_tables()
    call_command("loaddata", str(backup), verbosity=0)  # this database's own dump, into empty tables
    assert dump() == first


@pytest.mark.django_db
@pytest.mark.parametrize("chunks", ["default", "small"])
def test_a_fixture_naming_every_object_twice_loads_as_once(request, tmp_path, chunks):
    """A natural key met twice in one load (nothing in the table before it) is an update, as with Django:
    the batch that meets the table's unique constraint is written again one by one."""
    if chunks == "small":
        request.getfixturevalue("small_chunks")
    records = seed_records()
    call_command("loaddata", str(write(tmp_path, records + records)), verbosity=0)
    assert_is_the_seed(dump())
    assert row_counts()["Revision"] == 2


@pytest.mark.django_db
def test_forward_and_backward_references_within_a_run(tmp_path, small_chunks):
    records = [
        # a forward reference: the parent comes later (Django defers the field, then sets it)
        {"model": "monographs.drugclass", "fields": {"name": "Child", "slug": "child", "parent": ["later"]}},
        {"model": "monographs.drugclass", "fields": {"name": "Root", "slug": "root", "parent": None}},
        # a reference back to a row still waiting in the batch: written first, then found
        {"model": "monographs.drugclass", "fields": {"name": "Leaf", "slug": "leaf", "parent": ["root"]}},
        {"model": "monographs.drugclass", "fields": {"name": "Later", "slug": "later", "parent": None}},
    ]
    command = loaddata_command.Command()
    call_command(command, str(write(tmp_path, records)), verbosity=0)
    parents = dict(DrugClass.objects.values_list("slug", "parent__slug"))
    assert parents == {"child": "later", "root": None, "leaf": "root", "later": None}
    # Only the true forward reference waited for the end of the load, and without its row's data.
    assert len(command.objs_with_deferred_fields) == 1
    assert command.objs_with_deferred_fields[0].object is None


@pytest.mark.django_db
def test_many_to_many_rows_are_written_with_their_batch(tmp_path, small_chunks):
    records = seed_records()
    users = [
        {"model": "auth.user", "fields": {"username": name, "password": "!", "first_name": name.title()}}
        for name in ("alice", "bob")
    ]
    for record in records:
        if record["model"] == "monographs.revision":
            record["fields"]["editors"] = [["alice"], ["bob"], ["alice"]]
    path = write(tmp_path, users + records)
    call_command("loaddata", str(path), verbosity=0)
    for revision in Revision.objects.all():
        assert sorted(revision.editors.values_list("username", flat=True)) == ["alice", "bob"]
    call_command("loaddata", str(path), verbosity=0)
    assert User.objects.count() == 2
    assert Revision.editors.through.objects.count() == 4


@pytest.mark.django_db
def test_a_fixture_truncated_after_some_batches_were_written_changes_nothing(tmp_path, small_chunks):
    call_command("loaddata", "seed", verbosity=0)
    before, text = dump(), SEED.read_text(encoding="utf-8")
    Revision.objects.update(title="Before the load")
    changed = dump()
    truncated = tmp_path / "truncated.json"
    truncated.write_text(text[: len(text) * 3 // 4], encoding="utf-8")
    with pytest.raises(Exception, match="(?i)json"):
        call_command("loaddata", str(truncated), verbosity=0)
    assert dump() == changed != before
    # And into an empty database, where new rows go in batches before the end is reached:
    Revision.objects.all().delete()
    counts = row_counts()
    with pytest.raises(Exception, match="(?i)json"):
        call_command("loaddata", str(truncated), verbosity=0)
    assert row_counts() == counts


@pytest.mark.django_db
@pytest.mark.parametrize("text", ['{"model": "monographs.drug"}', "", "  "])
def test_a_fixture_that_is_not_a_list_is_refused(tmp_path, text):
    path = tmp_path / "odd.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match="(?i)list of objects"):
        call_command("loaddata", str(path), verbosity=0)


# Memory ------------------------------------------------------------------------------------------

# Each process starts Python and Django (~1 s of CPU): the commands of one step share one.  The peak read is
# the first command's, before any other runs; a second load of the same fixture gets a process of its own.
# A loaddata command reports two peaks: after reading the fixture into rows (LoadedHWM: what streaming
# keeps flat), and after the whole command (VmHWM: the pages rendered and the index rebuilt as well).
PEAK = """
import json, re, sys
import django
from django.core.management import execute_from_command_line

def hwm():
    return re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)

django.setup()
from monographs.management.commands.loaddata import Command
load = Command.loaddata
def loaddata(self, labels):
    load(self, labels)
    print("LoadedHWM", hwm())
Command.loaddata = loaddata

first, *then = json.loads(sys.argv[1])
execute_from_command_line(["manage.py", *first])
print("VmHWM", hwm())
for command in then:
    execute_from_command_line(["manage.py", *command])
"""


def manage(database: str, *commands: list[str]) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "drugref.settings",
        "DEBUG": "false",  # with DEBUG on, Django keeps the last 9,000 queries' SQL: batches of rows
        "SECRET_KEY": "test-only-" + "x" * 50,
        "HTTPS": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", PEAK, json.dumps(commands)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def peak_mb(result: subprocess.CompletedProcess, which: str = "VmHWM") -> float:
    return int(re.search(rf"^{which} (\d+)", result.stdout, re.MULTILINE).group(1)) / 1024


def backup(output) -> list[str]:
    """`dumpdata` of the editorial record as an operator's backup takes it (derived tables left out)."""
    return [
        "dumpdata",
        "monographs",
        "--natural-foreign",
        "--natural-primary",
        "--indent",
        "2",
        *[f"--exclude={label}" for label in DERIVED],
        "--output",
        str(output),
    ]


def generated_fixture(tmp_path, migrated_copy, size: int):
    """A corpus of `size` documents, imported and dumped as an operator would (`make_corpus`; it touches
    no database, so it runs here rather than in a process of its own)."""
    database = f"sqlite:///{migrated_copy(f'import-{size}.sqlite3')}"
    call_command("make_corpus", size, str(tmp_path / f"corpus-{size}"), seed=3, verbosity=0)
    fixture = tmp_path / f"dump-{size}.json"
    manage(database, ["import_sources", str(tmp_path / f"corpus-{size}"), "-v", "0"], backup(fixture))
    return fixture


@pytest.mark.slow
@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="runs its subprocesses on SQLite files whatever the suite's database"
)
def test_loaddata_peak_memory_does_not_grow_with_the_fixture(tmp_path, migrated_copy):
    loaded, peaks, sizes = {}, {}, {}
    # About a minute and a half of CPU: the large import (~30 %) and load (~15 %) dominate.  The databases
    # are copies of one migrated file (a migration each cost ~4 s).
    small, large = 60, 600
    for size in (small, large):
        fixture = generated_fixture(tmp_path, migrated_copy, size)
        database = f"sqlite:///{migrated_copy(f'load-{size}.sqlite3')}"
        load, again = ["loaddata", str(fixture), "-v", "0"], tmp_path / f"again-{size}.json"
        if size == small:  # loading twice changes nothing (a second load updates row by row: slow)
            result = manage(database, load)
            manage(database, load, backup(again))
        else:
            result = manage(database, load, backup(again))
        loaded[size], peaks[size] = peak_mb(result, "LoadedHWM"), peak_mb(result)
        sizes[size] = fixture.stat().st_size / 1e6
        assert again.read_bytes() == fixture.read_bytes()
    idle = peak_mb(manage(f"sqlite:///{tmp_path / f'load-{small}.sqlite3'}", ["check"]))
    assert sizes[large] > 8 * sizes[small]
    # Reading the fixture: measured +4.3 MB from the small fixture to the large (8.4 MB); with Django's
    # reader, which parses the whole file first, +21.6 MB (this test with SERIALIZATION_MODULES = {}).
    assert loaded[large] - loaded[small] < 10, (loaded, sizes)
    # The whole command, which then renders the pages and rebuilds the search index: measured +8.8 MB.
    assert peaks[large] - peaks[small] < 20, (peaks, sizes)
    assert peaks[large] - idle < 60, (peaks, idle)
