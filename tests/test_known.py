"""What an import batch knows (monographs/importers/known.py) answers as the database would.

The importer looks names, slugs and source keys up in `Known`, read once per batch, instead of asking the
database for each document; these tests hold it to the database's answers, and check that a document
rolled back under --skip-invalid leaves nothing of itself in it.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monographs.importers.cleaning import is_misspelling
from monographs.importers.known import Known
from monographs.importers.loader import find_class, find_drug
from monographs.models import Alias, BrandName, Drug, DrugClass, Monograph, unique_slug

from . import factories
from .conftest import SEED_B

pytestmark = pytest.mark.django_db

DRUGS = ["Denosumab", "Dexamethasone", "Denosu", "Alendronate", "Zoledronic acid", "Ibandronate", "Risedronate"]
BRANDS = {"Denosumab": ["Prolia®", "Xgeva"], "Alendronate": ["Fosamax"], "Ibandronate": ["Boniva"]}
ALIASES = {"Denosumab": ["Denusomab", "AMG 162"], "Zoledronic acid": ["Zoledronate"]}
CLASSES = ["Bisphosphonates", "Bisphosphonate", "RANK ligand (RANKL) inhibitor", "Corticosteroid"]


@pytest.fixture
def names():
    for name in DRUGS:
        factories.drug(name, brands=BRANDS.get(name, ()))
    for drug_name, aliases in ALIASES.items():
        drug = Drug.objects.get(name=drug_name)
        for alias in aliases:
            Alias.objects.create(drug=drug, name=alias, slug=alias.lower().replace(" ", "-"))
    for name in CLASSES:
        DrugClass.objects.create(name=name, slug=unique_slug(DrugClass, name))
    return [*DRUGS, *(b for bs in BRANDS.values() for b in bs), *(a for al in ALIASES.values() for a in al), *CLASSES]


def _variants(name: str):
    """A name as a document might write it: other case, its slug, plural or singular, with spaces."""
    return st.sampled_from(
        [name, name.upper(), name.lower(), name.title(), name.lower().replace(" ", "-"), f"{name}s", name[:-1]]
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_names_are_found_as_the_database_finds_them(names, data):
    known = Known()
    # What a UTF-8 source can hold (no lone surrogate) and PostgreSQL's text takes (no NUL).
    text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
    query = data.draw(st.one_of(st.sampled_from(names).flatmap(_variants), text))
    assert known.find_drug(query) == find_drug(query)
    assert known.find_class(query) == find_class(query)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _slip(name: str, data) -> str:
    """`name` with one slip: a letter wrong, missing, extra or two swapped (never the first)."""
    i = data.draw(st.integers(1, len(name) - 1))
    letter = data.draw(st.sampled_from(_LETTERS))
    kind = data.draw(st.sampled_from(["wrong", "missing", "extra", "swap"]))
    if kind == "wrong":
        return name[:i] + letter + name[i + 1 :]
    if kind == "missing":
        return name[:i] + name[i + 1 :]
    if kind == "extra":
        return name[:i] + letter + name[i:]
    j = data.draw(st.integers(1, len(name) - 1))
    chars = list(name)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_near_misses_are_every_drug_one_slip_away(db, data):
    """The index compares a title only with names of its first letter and a length within two: it must
    still find every drug the rule itself (is_misspelling) accepts, as a scan of every name would."""
    words = st.text(alphabet=_LETTERS[:4], min_size=5, max_size=9).map(str.capitalize)
    population = data.draw(st.lists(words, min_size=1, max_size=30, unique_by=str.lower))
    Drug.objects.all().delete()
    Drug.objects.bulk_create(Drug(name=name, slug=name.lower()) for name in population)
    title = _slip(data.draw(st.sampled_from(population)), data).capitalize()
    everyone = Drug.objects.order_by("name")
    assert Known().near_misses(title) == [drug for drug in everyone if is_misspelling(title, drug.name)]


def test_a_new_slug_is_the_one_unique_slug_would_choose():
    for slug in ("testamab", "testamab-2", "testamab-4"):
        factories.drug(slug.capitalize() if slug == "testamab" else slug, brands=())
    expected = unique_slug(Drug, "Testamab ")
    assert Known().new_drug("Testamab ").slug == expected == "testamab-3"
    Monograph.objects.create(slug="testamab-3", drug=Drug.objects.get(name="Testamab"), source_key="x:1")
    monograph = Known().new_monograph("Testamab", drug=Drug.objects.get(name="Testamab"), source_key="x:2")
    assert monograph.slug == "testamab"


def test_a_document_rolled_back_leaves_nothing_known_of_it(write_source):
    """With --skip-invalid a document that fails while writing is rolled back to its savepoint; a later
    document of the same drug must create the drug again, not point at the one rolled back."""
    call_command("import_sources", str(SEED_B), verbosity=0)  # Denosumab, sold as Prolia
    clash = write_source(
        "b.txt", "---\ntitle: Otherumab\ndescription: x\n---\n## Alternate Names\n\nSold as **Prolia** (x).\n"
    )
    leaflet = write_source(
        "a.txt", "---\ntitle: Otherumab\nuri: treatment/other/medication/otherumab\n---\n<p>A leaflet.</p>\n"
    )
    call_command("import_sources", str(clash), str(leaflet), "--skip-invalid", stdout=StringIO(), stderr=StringIO())
    drug = Drug.objects.get(name="Otherumab")
    assert [m.source_key for m in drug.monographs.all()] == ["A:treatment/other/medication/otherumab"]
    assert BrandName.objects.get(slug="prolia").drug.name == "Denosumab"
