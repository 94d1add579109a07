"""Consistency across monographs: findings an editor-in-chief reviews before trusting the reference.

Each check returns Findings.  A finding has a `key` (what it is about: a brand name, an alias, a pair
of drugs…) and `evidence` (the facts that make it a finding); its fingerprint hashes both, so a
dismissal (ConsistencyDismissal) holds only while the evidence stays the same.

Names are matched as the search matches them: a drug's INN, brands and synonyms/former names, split
into words by the search's own tokeniser (monographs.search.words) and compared case-insensitively,
word for word.  Misspellings are left out: a recorded misspelling is a slip to correct, not a name.

The report reads a stored run (ConsistencyRun, ConsistencyFinding).  A publish does not run the checks
again: `update` rewrites what they read of the drugs it changed (ConsistencyDrug, ConsistencyName) and
replaces only the findings that depend on those drugs, each found as the full run finds it (the same
functions build each finding), so the stored run stays what a full run would find
(tests/test_consistency_incremental.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.db.models.functions import Lower
from django.urls import reverse

from .models import (
    Alias,
    BrandName,
    Comparison,
    ComparisonReview,
    ConsistencyDismissal,
    ConsistencyDrug,
    ConsistencyFinding,
    ConsistencyName,
    ConsistencyRun,
    ContentGeneration,
    Drug,
    DrugClass,
    Monograph,
    Revision,
    now,
)
from .search import STOPWORDS, stem, words
from .signals import changed_monograph_ids, chunks

# Kinds of finding, in the order the report shows them, with each group's heading.
KINDS = {
    "interaction_one_sided": "Interactions named on one side only",
    "contraindication_class_one_sided": "Contraindicated classes whose drugs do not name the drug back",
    "comparison_stale": "Comparisons to re-check",
    "brand_shared": "Brand names claimed by two drugs",
    "alias_clash": "Aliases that are another drug's name",
    "class_without_live_drug": "Classes with no live drug",
    "primary_missing": "Drugs without a live primary monograph",
}

EXCERPT = 400
PAGE_SIZE = 100  # findings on one page of the report


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str
    message: str
    evidence: tuple[str, ...]
    fixes: tuple[tuple[str, str, int], ...] = ()  # (label, admin model name, pk): where to fix it
    basis: str = field(default="", repr=False)  # hashed with the evidence, not shown (a whole section)
    review: int | None = None  # a stale comparison's ComparisonReview: a proof-reader confirms it
    order: str = field(default="", repr=False, compare=False)  # its place in the report (`_order`)
    drugs: tuple[int | None, int | None] = field(default=(None, None), repr=False, compare=False)

    @property
    def links(self) -> list[tuple[str, str]]:
        """(label, admin URL) of each place to fix it (reversed only for the findings shown)."""
        return [(label, reverse(f"admin:monographs_{model}_change", args=[pk])) for label, model, pk in self.fixes]

    @cached_property  # kept with the finding when the run is stored
    def fingerprint(self) -> str:
        data = json.dumps([self.kind, self.key, list(self.evidence), self.basis], ensure_ascii=False)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _drug_fix(drug_id: int, name: str) -> tuple[str, str, int]:
    return (f"Drug “{name}”", "drug", drug_id)


# The report's order, and what each finding depends on --------------------------------------------
#
# A publish replaces the stored findings about the drugs it changed and leaves the others in place, so a
# finding carries its place in the report (`order`) and the drugs whose change recomputes it (`drugs`).
# The order is a string whose byte order is the order of the tuple it encodes (the kind's rank, then
# names and ids): text as the hex of its UTF-8 bytes ended by "00", which sorts before any byte of text,
# and ids as fixed-width hex.  Hex digits sort alike under every collation, so the database pages through
# the stored findings in the order Python sorted the full run.

_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


def _order(kind: str, *parts: str | int) -> str:
    encoded = [f"{_RANK[kind]:x}"]
    for part in parts:
        encoded.append(f"{part:016x}" if isinstance(part, int) else part[:200].encode("utf-8").hex() + "00")
    return "".join(encoded)


# Names ------------------------------------------------------------------------------------------


def _brand_finding(folded: str, drugs: dict[int, tuple[str, str]]) -> Finding:
    """`drugs`: each claiming drug → (its name, the brand as it wrote it)."""
    ordered = sorted(drugs.items(), key=lambda item: item[1][0])
    written = ordered[0][1][1]
    return Finding(
        "brand_shared",
        f"brand:{folded}",
        f"The brand name “{written}” is claimed by {len(drugs)} drugs.",
        tuple(f"“{brand}” is a brand of {drug}" for _, (drug, brand) in ordered),
        tuple(_drug_fix(pk, drug) for pk, (drug, _) in ordered),
        order=_order("brand_shared", folded),
    )


def _brands_shared(rows) -> list[Finding]:
    """rows: (brand name, drug id, drug name); each drug's first brand (in name order) of a folded name."""
    claims = defaultdict(dict)
    for name, drug_id, drug_name in sorted(rows):
        claims[name.casefold()].setdefault(drug_id, (drug_name, name))
    found = [_brand_finding(folded, drugs) for folded, drugs in claims.items() if len(drugs) >= 2]
    return sorted(found, key=_by_order)


def brands_shared() -> list[Finding]:
    return _brands_shared(BrandName.objects.values_list("name", "drug_id", "drug__name"))


_WHAT = {"INN": 0, "brand": 1}


def _aliases_clashing(aliases, names, drug_names: dict[int, str]) -> list[Finding]:
    """aliases: (slug, name, kind, drug id); names: folded INN or brand → [(drug id, "INN" | "brand")]."""
    found = []
    for slug, name, kind, drug_id in aliases:
        drug_name = drug_names[drug_id]
        for other_id, what in names.get(name.casefold(), []):
            if other_id == drug_id:
                continue
            other_name = drug_names[other_id]
            label = Alias.Kind(kind).label
            found.append(
                Finding(
                    "alias_clash",
                    f"alias:{slug}:{other_id}:{what}",
                    f"“{name}”, a {label} of {drug_name}, is the {what} of {other_name}.",
                    (f"{drug_name}: {label} “{name}”", f"{other_name}: {what} “{name}”"),
                    (_drug_fix(drug_id, drug_name), _drug_fix(other_id, other_name)),
                    order=_order("alias_clash", drug_name, name, slug, _WHAT[what], other_name),
                    drugs=(drug_id, other_id),
                )
            )
    return sorted(found, key=_by_order)


def aliases_clashing() -> list[Finding]:
    drug_names = dict(Drug.objects.values_list("pk", "name"))
    names = defaultdict(list)  # folded name → [(drug id, "INN" | "brand")]
    for pk, name in drug_names.items():
        names[name.casefold()].append((pk, "INN"))
    for drug_id, brand in BrandName.objects.values_list("drug_id", "name"):
        names[brand.casefold()].append((drug_id, "brand"))
    aliases = Alias.objects.values_list("slug", "name", "kind", "drug_id")
    return _aliases_clashing(aliases, names, drug_names)


def _class_finding(pk: int, slug: str, name: str) -> Finding:
    return Finding(
        "class_without_live_drug",
        f"class:{slug}",
        f"The class “{name}” has no drug with a live monograph (in it or in a class within it).",
        (f"Class “{name}”: no live drug",),
        ((f"Class “{name}”", "drugclass", pk),),
        order=_order("class_without_live_drug", name),
    )


def classes_without_live_drug() -> list[Finding]:
    """A class counts as live when a drug with live content is in it or in a class nested in it."""
    public = DrugClass.objects.public_ids()
    rows = DrugClass.objects.exclude(pk__in=public).values_list("pk", "slug", "name")
    return sorted((_class_finding(*row) for row in rows), key=_by_order)


def primaries_missing(drug_ids=None) -> list[Finding]:
    drugs = Drug.objects.all() if drug_ids is None else Drug.objects.filter(pk__in=drug_ids)
    monographs = Monograph.objects.filter(is_primary=True)
    if drug_ids is not None:
        monographs = monographs.filter(drug_id__in=drug_ids)
    primaries = {drug_id: (pk, slug) for pk, slug, drug_id in monographs.values_list("pk", "slug", "drug_id")}
    live = Revision.objects.live().filter(monograph__is_primary=True)
    if drug_ids is not None:
        live = live.filter(monograph__drug_id__in=drug_ids)
    live = set(live.values_list("monograph_id", flat=True))
    findings = []
    for drug_id, slug, name in drugs.values_list("pk", "slug", "name"):
        primary = primaries.get(drug_id)
        if primary is None:
            why = f"{name} has no primary monograph."
            fixes = (_drug_fix(drug_id, name),)
        elif primary[0] not in live:
            why = f"{name}'s primary monograph “{primary[1]}” is not published."
            fixes = ((f"Monograph “{primary[1]}”", "monograph", primary[0]),)
        else:
            continue
        findings.append(
            Finding(
                "primary_missing",
                f"drug:{slug}",
                why,
                (why,),
                fixes,
                order=_order("primary_missing", name),
                drugs=(drug_id, None),
            )
        )
    return sorted(findings, key=_by_order)


# Interactions -----------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"[*_`]+")
_MARKUP = re.compile(r"[>|]+")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
_TOKEN = re.compile(r"\w+")  # a word as search.words splits them, with its place in the text


def interaction_section(body: str, word: str = "interaction") -> str | None:
    """The text under the body's Markdown headings that contain `word` (to the next heading of the same
    or a higher level); None when there is no such heading."""
    parts, level = [], None
    found = False
    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            depth = len(heading.group(1))
            if level is not None and depth <= level:
                level = None
            if level is None and word in heading.group(2).casefold():
                level, found = depth, True
                continue
        if level is not None:
            parts.append(line)
    return "\n".join(parts).strip() if found else None


def sentences(text: str) -> list[str]:
    plain = _MARKUP.sub(" ", _EMPHASIS.sub("", _LINK.sub(r"\1", text)))
    return [" ".join(s.split()) for s in _SENTENCE_END.split(plain) if s.strip(" -–—.")]


class NameIndex:
    """Every drug's names (INN, brands, synonyms and former names) as sequences of search words.

    `NameIndex.for_texts(texts)` holds only the names those texts could contain, read by an indexed
    lookup of each phrase of up to NAME_WORDS words (as written, and as its words): what a publish
    reads to find the drugs a comparison's cells name, a few rows whatever the size of the reference.
    A name written in a cell with other punctuation than its record's ("co trimoxazole" for
    "co-trimoxazole") is found by the whole index but not by this one."""

    NAME_WORDS = 5

    def __init__(self, rows=None):
        self.names: dict[tuple[str, ...], set[int]] = defaultdict(set)
        if rows is None:
            self.drugs: dict[int, str] = dict(Drug.objects.values_list("pk", "name"))
            rows = [
                *((pk, name) for pk, name in self.drugs.items()),
                *BrandName.objects.values_list("drug_id", "name"),
                *Alias.objects.exclude(kind=Alias.Kind.MISSPELLING).values_list("drug_id", "name"),
            ]
        else:
            self.drugs = {}
        for drug_id, name in rows:
            key = tuple(words(name))
            if key:
                self.names[key].add(drug_id)
        self.longest = max((len(key) for key in self.names), default=0)
        self.first = {key[0] for key in self.names}

    @classmethod
    def for_texts(cls, texts) -> NameIndex:
        phrases = set()
        for text in texts:
            spans = [(m.start(), m.end(), m.group().casefold()) for m in _TOKEN.finditer(text)]
            for i in range(len(spans)):
                for j in range(i, min(i + cls.NAME_WORDS, len(spans))):
                    phrases.add(text[spans[i][0] : spans[j][1]].lower())
                    phrases.add(" ".join(word for _, _, word in spans[i : j + 1]))
        rows, phrases = [], sorted(phrases)
        for start in range(0, len(phrases), 500):  # under every database's limit of query parameters
            chunk = phrases[start : start + 500]
            for id_field, names in (
                ("pk", Drug.objects),
                ("drug_id", BrandName.objects),
                ("drug_id", Alias.objects.exclude(kind=Alias.Kind.MISSPELLING)),
            ):
                found = names.annotate(folded=Lower("name")).filter(folded__in=chunk)
                rows += found.values_list(id_field, "name")
        return cls(rows)

    def named_in(self, text: str) -> set[int]:
        found, tokens = set(), words(text)
        for start, token in enumerate(tokens):
            if token not in self.first:  # most words start no name: one set lookup each
                continue
            for length in range(1, min(self.longest, len(tokens) - start) + 1):
                drugs = self.names.get(tuple(tokens[start : start + length]))
                if drugs:
                    found |= drugs
        return found


@dataclass
class Facts:
    """What the checks read of one drug: its name, its live primary monograph (None when it has none),
    that monograph's Interactions and Contraindications sections (None when it has no such heading) and
    its classes.  Kept as ConsistencyDrug rows so that a publish reads only the changed drugs' bodies."""

    drug: int
    name: str
    monograph: int | None = None
    interactions: str | None = None
    contraindications: str | None = None
    classes: list[int] = field(default_factory=list)

    @property
    def other_side(self) -> str:
        """Its Interactions and Contraindications, as the class check reads the drug named back."""
        return "\n".join(part for part in (self.interactions, self.contraindications) if part)


def drug_facts(drug_ids=None) -> dict[int, Facts]:
    """Facts of every drug, or of those ids (from the live tables)."""
    drugs = Drug.objects.all() if drug_ids is None else Drug.objects.filter(pk__in=drug_ids)
    facts = {pk: Facts(pk, name) for pk, name in drugs.values_list("pk", "name")}
    live = Revision.objects.live().filter(monograph__is_primary=True)
    memberships = Drug.classes.through.objects.all()
    if drug_ids is not None:
        live, memberships = live.filter(monograph__drug_id__in=drug_ids), memberships.filter(drug_id__in=drug_ids)
    for drug_id, monograph_id, body in live.values_list("monograph__drug_id", "monograph_id", "body").iterator():
        if drug_id in facts:
            fact = facts[drug_id]
            fact.monograph = monograph_id
            fact.interactions = interaction_section(body or "")
            fact.contraindications = interaction_section(body or "", "contraindication")
    for drug_id, class_id in memberships.order_by("drugclass_id").values_list("drug_id", "drugclass_id"):
        if drug_id in facts:
            facts[drug_id].classes.append(class_id)
    return facts


def _phrases(text: str | None, word=lambda w: w) -> str:
    """Each sentence of `text` as its search words (or stems), “ | ” between sentences, a space at each
    end: a name or class written in a sentence is then a `LIKE '% w1 w2 %'` of it, in any database."""
    if not text:
        return ""
    return " " + " | ".join(" ".join(word(w) for w in words(s)) for s in sentences(text)) + " "


def _facts_row(fact: Facts, classes: Classes) -> ConsistencyDrug:
    return ConsistencyDrug(
        drug_id=fact.drug,
        name=fact.name,
        monograph_id=fact.monograph,
        interactions=fact.interactions,
        contraindications=fact.contraindications,
        interaction_words=_phrases(fact.interactions),
        contraindication_stems=_phrases(fact.contraindications, stem),
        classes=fact.classes,
        around=sorted(classes.around(fact.classes)),
    )


def _stored_facts(rows) -> dict[int, Facts]:
    return {
        row.drug_id: Facts(
            row.drug_id, row.name, row.monograph_id, row.interactions, row.contraindications, list(row.classes)
        )
        for row in rows
    }


def name_rows(drug_ids=None) -> list[ConsistencyName]:
    """Every name of every drug (or of those ids) as the checks match them, from the live tables."""
    drugs, brands, aliases = Drug.objects.all(), BrandName.objects.all(), Alias.objects.all()
    if drug_ids is not None:
        drugs, brands = drugs.filter(pk__in=drug_ids), brands.filter(drug_id__in=drug_ids)
        aliases = aliases.filter(drug_id__in=drug_ids)
    rows = [
        *((pk, "inn", name, "") for pk, name in drugs.values_list("pk", "name")),
        *((pk, "brand", name, "") for pk, name in brands.values_list("drug_id", "name")),
        *aliases.values_list("drug_id", "kind", "name", "slug"),
    ]
    found = []
    for drug_id, kind, name, slug in rows:
        key = words(name)
        found.append(
            ConsistencyName(
                drug_id=drug_id,
                kind=kind,
                name=name,
                slug=slug,
                folded=name.casefold(),
                words=" ".join(key),
                size=len(key),
            )
        )
    return found


_MATCHED = ("inn", "brand", Alias.Kind.SYNONYM, Alias.Kind.FORMER)  # a misspelling is a slip, not a name


def _index(rows) -> NameIndex:
    return NameIndex([(row.drug_id, row.name) for row in rows if row.kind in _MATCHED])


def _stored_index(texts) -> NameIndex:
    """The stored names that `texts` could contain: each phrase of the texts' words, up to the longest
    name, looked up word for word (exactly what NameIndex.named_in matches, whatever the punctuation)."""
    longest = ConsistencyName.objects.aggregate(longest=Max("size"))["longest"] or 0
    phrases = set()
    for text in texts:
        tokens = words(text or "")
        for i in range(len(tokens)):
            for j in range(i + 1, min(i + longest, len(tokens)) + 1):
                phrases.add(" ".join(tokens[i:j]))
    rows, phrases = [], sorted(phrases)
    for start in range(0, len(phrases), 500):  # under every database's limit of query parameters
        found = ConsistencyName.objects.filter(words__in=phrases[start : start + 500], kind__in=_MATCHED)
        rows += found.only("drug_id", "kind", "name")
    return _index(rows)


def _by_order(finding: Finding) -> str:
    return finding.order


def _naming(section: str, index: NameIndex, a: int, only: int | None = None) -> dict[int, list[str]]:
    """The drugs a section's sentences name (all, or only `only`), each with its sentences in order."""
    naming = defaultdict(list)
    for sentence in sentences(section):
        for b in index.named_in(sentence) - {a}:
            if only is None or b == only:
                naming[b].append(sentence)
    return naming


def _interaction_finding(a: Facts, b: Facts, naming: list[str], names_back: bool) -> Finding | None:
    """A's Interactions section names B in the sentences `naming`; `names_back`: B's names A."""
    if b.monograph is None or names_back:
        return None
    other = b.interactions
    if other:
        other_side = f"{b.name}'s Interactions section: " + (other if len(other) <= EXCERPT else other[:EXCERPT] + "…")
    else:
        other_side = f"{b.name}'s live monograph has no Interactions section."
    return Finding(
        "interaction_one_sided",
        f"interaction:{a.drug}:{b.drug}",
        f"{a.name}'s Interactions section names {b.name}; {b.name}'s does not name {a.name}.",
        (*(f"{a.name}: {sentence}" for sentence in naming), other_side),
        (
            (f"{b.name}'s monograph", "monograph", b.monograph),
            (f"{a.name}'s monograph", "monograph", a.monograph),
        ),
        basis=other or "",
        order=_order("interaction_one_sided", a.name, b.name),
        drugs=(a.drug, b.drug),
    )


def interactions_one_sided(facts: dict[int, Facts] | None = None, index: NameIndex | None = None) -> list[Finding]:
    """Drug A's Interactions section names drug B, and B's live primary monograph's Interactions
    section does not name A (or B's has none).  Drugs without a live primary monograph are left to
    `primaries_missing`."""
    facts = drug_facts() if facts is None else facts
    index = _index(name_rows()) if index is None else index
    named = {pk: index.named_in(fact.interactions) for pk, fact in facts.items() if fact.interactions}
    found = []
    for a, fact in facts.items():
        if not fact.interactions:
            continue
        for b, naming in _naming(fact.interactions, index, a).items():
            other = facts.get(b)  # None only for a drug added while the run read the names
            finding = other and _interaction_finding(fact, other, naming, a in named.get(b, ()))
            if finding:
                found.append(finding)
    return sorted(found, key=_by_order)


class Classes:
    """The class tree and each class's name as the Contraindications check matches it (its words'
    stems).  A small table, read whole."""

    def __init__(self):
        self.names, self.slugs, self.parent = {}, {}, {}
        self.children = defaultdict(list)
        for pk, name, slug, parent in DrugClass.objects.values_list("pk", "name", "slug", "parent_id"):
            self.names[pk], self.slugs[pk], self.parent[pk] = name, slug, parent
            self.children[parent].append(pk)
        self.keys = {tuple(stem(w) for w in words(name)): pk for pk, name in self.names.items()}
        self.longest = max((len(key) for key in self.keys), default=0)

    def within(self, class_id: int) -> set[int]:
        """The class and every class nested in it."""
        found, todo = set(), [class_id]
        while todo:
            pk = todo.pop()
            if pk not in found:
                found.add(pk)
                todo += self.children[pk]
        return found

    def around(self, class_ids) -> set[int]:
        """The classes and every class they are nested in."""
        found = set()
        for pk in class_ids:
            while pk is not None and pk not in found and pk in self.names:
                found.add(pk)
                pk = self.parent[pk]
        return found

    def named_in(self, section: str) -> dict[int, list[str]]:
        """class id → the sentences of `section` that name it."""
        naming = defaultdict(list)
        for sentence in sentences(section):
            stems = [stem(w) for w in words(sentence)]
            for i in range(len(stems)):
                for n in range(1, min(self.longest, len(stems) - i) + 1):
                    if tuple(stems[i : i + n]) in self.keys:
                        naming[self.keys[tuple(stems[i : i + n])]].append(sentence)
        return naming


def _contraindication_finding(a: Facts, class_id: int, classes: Classes, b: Facts, naming, names_back) -> Finding:
    text = b.other_side
    name_c = classes.names[class_id]
    if text:
        other_side = f"{b.name}'s Interactions and Contraindications: " + (
            text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
        )
    else:
        other_side = f"{b.name}'s live monograph has no Interactions or Contraindications section."
    return Finding(
        "contraindication_class_one_sided",
        f"contraindication:{a.drug}:{class_id}:{b.drug}",
        f"{a.name}'s Contraindications name the class {name_c}; {b.name}, in that class, does not name {a.name}.",
        (*(f"{a.name}: {sentence}" for sentence in dict.fromkeys(naming)), other_side),
        (
            (f"{b.name}'s monograph", "monograph", b.monograph),
            (f"{a.name}'s monograph", "monograph", a.monograph),
        ),
        basis=text,
        order=_order("contraindication_class_one_sided", a.name, name_c, b.name),
        drugs=(a.drug, b.drug),
    )


def contraindicated_classes_one_sided(facts: dict[int, Facts] | None = None, index=None) -> list[Finding]:
    """Drug A's Contraindications section names a class (its name word for word, plural or singular):
    each drug B in that class, or in a class within it, whose live primary monograph names A in neither
    its Interactions nor its Contraindications section is a finding."""
    facts = drug_facts() if facts is None else facts
    index = _index(name_rows()) if index is None else index
    classes = Classes()
    members = defaultdict(set)
    for pk, fact in facts.items():
        for class_id in fact.classes:
            members[class_id].add(pk)
    named_back: dict[int, set[int]] = {}
    found = []
    for a, fact in facts.items():
        if not fact.contraindications:
            continue
        for class_id, naming in classes.named_in(fact.contraindications).items():
            for b in set().union(*(members[c] for c in classes.within(class_id))) - {a}:
                other = facts[b]
                if other.monograph is None:
                    continue
                if b not in named_back:
                    named_back[b] = index.named_in(other.other_side)
                if a not in named_back[b]:
                    found.append(_contraindication_finding(fact, class_id, classes, other, naming, False))
    return sorted(found, key=_by_order)


# Stale comparisons ------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?(?:\s*(?:mg|mcg|µg|g|ml|mL|%|IU|units?|hours?|h|days?|weeks?|months?|years?)\b)?")


def record_reviews(monographs, index: NameIndex | None = None) -> None:
    """The live comparisons of `monographs` (ids, one chunk) were proof-read with their live revisions:
    each drug a comparison names — as a column, or in its cells' text (by INN, brand or alias, matched as
    NameIndex matches) — is recorded as checked against that drug's live primary revision (kept when
    already recorded).  A few queries for the whole chunk: an import records thousands at once."""
    revisions = Revision.objects.live().filter(monograph_id__in=list(monographs), comparisons__isnull=False)
    comparisons = list(
        Comparison.objects.filter(revision__in=revisions.values("pk"))
        .order_by("pk")
        .prefetch_related("subjects__cells")
    )
    if not comparisons:
        return
    cells = {c.pk: [cell.text for s in c.subjects.all() for cell in s.cells.all() if cell.text] for c in comparisons}
    if index is None and any(cells.values()):
        index = NameIndex.for_texts(text for texts in cells.values() for text in texts)
    named = {}
    for comparison in comparisons:
        named[comparison.pk] = {subject.drug_id for subject in comparison.subjects.all() if subject.drug_id is not None}
        for text in cells[comparison.pk]:
            named[comparison.pk] |= index.named_in(text)
    drug_ids = set().union(*named.values())
    live = dict(
        Revision.objects.live()
        .filter(monograph__drug_id__in=drug_ids, monograph__is_primary=True)
        .values_list("monograph__drug_id", "pk")
    )
    recorded = set(ComparisonReview.objects.filter(comparison__in=comparisons).values_list("comparison_id", "drug_id"))
    ComparisonReview.objects.bulk_create(
        [
            ComparisonReview(comparison_id=comparison_id, drug_id=drug_id, against_id=live.get(drug_id))
            for comparison_id, drugs in named.items()
            for drug_id in sorted(drugs)
            if (comparison_id, drug_id) not in recorded
        ],
        ignore_conflicts=True,  # another process recorded the same pair meanwhile: the first record stands
    )


def record_all_reviews() -> None:
    index = NameIndex()  # read once for every comparison
    with_comparisons = Revision.objects.live().filter(comparisons__isnull=False).values_list("monograph_id", flat=True)
    for chunk in chunks(sorted(set(with_comparisons))):
        record_reviews(chunk, index)


def _covers(label: str, heading: str) -> bool:
    """Whether a section heading is about a comparison row: they share a word, or a word's stem but
    for its last letter (“Dose” and “Dosage”)."""
    row = [w for w in words(label) if len(w) >= 3 and w not in STOPWORDS]
    head = [w for w in words(heading) if len(w) >= 3]
    return any(_alike(stem(a), stem(b)) for a in row for b in head)


def _alike(a: str, b: str) -> bool:
    shared = len(os.path.commonprefix([a, b]))
    return shared >= max(3, min(len(a), len(b)) - 1)


def _numbers_by_section(body: str, labels: list[str]) -> dict[str, list[str]]:
    """The numbers (with their units) in each section whose heading a row label covers, by label."""
    found: dict[str, list[str]] = defaultdict(list)
    current: list[str] = []
    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = [label for label in labels if _covers(label, heading.group(2))]
            continue
        for label in current:
            found[label] += [" ".join(n.split()) for n in _NUMBER.findall(line)]
    return found


def comparisons_stale(drug_ids=None, review_ids=None) -> list[Finding]:
    """A live comparison naming drug X (as a column or in its cells), reviewed against an earlier live
    revision of X's primary monograph whose numbers, in the sections the comparison's rows cover, have
    changed since.  All of them; or those naming one of `drug_ids` or made in one of those drugs'
    monographs; or those of `review_ids`."""
    reviews = ComparisonReview.objects.filter(
        comparison__revision__status=Revision.Status.PUBLISHED, against__isnull=False
    )
    live = Revision.objects.live().filter(monograph__is_primary=True)
    if drug_ids is not None:  # two indexed look-ups: an OR across the joins would read every review
        ids = set(ComparisonReview.objects.filter(drug_id__in=drug_ids).values_list("pk", flat=True))
        made_in = ComparisonReview.objects.filter(comparison__revision__monograph__drug_id__in=drug_ids)
        reviews = reviews.filter(pk__in=ids | set(made_in.values_list("pk", flat=True)))
    if review_ids is not None:
        reviews = reviews.filter(pk__in=review_ids)
    reviews = list(
        reviews.select_related("comparison__revision__monograph", "drug", "against").prefetch_related(
            "comparison__attributes", "comparison__subjects"
        )
    )
    if drug_ids is not None or review_ids is not None:
        live = live.filter(monograph__drug_id__in={review.drug_id for review in reviews})
    live = dict(live.values_list("monograph__drug_id", "pk"))
    findings = []
    for review in reviews:
        now_live = live.get(review.drug_id)
        if now_live is None or now_live == review.against_id:
            continue
        labels = [attribute.label for attribute in review.comparison.attributes.all()]
        current = Revision.objects.only("body", "number").get(pk=now_live)
        before = _numbers_by_section(review.against.body, labels)
        after = _numbers_by_section(current.body, labels)
        changes = tuple(
            f"{label}: was {', '.join(before[label]) or 'none'}; now {', '.join(after[label]) or 'none'}"
            for label in labels
            if before[label] != after[label]
        )
        if not changes:
            continue
        comparison, drug = review.comparison, review.drug
        column = any(subject.drug_id == drug.pk for subject in comparison.subjects.all())
        findings.append(
            Finding(
                "comparison_stale",
                f"comparison:{review.pk}:{now_live}",
                f"“{comparison.caption}”{'' if column else f' names {drug.name} in its cells and'} was checked "
                f"against {drug.name} r{review.against.number}; r{current.number} changed numbers it covers: "
                "re-check it.",
                changes,
                (
                    (
                        f"{comparison.revision.monograph.slug} (the comparison)",
                        "monograph",
                        comparison.revision.monograph_id,
                    ),
                ),
                review=review.pk,
                order=_order("comparison_stale", comparison.caption, drug.name, review.pk),
                drugs=(review.drug_id, comparison.revision.monograph.drug_id),
            )
        )
    return sorted(findings, key=_by_order)


class ConfirmError(Exception):
    pass


def confirm_comparison(review_pk: int, user) -> ComparisonReview:
    """A proof-reader has re-checked the comparison against the drug's live revision: recorded."""
    if not user.has_perm("monographs.review_revision"):
        raise ConfirmError("Only proof-readers confirm that a comparison has been re-checked.")
    review = ComparisonReview.objects.select_related("drug").filter(pk=review_pk).first()
    live = (
        Revision.objects.live()
        .filter(monograph__drug_id=getattr(review, "drug_id", None), monograph__is_primary=True)
        .first()
    )
    if review is None or live is None:
        raise ConfirmError("That comparison or its drug's live monograph no longer exists.")
    review.against, review.confirmed_by, review.confirmed_at = live, user, now()
    with transaction.atomic():
        review.save(update_fields=["against", "confirmed_by", "confirmed_at"])
        _one_update_at_a_time()
        run = _current_run()
        if run is None:
            forget()
        else:  # only this comparison's finding changes: replaced in the stored run
            ConsistencyFinding.objects.filter(kind="comparison_stale", review=review.pk).delete()
            ConsistencyFinding.objects.bulk_create([_row(f) for f in comparisons_stale(review_ids=[review.pk])])
            _updated(run, moves_on=False)
    return review


# The report -------------------------------------------------------------------------------------


def findings() -> list[Finding]:
    """Every check over the whole reference, in the report's order (KINDS, then each kind's own)."""
    return _full()[0]


def _full() -> tuple[list[Finding], dict[int, Facts], list[ConsistencyName]]:
    facts, names = drug_facts(), name_rows()
    index = _index(names)
    found = [
        *interactions_one_sided(facts, index),
        *contraindicated_classes_one_sided(facts, index),
        *comparisons_stale(),
        *brands_shared(),
        *aliases_clashing(),
        *classes_without_live_drug(),
        *primaries_missing(),
    ]
    return sorted(found, key=_by_order), facts, names


# The findings of the last run, shared by the dashboard and the report: every check reads every live
# monograph, too much for each dashboard view or each page of the report.  A run is stored in the
# database (ConsistencyRun, ConsistencyFinding), so a page reads its own findings only.  A change that is
# announced (monographs.signals.content_changed: a publish, an unpublish, an approved proposal, an import)
# updates the stored findings about the drugs it names in its own transaction (`update`), so the next page
# still reads stored rows only.  The whole run is made again when there is none, when it was made by other
# checks (CHECKS_VERSION), when an announcement names more than INCREMENTAL_LIMIT drugs, when a change
# moved the content generation on without updating it, and RUN_SECONDS after it was made (changes that
# announce nothing: a class added or renamed in the admin).  Dismissing always checks against a fresh run.
RUN_SECONDS = 5 * 60
CHECKS_VERSION = 1  # move on when a check changes what it finds: stored runs are then made again
# Drugs: an announcement of more (an import batch, a class's drugs) drops the run instead.  An update costs
# some 30 ms a drug and holds the content generation's row lock meanwhile (`_one_update_at_a_time`).
INCREMENTAL_LIMIT = 50


def _current_run() -> ConsistencyRun | None:
    run = ConsistencyRun.objects.order_by("-pk").first()
    if (
        run is None
        or run.version != CHECKS_VERSION
        or run.generation != ContentGeneration.value()
        or now() - run.ran_at > dt.timedelta(seconds=RUN_SECONDS)
    ):
        return None
    return run


def _row(f: Finding) -> ConsistencyFinding:
    return ConsistencyFinding(
        sort=f.order,
        drug_a=f.drugs[0],
        drug_b=f.drugs[1],
        kind=f.kind,
        key=f.key[:500],
        fingerprint=f.fingerprint,
        message=f.message,
        evidence=list(f.evidence),
        fixes=[list(fix) for fix in f.fixes],
        review=f.review,
    )


def run_and_store() -> list[Finding]:
    """Run every check and store the run (replacing the last one), with what the checks read of each drug
    (ConsistencyDrug, ConsistencyName) for the publishes that update it."""
    generation = ContentGeneration.value()  # before reading: a change made meanwhile makes the run stale
    found, facts, names = _full()
    try:
        with transaction.atomic():
            ConsistencyRun.objects.all().delete()
            ConsistencyFinding.objects.all().delete()
            ConsistencyDrug.objects.all().delete()
            ConsistencyName.objects.all().delete()
            classes = Classes()
            ConsistencyDrug.objects.bulk_create([_facts_row(f, classes) for f in facts.values()], batch_size=500)
            ConsistencyName.objects.bulk_create(names, batch_size=1000)
            ConsistencyFinding.objects.bulk_create([_row(f) for f in found], batch_size=1000)
            ConsistencyRun.objects.create(generation=generation, findings=len(found), version=CHECKS_VERSION)
    except IntegrityError:  # another process stored its run at the same moment: theirs is as good
        pass
    return found


def _sections_mentioning(field: str, phrases, changed) -> list:
    """The stored facts of the drugs (other than `changed`) whose words in `field` hold any of `phrases`,
    each written as the words are stored: space-separated, with a space either side."""
    mentions = Q()
    for phrase in phrases:
        mentions |= Q(**{f"{field}__contains": f" {phrase} "})
    return list(_stored_facts(ConsistencyDrug.objects.filter(mentions).exclude(drug_id__in=changed)).values())


def _scoped(changed: set[int], classes: Classes, was_in: set[int], old_brands: set[str]) -> tuple[list[Finding], Q]:
    """The findings of a full run that are about the `changed` drugs (whose derived rows are already
    rewritten; `was_in`: the classes they were in before, `old_brands`: their folded brands), and which stored rows
    they replace: those about the changed drugs, the brand names they had or have, the classes they were
    or are in.  A finding about other drugs only is left as it is: each check's finding depends on the
    drugs it records (drug_a, drug_b), a shared brand on the drugs claiming it, a class on its drugs.

    Finding the unchanged drugs that name a changed drug — whose names may be new — reads the stored
    sentences as search words (ConsistencyDrug.interaction_words: `LIKE '% name words %'`), then checks
    each candidate as the full run does; a stored table of who names whom would have to be rebuilt for
    every drug whenever a name is added.  Search's own index holds whole bodies and may be stemmed or
    weighted: it cannot say which words are in a section's sentence."""
    facts = _stored_facts(ConsistencyDrug.objects.filter(drug_id__in=changed))
    names = defaultdict(list)
    for row in ConsistencyName.objects.filter(drug_id__in=changed):
        names[row.drug_id].append(row)
    need: dict[int, Facts] = dict(facts)

    def fact(pk: int) -> Facts | None:
        if pk not in need:
            need.update(_stored_facts(ConsistencyDrug.objects.filter(drug_id=pk)))
        return need.get(pk)

    index_of: dict[int, NameIndex] = {pk: _index(rows) for pk, rows in names.items()}

    def names_back(a: int, text: str | None) -> bool:
        """Whether `text` names drug a (by a's names only: exactly what the whole index says of a)."""
        if not text:
            return False
        if a not in index_of:
            index_of[a] = _index(ConsistencyName.objects.filter(drug_id=a))
        return a in index_of[a].named_in(text)

    found: list[Finding] = []
    # Interactions: A changed (every drug its section names), or B changed (every section naming B now).
    for a in sorted(changed):
        fa = facts.get(a)
        if fa is None or not fa.interactions:
            continue
        index = _stored_index([fa.interactions, *sentences(fa.interactions)])
        for b, naming in _naming(fa.interactions, index, a).items():
            fb = fact(b)
            if fb is not None and (finding := _interaction_finding(fa, fb, naming, names_back(a, fb.interactions))):
                found.append(finding)
    for b in sorted(changed):
        fb = facts.get(b)
        keys = {row.words for row in names.get(b, ()) if row.kind in _MATCHED and row.words}
        if fb is None or fb.monograph is None or not keys:
            continue
        for fa in _sections_mentioning("interaction_words", keys, changed):
            naming = _naming(fa.interactions or "", index_of[b], fa.drug, only=b).get(b)
            if naming and (finding := _interaction_finding(fa, fb, naming, names_back(fa.drug, fb.interactions))):
                found.append(finding)

    # Contraindications: A changed (every drug of each class it names), or B changed (every section naming
    # a class B is in, or a class around one).
    for a in sorted(changed):
        fa = facts.get(a)
        if fa is None or not fa.contraindications:
            continue
        for class_id, naming in classes.named_in(fa.contraindications).items():
            within = classes.within(class_id)
            members = set(
                Drug.classes.through.objects.filter(drugclass_id__in=within).values_list("drug_id", flat=True)
            )
            for b in sorted(members - {a}):
                fb = fact(b)
                if fb is not None and fb.monograph is not None and not names_back(a, fb.other_side):
                    found.append(_contraindication_finding(fa, class_id, classes, fb, naming, False))
    for b in sorted(changed):
        fb = facts.get(b)
        if fb is None or fb.monograph is None:
            continue
        around = classes.around(fb.classes)
        keys = [key for key, pk in classes.keys.items() if pk in around and key]
        if not keys:
            continue
        for fa in _sections_mentioning("contraindication_stems", [" ".join(key) for key in keys], changed):
            for class_id, naming in classes.named_in(fa.contraindications or "").items():
                if class_id in around and not names_back(fa.drug, fb.other_side):
                    found.append(_contraindication_finding(fa, class_id, classes, fb, naming, False))

    found += comparisons_stale(drug_ids=changed)

    # Brand names the changed drugs had or have: every drug claiming each, afresh.
    brands = old_brands | {row.folded for rows in names.values() for row in rows if row.kind == "brand"}
    claims = ConsistencyName.objects.filter(kind="brand", folded__in=brands)
    claimants = {row.drug_id for row in claims}
    drug_names = dict(ConsistencyDrug.objects.filter(drug_id__in=claimants).values_list("drug_id", "name"))
    found += _brands_shared((row.name, row.drug_id, drug_names[row.drug_id]) for row in claims)

    # Aliases of the changed drugs, and aliases equal to a changed drug's INN or brand.
    own = [row for rows in names.values() for row in rows]
    clash = ConsistencyName.objects.exclude(kind__in=("inn", "brand"))
    aliases = {row.pk: row for row in own if row.kind not in ("inn", "brand")}
    aliases.update(
        (row.pk, row) for row in clash.filter(folded__in={row.folded for row in own if row.kind in ("inn", "brand")})
    )
    others = ConsistencyName.objects.filter(kind__in=("inn", "brand"), folded__in={a.folded for a in aliases.values()})
    by_name = defaultdict(list)
    for row in sorted(others, key=lambda row: (row.kind != "inn", row.pk)):
        by_name[row.folded].append((row.drug_id, "INN" if row.kind == "inn" else "brand"))
    involved = {row.drug_id for row in aliases.values()} | {row.drug_id for row in others}
    drug_names = dict(ConsistencyDrug.objects.filter(drug_id__in=involved).values_list("drug_id", "name"))
    rows = [(row.slug, row.name, row.kind, row.drug_id) for row in aliases.values()]
    found += [f for f in _aliases_clashing(rows, by_name, drug_names) if set(f.drugs) & changed]

    # Classes the changed drugs were or are in, and the classes around them.
    touched = (was_in | classes.around({pk for f in facts.values() for pk in f.classes})) & set(classes.names)
    for class_id in sorted(touched):
        within = classes.within(class_id)
        if not Drug.objects.with_live_content().filter(classes__in=within).exists():
            found.append(_class_finding(class_id, classes.slugs[class_id], classes.names[class_id]))

    found += primaries_missing(changed)
    replaced = (
        Q(drug_a__in=changed)
        | Q(drug_b__in=changed)
        | Q(kind="brand_shared", key__in=[f"brand:{folded}"[:500] for folded in brands])
        | Q(kind="class_without_live_drug", key__in=[f"class:{classes.slugs[pk]}" for pk in touched])
    )
    return found, replaced


def update(drug_ids) -> None:
    """Bring the stored run up to date with a change to these drugs (their names, classes, monographs),
    in the caller's transaction: their derived rows are rewritten from the live tables, the findings about
    them replaced, and the other findings left in place."""
    changed = set(drug_ids)
    # The classes they were in (and those around them, as the tree was): a class they left may be empty now.
    was_in = {pk for row in ConsistencyDrug.objects.filter(drug_id__in=changed) for pk in row.around}
    old_brands = set(ConsistencyName.objects.filter(drug_id__in=changed, kind="brand").values_list("folded", flat=True))
    ConsistencyDrug.objects.filter(drug_id__in=changed).delete()
    ConsistencyName.objects.filter(drug_id__in=changed).delete()
    classes = Classes()
    ConsistencyDrug.objects.bulk_create([_facts_row(fact, classes) for fact in drug_facts(changed).values()])
    ConsistencyName.objects.bulk_create(name_rows(changed))
    found, replaced = _scoped(changed, classes, was_in, old_brands)
    ConsistencyFinding.objects.filter(replaced).delete()
    ConsistencyFinding.objects.bulk_create([_row(f) for f in found], batch_size=1000)


def _finding(row: ConsistencyFinding) -> Finding:
    finding = Finding(
        row.kind,
        row.key,
        row.message,
        tuple(row.evidence),
        tuple(tuple(fix) for fix in row.fixes),
        review=row.review,
        order=row.sort,
        drugs=(row.drug_a, row.drug_b),
    )
    finding.__dict__["fingerprint"] = row.fingerprint  # stored with it (the basis it hashes is not)
    return finding


def cached_findings() -> list[Finding]:
    """Every finding of the stored run, running the checks when it is stale."""
    if _current_run() is None:
        return run_and_store()
    return [_finding(row) for row in ConsistencyFinding.objects.order_by("sort", "pk")]


def stored_open_count() -> int | None:
    """The number of findings not dismissed, from the stored run; None when there is none (the dashboard
    never runs the checks itself: at 20,000 monographs a run takes many seconds)."""
    if _current_run() is None:
        return None
    dismissed = ConsistencyDismissal.objects.values("fingerprint")
    return ConsistencyFinding.objects.exclude(fingerprint__in=dismissed).count()


def forget() -> None:
    ConsistencyRun.objects.all().delete()  # one row: the findings stay until the next run replaces them


def _one_update_at_a_time() -> None:
    """Lock the content generation's row (PostgreSQL; SQLite has one writer at a time anyway) before the
    stored run is read: two publishes then update it one after the other, the second reading the first's
    committed run.  It is the row the announcement locks next in any case (ContentGeneration.move_on);
    taking it first, before any finding row, keeps one order of locks even in a transaction that
    announces twice (workflow.retire_drug), so updates never deadlock each other."""
    if connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {ContentGeneration.table} WHERE id = 1 FOR UPDATE")  # noqa: S608


def _updated(run: ConsistencyRun, moves_on: bool) -> None:
    """The stored run now agrees with the change: current again once the generation has moved on.  Only
    when no other transaction touched the run meanwhile (else the generations differ: a whole run)."""
    step = 1 if moves_on else 0
    ConsistencyRun.objects.filter(pk=run.pk, generation=run.generation).update(
        generation=run.generation + step, findings=ConsistencyFinding.objects.count()
    )


def on_content_changed(sender, monographs=(), drugs=(), generation=True, **kwargs) -> None:
    """Receiver of monographs.signals.content_changed: record what the newly live comparisons were checked
    against, then update the stored findings about the drugs the change names (before the announcement
    moves the generation on, in the same transaction).  Without a current stored run, or for an import of
    many drugs, drop it instead: now and, since a request may store it again before the change commits,
    once more when it does."""
    for chunk in chunks(changed_monograph_ids(monographs, drugs)):
        record_reviews(chunk)
    changed = {monograph.drug_id for monograph in monographs} | {drug.pk for drug in drugs}
    changed.discard(None)
    if len(changed) <= INCREMENTAL_LIMIT:
        _one_update_at_a_time()
    run = _current_run()
    if run is not None and len(changed) <= INCREMENTAL_LIMIT:
        if changed:
            update(changed)
        _updated(run, generation)
        return
    forget()
    transaction.on_commit(forget)


@dataclass
class Report:
    rows: list[tuple[Finding, ConsistencyDismissal | None]]  # in the order of KINDS

    @cached_property
    def open(self) -> list[Finding]:
        return [finding for finding, dismissal in self.rows if dismissal is None]

    @cached_property
    def dismissed(self) -> list[tuple[Finding, ConsistencyDismissal]]:
        return [(f, d) for f, d in self.rows if d is not None]

    @cached_property
    def counts(self) -> list[tuple[str, str, int, int]]:
        """(kind, heading, open, dismissed) for each kind with findings."""
        tally = defaultdict(lambda: [0, 0])
        for finding, dismissal in self.rows:
            tally[finding.kind][dismissal is not None] += 1
        return [(kind, heading, *tally[kind]) for kind, heading in KINDS.items() if kind in tally]


def _dismissals(fingerprints=None) -> dict[str, ConsistencyDismissal]:
    # Dismissals are made by hand, one at a time: few beside the findings.
    found = ConsistencyDismissal.objects.select_related("dismissed_by")
    if fingerprints is not None:
        found = found.filter(fingerprint__in=list(fingerprints))
    return {d.fingerprint: d for d in found}


def report(cached: bool = False) -> Report:
    """Every finding in the order of KINDS, each with the dismissal that matches its evidence (if any)."""
    found = cached_findings() if cached else findings()
    dismissals = _dismissals()
    return Report([(finding, dismissals.get(finding.fingerprint)) for finding in found])  # KINDS' order


@dataclass
class ReportPage:
    """One page of the stored run: what /admin/consistency/ shows, read by the database a page at a time."""

    page: Page  # its object_list: (Finding, ConsistencyDismissal | None) in the order of KINDS
    counts: list[tuple[str, str, int, int]]  # (kind, heading, open, dismissed) for each kind with findings

    @property
    def open_count(self) -> int:
        return sum(open_ for _, _, open_, _ in self.counts)

    @property
    def dismissed_count(self) -> int:
        return sum(dismissed for _, _, _, dismissed in self.counts)


def report_page(number) -> ReportPage:
    """A page of the stored run (made first when stale): PAGE_SIZE findings and the counts by kind."""
    if _current_run() is None:
        run_and_store()
    dismissed = list(ConsistencyDismissal.objects.values_list("fingerprint", flat=True))
    tally = {
        row["kind"]: (row["total"] - row["dismissed"], row["dismissed"])
        for row in ConsistencyFinding.objects.order_by()
        .values("kind")
        .annotate(total=Count("pk"), dismissed=Count("pk", filter=Q(fingerprint__in=dismissed)))
    }
    counts = [(kind, heading, *tally[kind]) for kind, heading in KINDS.items() if kind in tally]
    page = Paginator(ConsistencyFinding.objects.order_by("sort", "pk"), PAGE_SIZE).get_page(number)
    rows = list(page.object_list)
    dismissals = _dismissals(row.fingerprint for row in rows)
    page.object_list = [(_finding(row), dismissals.get(row.fingerprint)) for row in rows]
    return ReportPage(page, counts)


class DismissError(Exception):
    pass


def _current_finding(fingerprint: str) -> Finding | None:
    """The finding with this fingerprint in the current stored run (kept current by every publish), else
    in a full run, which is then stored: at 20,000 monographs a full run takes seconds, a lookup none."""
    if _current_run() is not None:
        row = ConsistencyFinding.objects.filter(fingerprint=fingerprint).first()
        return _finding(row) if row else None
    return next((f for f in run_and_store() if f.fingerprint == fingerprint), None)


def dismiss(fingerprint: str, reason: str, user) -> ConsistencyDismissal:
    """Record that the finding with this fingerprint needs no fix, and why.  Refused when no current
    finding has that fingerprint (its evidence changed since the report was read)."""
    if not reason.strip():
        raise DismissError("Give a reason to dismiss a finding.")
    finding = _current_finding(fingerprint)
    if finding is None:
        raise DismissError("That finding is no longer reported as it was (its evidence changed): read it again.")
    dismissal, _ = ConsistencyDismissal.objects.update_or_create(
        fingerprint=fingerprint,
        defaults={
            "kind": finding.kind,
            "key": finding.key[:500],
            "evidence": list(finding.evidence),
            "reason": reason.strip(),
            "dismissed_by": user,
        },
    )
    return dismissal


def may_see(user) -> bool:
    return user.has_perm("monographs.review_revision") or user.has_perm("monographs.publish_revision")
