"""Fixtures: rebuilt byte for byte from the sources, loadable twice, natural keys only."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from monographs.models import Drug, Monograph, Revision

from .conftest import ROOT, row_counts

SEED = ROOT / "fixtures" / "seed.json"


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
    for model in (Revision, Monograph, Drug):
        for obj in model.objects.all():
            assert model.objects.get_by_natural_key(*obj.natural_key()) == obj
    dumped = StringIO()
    call_command("dumpdata", "monographs", natural_foreign=True, natural_primary=True, stdout=dumped)
    before = row_counts()
    Revision.objects.all().delete()  # cascades to credits, FAQs, comparisons, events
    Monograph.objects.all().delete()
    path = tmp_path / "dump.json"
    path.write_text(dumped.getvalue(), encoding="utf-8")
    call_command("loaddata", str(path), verbosity=0)
    assert row_counts() == before
