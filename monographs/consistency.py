"""Consistency across monographs: findings an editor-in-chief reviews before trusting the reference.

Each check returns Findings.  A finding has a `key` (what it is about: a brand name, an alias, a pair
of drugs…) and `evidence` (the facts that make it a finding); its fingerprint hashes both, so a
dismissal (ConsistencyDismissal) holds only while the evidence stays the same.

Names are matched as the search matches them: a drug's INN, brands and synonyms/former names, split
into words by the search's own tokeniser (monographs.search.words) and compared case-insensitively,
word for word.  Misspellings are left out: a recorded misspelling is a slip to correct, not a name.
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
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.urls import reverse

from .models import (
    Alias,
    BrandName,
    Comparison,
    ComparisonReview,
    ConsistencyDismissal,
    ConsistencyFinding,
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


# Names ------------------------------------------------------------------------------------------


def brands_shared() -> list[Finding]:
    claims = defaultdict(dict)
    for name, drug_id, drug_name in BrandName.objects.values_list("name", "drug_id", "drug__name"):
        claims[name.casefold()].setdefault(drug_id, (drug_name, name))
    findings = []
    for folded, drugs in sorted(claims.items()):
        if len(drugs) < 2:
            continue
        ordered = sorted(drugs.items(), key=lambda item: item[1][0])
        written = ordered[0][1][1]
        findings.append(
            Finding(
                "brand_shared",
                f"brand:{folded}",
                f"The brand name “{written}” is claimed by {len(drugs)} drugs.",
                tuple(f"“{brand}” is a brand of {drug}" for _, (drug, brand) in ordered),
                tuple(_drug_fix(pk, drug) for pk, (drug, _) in ordered),
            )
        )
    return findings


def aliases_clashing() -> list[Finding]:
    names = defaultdict(list)  # folded name → [(drug id, drug name, "INN" | "brand")]
    for pk, name in Drug.objects.values_list("pk", "name"):
        names[name.casefold()].append((pk, name, "INN"))
    for drug_id, drug_name, brand in BrandName.objects.values_list("drug_id", "drug__name", "name"):
        names[brand.casefold()].append((drug_id, drug_name, "brand"))
    findings = []
    aliases = Alias.objects.values_list("slug", "name", "kind", "drug_id", "drug__name").order_by("drug__name", "name")
    for slug, name, kind, drug_id, drug_name in aliases:
        for other_id, other_name, what in names.get(name.casefold(), []):
            if other_id == drug_id:
                continue
            findings.append(
                Finding(
                    "alias_clash",
                    f"alias:{slug}:{other_id}:{what}",
                    f"“{name}”, a {Alias.Kind(kind).label} of {drug_name}, is the {what} of {other_name}.",
                    (f"{drug_name}: {Alias.Kind(kind).label} “{name}”", f"{other_name}: {what} “{name}”"),
                    (_drug_fix(drug_id, drug_name), _drug_fix(other_id, other_name)),
                )
            )
    return findings


def classes_without_live_drug() -> list[Finding]:
    """A class counts as live when a drug with live content is in it or in a class nested in it."""
    public = DrugClass.objects.public_ids()
    return [
        Finding(
            "class_without_live_drug",
            f"class:{slug}",
            f"The class “{name}” has no drug with a live monograph (in it or in a class within it).",
            (f"Class “{name}”: no live drug",),
            ((f"Class “{name}”", "drugclass", pk),),
        )
        for pk, slug, name in DrugClass.objects.exclude(pk__in=public).values_list("pk", "slug", "name")
    ]


def primaries_missing() -> list[Finding]:
    primaries = {
        drug_id: (pk, slug)
        for pk, slug, drug_id in Monograph.objects.filter(is_primary=True).values_list("pk", "slug", "drug_id")
    }
    live = set(Revision.objects.live().filter(monograph__is_primary=True).values_list("monograph_id", flat=True))
    findings = []
    for drug_id, slug, name in Drug.objects.values_list("pk", "slug", "name"):
        primary = primaries.get(drug_id)
        if primary is None:
            why = f"{name} has no primary monograph."
            fixes = (_drug_fix(drug_id, name),)
        elif primary[0] not in live:
            why = f"{name}'s primary monograph “{primary[1]}” is not published."
            fixes = ((f"Monograph “{primary[1]}”", "monograph", primary[0]),)
        else:
            continue
        findings.append(Finding("primary_missing", f"drug:{slug}", why, (why,), fixes))
    return findings


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


def interactions_one_sided() -> list[Finding]:
    """Drug A's Interactions section names drug B, and B's live primary monograph's Interactions
    section does not name A (or B's has none).  Drugs without a live primary monograph are left to
    `primaries_missing`."""
    index = NameIndex()
    live = Revision.objects.live().filter(monograph__is_primary=True)
    monographs, sections = {}, {}
    for drug_id, monograph_id, body in live.values_list("monograph__drug_id", "monograph_id", "body").iterator():
        monographs[drug_id] = monograph_id
        sections[drug_id] = interaction_section(body or "")
    named = {drug_id: index.named_in(section) for drug_id, section in sections.items() if section}
    findings = []
    for a, section in sorted(sections.items(), key=lambda item: index.drugs[item[0]]):
        if not section:
            continue
        naming = defaultdict(list)
        for sentence in sentences(section):
            for b in index.named_in(sentence) - {a}:
                naming[b].append(sentence)
        for b in sorted(naming, key=index.drugs.get):
            if b not in monographs or a in named.get(b, ()):
                continue
            name_a, name_b = index.drugs[a], index.drugs[b]
            other = sections.get(b)
            if other:
                other_side = f"{name_b}'s Interactions section: " + (
                    other if len(other) <= EXCERPT else other[:EXCERPT] + "…"
                )
            else:
                other_side = f"{name_b}'s live monograph has no Interactions section."
            findings.append(
                Finding(
                    "interaction_one_sided",
                    f"interaction:{a}:{b}",
                    f"{name_a}'s Interactions section names {name_b}; {name_b}'s does not name {name_a}.",
                    (*(f"{name_a}: {sentence}" for sentence in naming[b]), other_side),
                    (
                        (f"{name_b}'s monograph", "monograph", monographs[b]),
                        (f"{name_a}'s monograph", "monograph", monographs[a]),
                    ),
                    basis=other or "",
                )
            )
    return findings


def contraindicated_classes_one_sided() -> list[Finding]:
    """Drug A's Contraindications section names a class (its name word for word, plural or singular):
    each drug B in that class, or in a class within it, whose live primary monograph names A in neither
    its Interactions nor its Contraindications section is a finding."""
    index = NameIndex()
    class_names, children, members = {}, defaultdict(list), defaultdict(set)
    for pk, name, parent in DrugClass.objects.values_list("pk", "name", "parent_id"):
        class_names[pk] = name
        children[parent].append(pk)
    for drug_id, class_id in Drug.classes.through.objects.values_list("drug_id", "drugclass_id"):
        members[class_id].add(drug_id)
    keys = {tuple(stem(w) for w in words(name)): pk for pk, name in class_names.items()}
    longest = max((len(key) for key in keys), default=0)

    def drugs_of(class_id: int, seen: set) -> set[int]:
        seen.add(class_id)
        found = set(members[class_id])
        for child in children[class_id]:
            if child not in seen:
                found |= drugs_of(child, seen)
        return found

    live = Revision.objects.live().filter(monograph__is_primary=True)
    monographs, bodies = {}, {}
    for drug_id, monograph_id, body in live.values_list("monograph__drug_id", "monograph_id", "body").iterator():
        monographs[drug_id], bodies[drug_id] = monograph_id, body or ""
    other_sides: dict[int, tuple[str, set[int]]] = {}
    findings = []
    for a in sorted(bodies, key=index.drugs.get):
        section = interaction_section(bodies[a], "contraindication")
        if not section:
            continue
        naming = defaultdict(list)  # class id → the sentences that name it
        for sentence in sentences(section):
            stems = [stem(w) for w in words(sentence)]
            for i in range(len(stems)):
                for n in range(1, min(longest, len(stems) - i) + 1):
                    if tuple(stems[i : i + n]) in keys:
                        naming[keys[tuple(stems[i : i + n])]].append(sentence)
        for class_id in sorted(naming, key=class_names.get):
            for b in sorted(drugs_of(class_id, set()) - {a}, key=index.drugs.get):
                if b not in monographs:
                    continue
                if b not in other_sides:
                    parts = (interaction_section(bodies[b]), interaction_section(bodies[b], "contraindication"))
                    text = "\n".join(part for part in parts if part)
                    other_sides[b] = (text, index.named_in(text))
                text, named = other_sides[b]
                if a in named:
                    continue
                name_a, name_b, name_c = index.drugs[a], index.drugs[b], class_names[class_id]
                if text:
                    other_side = f"{name_b}'s Interactions and Contraindications: " + (
                        text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
                    )
                else:
                    other_side = f"{name_b}'s live monograph has no Interactions or Contraindications section."
                findings.append(
                    Finding(
                        "contraindication_class_one_sided",
                        f"contraindication:{a}:{class_id}:{b}",
                        f"{name_a}'s Contraindications name the class {name_c}; {name_b}, in that class, "
                        f"does not name {name_a}.",
                        (*(f"{name_a}: {sentence}" for sentence in dict.fromkeys(naming[class_id])), other_side),
                        (
                            (f"{name_b}'s monograph", "monograph", monographs[b]),
                            (f"{name_a}'s monograph", "monograph", monographs[a]),
                        ),
                        basis=text,
                    )
                )
    return findings


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


def comparisons_stale() -> list[Finding]:
    """A live comparison naming drug X (as a column or in its cells), reviewed against an earlier live
    revision of X's primary monograph whose numbers, in the sections the comparison's rows cover, have changed since."""
    live = dict(Revision.objects.live().filter(monograph__is_primary=True).values_list("monograph__drug_id", "pk"))
    reviews = (
        ComparisonReview.objects.filter(comparison__revision__status=Revision.Status.PUBLISHED, against__isnull=False)
        .select_related("comparison__revision__monograph", "drug", "against")
        .prefetch_related("comparison__attributes", "comparison__subjects")
        .order_by("comparison__caption", "drug__name")
    )
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
            )
        )
    return findings


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
    review.save(update_fields=["against", "confirmed_by", "confirmed_at"])
    forget()
    return review


# The report -------------------------------------------------------------------------------------

CHECKS = [  # in the order of KINDS, which the report keeps
    interactions_one_sided,
    contraindicated_classes_one_sided,
    comparisons_stale,
    brands_shared,
    aliases_clashing,
    classes_without_live_drug,
    primaries_missing,
]


def findings() -> list[Finding]:
    return [finding for check in CHECKS for finding in check()]


# The findings of the last run, shared by the dashboard and the report: every check reads every live
# monograph, too much for each dashboard view or each page of the report.  A run is stored in the
# database (ConsistencyRun, ConsistencyFinding), so a page reads its own findings only; it is used while
# the content generation it was made with is current (any change readers see moves it on) and for at
# most RUN_SECONDS (changes that announce nothing: a class added in the admin).  Dismissing always
# checks against a fresh run.
RUN_SECONDS = 5 * 60


def _current_run() -> ConsistencyRun | None:
    run = ConsistencyRun.objects.order_by("-pk").first()
    if (
        run is None
        or run.generation != ContentGeneration.value()
        or now() - run.ran_at > dt.timedelta(seconds=RUN_SECONDS)
    ):
        return None
    return run


def run_and_store() -> list[Finding]:
    """Run every check and store the run (replacing the last one)."""
    generation = ContentGeneration.value()  # before reading: a change made meanwhile makes the run stale
    found = findings()
    rows = [
        ConsistencyFinding(
            position=position,
            kind=f.kind,
            key=f.key[:500],
            fingerprint=f.fingerprint,
            message=f.message,
            evidence=list(f.evidence),
            fixes=[list(fix) for fix in f.fixes],
            review=f.review,
        )
        for position, f in enumerate(found, start=1)
    ]
    try:
        with transaction.atomic():
            ConsistencyRun.objects.all().delete()
            ConsistencyFinding.objects.all().delete()
            ConsistencyFinding.objects.bulk_create(rows, batch_size=1000)
            ConsistencyRun.objects.create(generation=generation, findings=len(rows))
    except IntegrityError:  # another process stored its run at the same moment: theirs is as good
        pass
    return found


def _finding(row: ConsistencyFinding) -> Finding:
    finding = Finding(
        row.kind, row.key, row.message, tuple(row.evidence), tuple(tuple(fix) for fix in row.fixes), review=row.review
    )
    finding.__dict__["fingerprint"] = row.fingerprint  # stored with it (the basis it hashes is not)
    return finding


def cached_findings() -> list[Finding]:
    """Every finding of the stored run, running the checks when it is stale."""
    if _current_run() is None:
        return run_and_store()
    return [_finding(row) for row in ConsistencyFinding.objects.order_by("position")]


def stored_open_count() -> int | None:
    """The number of findings not dismissed, from the stored run; None when there is none (the dashboard
    never runs the checks itself: at 20,000 monographs a run takes many seconds)."""
    if _current_run() is None:
        return None
    dismissed = ConsistencyDismissal.objects.values("fingerprint")
    return ConsistencyFinding.objects.exclude(fingerprint__in=dismissed).count()


def forget() -> None:
    ConsistencyRun.objects.all().delete()  # one row: the findings stay until the next run replaces them


def on_content_changed(sender, monographs=(), drugs=(), **kwargs) -> None:
    """Receiver of monographs.signals.content_changed: record what the newly live comparisons were checked
    against; drop the stored findings now and, since a request may store them again before the change
    commits, once more when it does."""
    for chunk in chunks(changed_monograph_ids(monographs, drugs)):
        record_reviews(chunk)
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
    return Report([(finding, dismissals.get(finding.fingerprint)) for finding in found])  # CHECKS: KINDS' order


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
    page = Paginator(ConsistencyFinding.objects.order_by("position"), PAGE_SIZE).get_page(number)
    rows = list(page.object_list)
    dismissals = _dismissals(row.fingerprint for row in rows)
    page.object_list = [(_finding(row), dismissals.get(row.fingerprint)) for row in rows]
    return ReportPage(page, counts)


class DismissError(Exception):
    pass


def dismiss(fingerprint: str, reason: str, user) -> ConsistencyDismissal:
    """Record that the finding with this fingerprint needs no fix, and why.  Refused when no current
    finding has that fingerprint (its evidence changed since the report was read)."""
    if not reason.strip():
        raise DismissError("Give a reason to dismiss a finding.")
    finding = next((f for f in findings() if f.fingerprint == fingerprint), None)
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
