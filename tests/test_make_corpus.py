"""`manage.py make_corpus`: a deterministic synthetic corpus that the importer takes as real sources."""

import re

import pytest
from django.core.management import CommandError, call_command

from monographs.importers.cleaning import is_misspelling
from monographs.importers.sources import FORMAT_A, FORMAT_B, parse_document
from monographs.management.commands.make_corpus import CorpusWriter
from monographs.models import Alias, BrandName, Comparison, Drug, LegacyPath, Monograph, Revision


def _files(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_same_count_and_seed_give_byte_identical_files(tmp_path):
    call_command("make_corpus", 60, str(tmp_path / "one"), seed=7, verbosity=0)
    call_command("make_corpus", 60, str(tmp_path / "two"), seed=7, verbosity=0)
    call_command("make_corpus", 60, str(tmp_path / "three"), seed=8, verbosity=0)
    one = _files(tmp_path / "one")
    assert len(one) == 60
    assert one == _files(tmp_path / "two")
    assert one != _files(tmp_path / "three")


def test_it_refuses_a_directory_that_already_holds_documents(tmp_path):
    call_command("make_corpus", 3, str(tmp_path), verbosity=0)
    with pytest.raises(CommandError, match="already holds .txt files"):
        call_command("make_corpus", 3, str(tmp_path), verbosity=0)


def test_it_writes_both_formats_shaped_like_the_seeds(tmp_path):
    call_command("make_corpus", 40, str(tmp_path), verbosity=0)
    docs = [parse_document(path) for path in sorted(tmp_path.iterdir())]
    formats = [doc.format for doc in docs]
    assert formats.count(FORMAT_A) >= 4 and formats.count(FORMAT_B) >= 30
    reference = next(doc for doc in docs if doc.format == FORMAT_B)
    assert len(reference.faqs) == 10
    assert all(q.endswith("?") and not a.startswith(("A:", "*")) for q, a in reference.faqs)  # debris cleaned
    assert reference.brands and reference.classes and reference.summary
    assert "FAQs" not in reference.body and "## Usage" in reference.body
    raw = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "速" in raw  # mojibake to repair…
    assert not any("速" in name for doc in docs for name, _ in doc.brands)  # …and repaired
    patient = next(doc for doc in docs if doc.format == FORMAT_A)
    assert len(patient.comparisons) == 1 and patient.authors and patient.proof_readers
    assert patient.legacy_paths and "/treatment/other/medication/miscellaneous/" in patient.body


def test_drug_names_are_unique_and_never_one_slip_apart():
    writer = CorpusWriter(20_000, seed=1)
    names = [writer.new_drug().name for _ in range(20_000)]
    assert len(set(names)) == 20_000
    assert all(re.fullmatch(r"[A-Z][a-z]{5,}", name) for name in names)
    by_letter = {}
    for name in names[:3000]:
        by_letter.setdefault(name[0], []).append(name)
    for group in by_letter.values():
        assert not any(is_misspelling(a, b) for i, a in enumerate(group) for b in group[i + 1 :])


@pytest.mark.slow
@pytest.mark.django_db
def test_a_small_corpus_imports_through_import_sources(tmp_path):
    call_command("make_corpus", 80, str(tmp_path), verbosity=0)
    call_command("import_sources", str(tmp_path), verbosity=0)
    assert Revision.objects.live().count() == Monograph.objects.count() == 80
    assert Monograph.objects.filter(kind="patient").count() == 11
    assert Alias.objects.filter(kind=Alias.Kind.MISSPELLING).exists()  # letter-swapped titles found their drug
    assert BrandName.objects.filter(name__endswith="®").exists()
    assert Comparison.objects.count() == 11
    assert LegacyPath.objects.count() == 11
    assert Drug.objects.filter(classes__isnull=True).count() == 0


@pytest.mark.slow
def test_brand_names_do_not_run_out_at_twenty_thousand_documents():
    """About two brands per reference drug: more than the ~21,800 two-syllable brand names there are."""
    writer = CorpusWriter(20_000, seed=1)
    brands = [writer.new_brand() for _ in range(40_000)]
    assert len({name.lower() for name in brands}) == 40_000
    assert all(re.fullmatch(r"[A-Z][a-z]+", name) for name in brands)
