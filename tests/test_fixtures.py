"""Fixtures: rebuilt byte for byte from the sources, loadable twice, natural keys only."""

import json
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.commands.loaddata import Command as DjangoLoaddata
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monographs.models import FAQ, ComparisonCell, Drug, Monograph, Revision

from .conftest import ROOT, row_counts

SEED = ROOT / "fixtures" / "seed.json"


@pytest.mark.slow
def test_build_fixtures_reproduces_the_committed_fixture(tmp_path):
    output = tmp_path / "seed.json"
    call_command("build_fixtures", output=str(output), stdout=StringIO())
    assert output.read_bytes() == SEED.read_bytes()


def test_the_fixture_never_names_a_primary_key():
    for record in json.loads(SEED.read_text(encoding="utf-8")):
        assert "pk" not in record, record["model"]


@pytest.mark.django_db
def test_loaddata_twice_changes_nothing():
    call_command("loaddata", "seed", verbosity=0)
    first = row_counts()
    assert first["Drug"] == 1 and first["Monograph"] == 2 and first["Revision"] == 2
    call_command("loaddata", "seed", verbosity=0)
    assert row_counts() == first


@pytest.mark.django_db
def test_loaded_content_equals_imported_content():
    call_command("loaddata", "seed", verbosity=0)
    revision = Revision.objects.live().get(monograph__slug="denosumab-patient-information")
    assert revision.title == "Denusomab"
    assert [a.name for a in revision.proof_readers] == ["David A. Mitchell"]
    assert revision.comparisons.get().attributes.count() == 7
    assert Monograph.objects.get(is_primary=True).drug == Drug.objects.get(slug="denosumab")


@pytest.mark.django_db
def test_natural_keys_round_trip(tmp_path):
    call_command("loaddata", "seed", verbosity=0)
    keyed = [model for model in apps.get_app_config("monographs").get_models() if hasattr(model, "natural_key")]
    assert len(keyed) >= 14
    for model in keyed:
        for obj in model.objects.all():
            assert model.objects.get_by_natural_key(*obj.natural_key()) == obj, model
    dumped = StringIO()
    call_command("dumpdata", "monographs", natural_foreign=True, natural_primary=True, stdout=dumped)
    before = row_counts()
    Revision.objects.all().delete()  # cascades to credits, FAQs, comparisons, events
    Monograph.objects.all().delete()
    path = tmp_path / "dump.json"
    path.write_text(dumped.getvalue(), encoding="utf-8")
    call_command("loaddata", str(path), verbosity=0)
    assert row_counts() == before


@pytest.mark.django_db
def test_a_revision_part_key_reads_only_key_columns():
    """A key of a row deep in a revision costs one query of key columns, not the chain of whole rows
    (each revision's body among them) that made dumpdata and loaddata of a large corpus take an hour."""
    call_command("loaddata", "seed", verbosity=0)
    cell = ComparisonCell.objects.first()
    fresh = ComparisonCell(subject_id=cell.subject_id, attribute_id=cell.attribute_id)
    with CaptureQueriesContext(connection) as queries:
        key = fresh.natural_key()
    assert key == (
        cell.subject.comparison.revision.monograph.slug,
        cell.subject.comparison.revision.number,
        cell.subject.comparison.slug,
        cell.subject.position,
        cell.attribute.position,
    )
    assert len(queries) == 2
    faq = FAQ.objects.select_related("revision__monograph").first()
    with CaptureQueriesContext(connection) as queries:
        assert faq.natural_key() == (faq.revision.monograph.slug, faq.revision.number, faq.position)
    assert len(queries) == 0  # the related rows already loaded are used


@pytest.mark.django_db
def test_loaddata_never_reads_a_revision_body(tmp_path):
    call_command("loaddata", "seed", verbosity=0)
    Revision.objects.update(body="x" * 100)  # a second load updates: it must not need the old text
    with CaptureQueriesContext(connection) as queries:
        call_command(DjangoLoaddata(), "seed", verbosity=0)  # the load itself, before the index is rebuilt
    body = f"{connection.ops.quote_name('monographs_revision')}.{connection.ops.quote_name('body')}"
    selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert selects and not [sql for sql in selects if body in sql]


def repeated_selects(queries) -> list[tuple[int, str]]:
    counts = Counter(q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT"))
    return [(n, sql) for sql, n in counts.most_common() if n > 1]


@pytest.mark.django_db
def test_loaddata_looks_each_natural_key_up_once():
    """Django looks a natural foreign key up again for every row that names it (the same revision
    for each of its FAQs, cells, events); monographs/serializers.py remembers the answer."""
    with CaptureQueriesContext(connection) as queries:
        call_command(DjangoLoaddata(), "seed", verbosity=0)  # the load itself, before the index is rebuilt
    # A parent is looked up twice at most: before it is written (is it there already?) and once
    # when the first child names it.
    assert [sql for n, sql in repeated_selects(queries) if n > 2] == []
    assert len(queries) < 3 * len(json.loads(SEED.read_text(encoding="utf-8")))


@pytest.mark.django_db
def test_dumpdata_reads_each_natural_key_once():
    call_command("loaddata", "seed", verbosity=0)
    with CaptureQueriesContext(connection) as queries:
        dumped = StringIO()
        call_command("dumpdata", "monographs", natural_foreign=True, natural_primary=True, indent=2, stdout=dumped)
    assert repeated_selects(queries) == []
    models = {record["model"] for record in json.loads(dumped.getvalue())}
    assert len(queries) <= 3 * len(models)  # the rows of each model, plus a key or two
