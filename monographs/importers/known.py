"""What an import batch knows: the names, slugs and rows its documents look up, read once and kept current.

A profile of a 1,000-document import found 26 queries for each new document, most of them asking what the
batch could know already: is the title a drug, an alias or a brand (three queries), is it one slip from a
drug (a fourth), is a slug free, is there a monograph for this source key, a primary one for the drug, a
live revision, a legacy path.  Each was built by the ORM and sent one at a time: a third of the import.
`Known` reads the names, slugs, source keys and legacy paths once, at the batch's start, then answers
from dictionaries, and the loader tells it of every row it creates or renames.

`find_drug` and `find_class` follow the rules of the loader's database look-ups of the same names (which
the admin's table editor uses for one table), and a new slug is chosen as `models.unique_slug` chooses it;
tests/test_known.py checks they give the same answers.

A document that fails is rolled back to its savepoint: `reload()` then reads everything again, so the
batch goes on knowing exactly what the database holds (a failure while writing is rare: most failing
documents fail while being read, before anything is written).
"""

from __future__ import annotations

from django.utils.text import slugify
from rapidfuzz import process
from rapidfuzz.distance import OSA

from ..models import Alias, Author, BrandName, Comparison, Drug, DrugClass, LegacyPath, Monograph, free_slug
from .cleaning import is_misspelling


def _free(taken, text: str) -> str:
    """models.unique_slug's choice, against the slugs in `taken` (a set or a dict)."""
    return free_slug(text, taken.__contains__)


class Known:
    def __init__(self):
        self.reload()

    def reload(self) -> None:
        # Drugs, aliases and brands: by lower-case name and by slug, each to its drug's pk.  A name's row
        # comes before a slug's (as `_by_name` orders them); names equal but for case share their slug,
        # which is unique, so a name names one row.
        self._drug_names, self._drug_slugs, self._near = {}, {}, {}
        for pk, name, slug in Drug.objects.values_list("pk", "name", "slug"):
            self._add_drug_name(pk, name, slug)
        self._alias_names, self._alias_slugs = {}, {}
        for name, slug, drug_id in Alias.objects.values_list("name", "slug", "drug_id"):
            self._add_alias(name, slug, drug_id)
        self._brand_names, self.brands = {}, {}  # brands: slug -> (drug pk, name, notes)
        for name, slug, notes, drug_id in BrandName.objects.values_list("name", "slug", "notes", "drug_id"):
            self.add_brand(slug, drug_id, name, notes)
        self._classes, self._class_slugs = {}, set()
        for drug_class in DrugClass.objects.all():
            self.add_class(drug_class)
        self._monograph_slugs = set(Monograph.objects.values_list("slug", flat=True))
        self._tables = {}  # comparison slug -> pks of the monographs whose revisions have a table at it
        for slug, monograph_id in Comparison.objects.values_list("slug", "revision__monograph_id"):
            self._tables.setdefault(slug, set()).add(monograph_id)
        self._source_keys = dict(Monograph.objects.filter(source_key__isnull=False).values_list("source_key", "pk"))
        self._monographs = {}  # source key -> Monograph: those created or asked for in this batch
        self.legacy = dict(LegacyPath.objects.values_list("path", "monograph_id"))  # path -> monograph pk
        self._authors = {author.slug: author for author in Author.objects.all()}
        self._drugs = {}  # pk -> Drug: those created or asked for in this batch
        self._primary = {}  # drug pk -> its primary Monograph or None, once known
        self._new = set()  # pks of the monographs this batch created: none had a revision before it

    # -- drugs and their names ------------------------------------------------------------------

    def _add_drug_name(self, pk: int, name: str, slug: str) -> None:
        self._drug_names[name.lower()] = pk
        self._drug_slugs[slug] = pk
        # Names by first letter of the slug and length: what near_misses compares a title with.
        lowered, rows = self._near.setdefault((slug[:1], len(name)), ([], []))
        lowered.append(name.strip().lower())
        rows.append((pk, name))

    def _drop_drug_name(self, pk: int, name: str, slug: str) -> None:
        self._drug_names.pop(name.lower(), None)
        self._drug_slugs.pop(slug, None)
        lowered, rows = self._near.get((slug[:1], len(name)), ([], []))
        if (pk, name) in rows:
            del lowered[rows.index((pk, name))]
            rows.remove((pk, name))

    def _add_alias(self, name: str, slug: str, drug_id: int) -> None:
        self._alias_names[name.lower()] = (slug, drug_id)
        self._alias_slugs[slug] = (name.lower(), drug_id)

    def drug(self, pk: int) -> Drug:
        if pk not in self._drugs:
            self._drugs[pk] = Drug.objects.get(pk=pk)
        return self._drugs[pk]

    def find_drug(self, name: str) -> Drug | None:
        """loader.find_drug: the drug named by its INN, an alias or a brand name (case-insensitively, else by
        slug)."""
        lowered, slug = name.lower(), slugify(name)
        pk = self._drug_names.get(lowered) or self._drug_slugs.get(slug)
        if pk is None:
            alias = self._alias_names.get(lowered) or self._alias_slugs.get(slug)
            brand = self._brand_names.get(lowered) or self.brands.get(slug)
            pk = alias[1] if alias else brand[0] if brand else None
        return None if pk is None else self.drug(pk)

    def near_misses(self, title: str) -> list[Drug]:
        """Drugs whose name is one slip away from `title` (see is_misspelling), by name.

        A slip keeps the first letter and changes the length by at most one, so only the names whose slug
        starts with that letter (a slug drops accents, so this is a superset) and whose length is within
        two (a margin for case folding) are compared: the 20,000th document does not read every name.
        """
        first = slugify(title)[:1]
        if not first:
            return []
        lowered = title.strip().lower()
        found = []
        for length in range(len(title) - 2, len(title) + 3):
            names, rows = self._near.get((first, length), ((), ()))
            # Every slip is within two edits: rapidfuzz (C++, the whole bucket in one call) drops the rest
            # before the exact rule runs.
            for _, _, i in process.extract(lowered, names, scorer=OSA.distance, score_cutoff=2, limit=None):
                pk, name = rows[i]
                if is_misspelling(title, name):
                    found.append(self.drug(pk))
        return sorted(found, key=lambda drug: drug.name)

    def new_drug(self, title: str) -> Drug:
        drug = Drug.objects.create(name=title, slug=_free(self._drug_slugs, title))
        self._drugs[drug.pk] = drug
        self._add_drug_name(drug.pk, drug.name, drug.slug)
        self._primary[drug.pk] = None
        return drug

    def rename_drug(self, drug: Drug, name: str) -> None:
        """The drug takes `name` (and its slug), freeing an alias that held that slug."""
        self._drop_drug_name(drug.pk, drug.name, drug.slug)
        drug.name, drug.slug = name, slugify(name)
        Alias.objects.filter(slug=drug.slug).delete()
        if drug.slug in self._alias_slugs:
            lowered, _ = self._alias_slugs.pop(drug.slug)
            self._alias_names.pop(lowered, None)
        drug.save()
        self._add_drug_name(drug.pk, drug.name, drug.slug)

    def add_alias(self, drug: Drug, name: str, kind: str) -> None:
        """`name` as another name of `drug`, unless it is the drug's own or a drug's slug, or the drug has
        that alias already: an alias keeps the kind it has (a misspelling found when a title first came
        in stays one when the same title, now found by that alias, comes in again; an editor's choice of
        kind stays too)."""
        slug = slugify(name)
        if not slug or slug == drug.slug or name.lower() == drug.name.lower() or slug in self._drug_slugs:
            return
        held = self._alias_slugs.get(slug)
        if held is not None and held[1] == drug.pk:
            return
        Alias.objects.update_or_create(slug=slug, defaults={"drug": drug, "name": name, "kind": kind})
        if held is not None:
            self._alias_names.pop(held[0], None)
        self._add_alias(name, slug, drug.pk)

    def add_brand(self, slug: str, drug_id: int, name: str, notes: str) -> None:
        old = self.brands.get(slug)
        if old is not None:
            self._brand_names.pop(old[1].lower(), None)
        self.brands[slug] = (drug_id, name, notes)
        self._brand_names[name.lower()] = self.brands[slug]

    # -- classes ----------------------------------------------------------------------------------

    def add_class(self, drug_class: DrugClass) -> None:
        self._classes.setdefault(drug_class.name.lower(), []).append(drug_class)
        self._class_slugs.add(drug_class.slug)

    def find_class(self, name: str) -> DrugClass | None:
        """loader.find_class: a class by name, singular or plural, the first by name."""
        stem = name.strip().lower().removesuffix("s")
        found = self._classes.get(stem, []) + self._classes.get(f"{stem}s", [])
        return min(found, key=lambda drug_class: drug_class.name, default=None)

    def new_class(self, name: str) -> DrugClass:
        drug_class = DrugClass.objects.create(name=name, slug=_free(self._class_slugs, name))
        self.add_class(drug_class)
        return drug_class

    # -- monographs -------------------------------------------------------------------------------

    def primary(self, drug: Drug) -> Monograph | None:
        if drug.pk not in self._primary:
            self._primary[drug.pk] = drug.monographs.filter(is_primary=True).first()
        return self._primary[drug.pk]

    def set_primary(self, drug: Drug, monograph: Monograph) -> None:
        self._primary[drug.pk] = monograph

    def monograph(self, source_key: str) -> Monograph | None:
        """The monograph imported from `source_key`, if any."""
        if source_key not in self._monographs and source_key in self._source_keys:
            self._monographs[source_key] = Monograph.objects.get(pk=self._source_keys[source_key])
        return self._monographs.get(source_key)

    def new_monograph(self, base: str, **fields) -> Monograph:
        monograph = Monograph.objects.create(slug=_free(self._monograph_slugs, base), **fields)
        self._monograph_slugs.add(monograph.slug)
        self._source_keys[monograph.source_key] = monograph.pk
        self._monographs[monograph.source_key] = monograph
        self._new.add(monograph.pk)
        return monograph

    def is_new(self, monograph: Monograph) -> bool:
        """Created by this batch: no revision of it existed before."""
        return monograph.pk in self._new

    def table_slugs(self, monograph: Monograph, slugs: list[str]) -> dict[str, str]:
        """Addresses (`/compare/<slug>/`) for the tables of a new revision of `monograph`, by the slugs its
        document gives them.  A slug is one document's own (`table-1`, or its caption's: `dosing`), and
        /compare/<slug>/ shows one table: a slug another monograph's table has already is prefixed with
        this monograph's slug (`alendronic-acid-dosing`, then `-2`…), and keeps that address in the
        monograph's later revisions.  The first monograph to use a slug keeps it."""
        chosen = {}

        def taken(address: str) -> bool:
            return bool(self._tables.get(address, set()) - {monograph.pk}) or address in chosen.values()

        for slug in slugs:
            address = free_slug(f"{monograph.slug}-{slug}".replace("_", "-"), taken) if taken(slug) else slug
            chosen[slug] = address
            self._tables.setdefault(address, set()).add(monograph.pk)
        return chosen

    def author(self, name: str) -> Author:
        slug = slugify(name) or "author"
        if slug not in self._authors:
            self._authors[slug] = Author.objects.create(slug=slug, name=name)
        return self._authors[slug]
