"""Write parsed source documents into the database: one drug per substance, one monograph per document.

The same code path serves `import_sources` and `build_fixtures`, so a fixture is exactly what an
import of the same sources would have written.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.db.models.functions import Lower
from django.utils.text import slugify

from .. import rendering, workers, workflow
from ..models import (
    FAQ,
    Alias,
    BrandName,
    Comparison,
    ComparisonAttribute,
    ComparisonCell,
    ComparisonSubject,
    Credit,
    Drug,
    DrugClass,
    LegacyPath,
    Monograph,
    Revision,
    add_months,
    now,
)
from ..signals import announce
from .assets import AssetLibrary
from .known import Known
from .sources import (
    EMBED_MARKER,
    EMBED_PATTERN,
    FORMAT_B,
    FORMAT_LABELS,
    ParsedDocument,
    SourceError,
    iter_source_paths,
    parse_document,
)
from .topics import topic_monograph, topic_page

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SourceError] = field(default_factory=list)


class BatchError(Exception):
    """Some documents of a batch failed; nothing of the batch was written."""

    def __init__(self, errors: list[SourceError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def _by_name(model, name: str):
    """By name, case-insensitively (through the index on lower(name)), else by slug: one query, each side
    through its index, the name's row first."""
    slug = slugify(name)
    same_name = Q(lower_name=Lower(Value(name)))
    rows = model.objects.alias(lower_name=Lower("name")).filter(same_name | Q(slug=slug) if slug else same_name)
    rows = rows.annotate(by_name=ExpressionWrapper(same_name, output_field=BooleanField()))
    return rows.order_by("-by_name", "pk").first()


def find_drug(name: str) -> Drug | None:
    """The drug a name denotes: its INN, an alias or a brand name (exact, case-insensitive)."""
    drug = _by_name(Drug, name)
    if drug:
        return drug
    for model in (Alias, BrandName):
        other = _by_name(model, name)
        if other:
            return other.drug
    return None


def find_class(name: str) -> DrugClass | None:
    """A class by name, singular or plural (“Bisphosphonate” is the class “Bisphosphonates”)."""
    stem = name.strip().lower().removesuffix("s")
    return DrugClass.objects.filter(name__iregex=rf"^{re.escape(stem)}s?$").first()


def _has_reference_monograph(drug: Drug) -> bool:
    return drug.monographs.filter(source_key__startswith=f"{FORMAT_B}:").exists()


def resolve_drug(doc: ParsedDocument, known: Known) -> Drug:
    """The drug a document is about, created when new.

    A title one slip away from a known drug's name (“Denusomab” / “Denosumab”) is that drug, and
    the title becomes its alias.  A drug-reference document (format B) names the substance
    authoritatively: when its title is a near-miss of a drug known only from other formats, the
    drug takes the reference's spelling and the old name becomes the alias.
    """
    drug = known.find_drug(doc.title)
    if drug:
        if drug.name.lower() != doc.title.lower():
            known.add_alias(drug, doc.title, Alias.Kind.SYNONYM)
        return drug
    near = known.near_misses(doc.title)
    if len(near) == 1:
        drug = near[0]
        if doc.format == FORMAT_B and not _has_reference_monograph(drug):
            old_name = drug.name
            known.rename_drug(drug, doc.title)
            known.add_alias(drug, old_name, Alias.Kind.MISSPELLING)
        else:
            known.add_alias(drug, doc.title, Alias.Kind.MISSPELLING)
        return drug
    if len(near) > 1:
        names = ", ".join(d.name for d in near)
        raise SourceError(doc.path, f"title “{doc.title}” is one letter away from several drugs ({names}); rename it")
    return known.new_drug(doc.title)


def _monograph(doc: ParsedDocument, drug: Drug, known: Known) -> Monograph:
    kind = Monograph.Kind.REFERENCE if doc.format == FORMAT_B else Monograph.Kind.PATIENT
    monograph = known.monograph(doc.source_key)
    if monograph is not None and monograph.drug_id != drug.pk:
        raise SourceError(
            doc.path, f"this document was imported as a monograph of {monograph.drug}, but its title now names {drug}"
        )
    primary = known.primary(drug)
    # The drug's first monograph is its primary one; a reference monograph takes over from a patient leaflet.
    if primary is None or (kind == Monograph.Kind.REFERENCE and primary.kind != Monograph.Kind.REFERENCE):
        if primary is not None and primary != monograph:
            drug.monographs.filter(pk=primary.pk).update(is_primary=False)
        if monograph is not None and not monograph.is_primary:
            monograph.is_primary = True
            monograph.save(update_fields=["is_primary"])
        if monograph is not None:
            known.set_primary(drug, monograph)
        becomes_primary = True
    else:
        becomes_primary = False
    if monograph is None:
        base = drug.slug if kind == Monograph.Kind.REFERENCE else f"{drug.slug}-{slugify(kind.label)}"
        monograph = known.new_monograph(
            base,
            drug=drug,
            kind=kind,
            source_key=doc.source_key,
            is_primary=becomes_primary,
            next_review=_first_review(doc),
        )
        if becomes_primary:
            known.set_primary(drug, monograph)
    return monograph


def write_table(
    comparison: Comparison, subjects: list[str], rows: list[tuple[str, list[str]]], known: Known | None = None
) -> None:
    """Replace a comparison's subjects, attributes and cells; subjects are linked to a drug or class by name.

    Used by the importer (with what its batch knows) and by the admin's grid editor (asking the database),
    so both link “Denusomab” or “Bisphosphonates*” alike.  Four writes, however large the table.
    """
    drug_named, class_named = (known.find_drug, known.find_class) if known else (find_drug, find_class)
    comparison.subjects.all().delete()
    comparison.attributes.all().delete()
    columns = []
    for position, label in enumerate(subjects, start=1):
        name = label.rstrip("*†‡ ").strip()
        drug = drug_named(name)
        columns.append(
            ComparisonSubject(
                comparison=comparison,
                position=position,
                label=label,
                drug=drug,
                drug_class=None if drug else class_named(name),
            )
        )
    ComparisonSubject.objects.bulk_create(columns)
    attributes = ComparisonAttribute.objects.bulk_create(
        ComparisonAttribute(comparison=comparison, position=position, label=label)
        for position, (label, _) in enumerate(rows, start=1)
    )
    ComparisonCell.objects.bulk_create(
        ComparisonCell(subject=column, attribute=attribute, text=text)
        for attribute, (_, cells) in zip(attributes, rows, strict=True)
        for column, text in zip(columns, cells, strict=True)
    )


def _comparison(revision: Revision, parsed, known: Known, slug: str) -> None:
    comparison = Comparison.objects.create(
        revision=revision, slug=slug, caption=parsed.caption[:500], footnotes=parsed.footnotes
    )
    write_table(comparison, parsed.subjects, list(zip(parsed.attributes, parsed.cells, strict=True)), known)


def _drug_monograph(doc: ParsedDocument, known: Known, rows: list) -> tuple[Monograph, Drug]:
    """The document's drug (with its classes, ban and brands as the document gives them) and monograph;
    the drug's links to its classes are added to `rows` (see _Later)."""
    drug = resolve_drug(doc, known)
    for name in doc.classes:
        drug_class = known.find_class(name) or known.new_class(name)
        rows.append(Drug.classes.through(drug_id=drug.pk, drugclass_id=drug_class.pk))
    if doc.is_banned is not None and drug.is_banned != doc.is_banned:
        drug.is_banned = doc.is_banned
        drug.save(update_fields=["is_banned"])
    brands = {slugify(name): (name, notes[:500]) for name, notes in doc.brands}  # a repeated name: its last notes
    new = [slug for slug in brands if slug not in known.brands]
    for slug, (name, notes) in brands.items():
        if slug in new:
            continue
        owner, *recorded = known.brands[slug]
        if owner != drug.pk:
            raise SourceError(doc.path, f"brand name “{name}” is already recorded for {known.drug(owner)}")
        if recorded != [name, notes]:
            BrandName.objects.filter(slug=slug).update(name=name, notes=notes)
            known.add_brand(slug, drug.pk, name, notes)
    BrandName.objects.bulk_create(
        BrandName(slug=slug, drug=drug, name=brands[slug][0], notes=brands[slug][1]) for slug in new
    )
    for slug in new:
        known.add_brand(slug, drug.pk, *brands[slug])
    return _monograph(doc, drug, known), drug


def _changed_at(doc: ParsedDocument) -> dt.datetime:
    return doc.updated_at or doc.created_at or EPOCH  # when the source last changed it


def _first_review(doc: ParsedDocument) -> dt.date:
    """A new monograph's next review: its interval after the source last changed it."""
    return add_months(_changed_at(doc).date(), Monograph._meta.get_field("review_interval_months").default)


def _with_table_slugs(body: str, slugs: dict[str, str]) -> str:
    """`body` with its tables' markers (`[[comparison:slug]]`) naming the addresses given in `slugs`."""
    return EMBED_PATTERN.sub(lambda match: EMBED_MARKER.format(slug=slugs.get(match[1], match[1])), body)


def _tables_unnamed(body: str) -> str:
    """`body` without its tables' slugs: a document's tables may have been given other addresses when
    it was imported (Known.table_slugs), and that is no change of the document."""
    return EMBED_PATTERN.sub(EMBED_MARKER.format(slug=""), body)


def _unchanged(doc: ParsedDocument, known: Known) -> bool:
    """Whether `doc` is what its monograph's last imported revision was imported from (same file, same
    body, FAQs and tables).

    When editors have since replaced that revision with their own or taken the monograph off the site,
    the same file is enough: what this importer now makes of it (a newer converter, a file found with
    --assets) is no change at the source, and must not stop the batch as a conflict with their work."""
    monograph = known.monograph(doc.source_key)
    if monograph is None:
        return False
    last = monograph.revisions.exclude(source_sha256="").order_by("-number").first()
    if last is None or last.source_sha256 != doc.sha256:
        return False
    if last.status != Revision.Status.PUBLISHED:
        return True
    return (
        _tables_unnamed(last.body) == _tables_unnamed(doc.body)
        and list(last.faqs.values_list("question", "answer")) == [tuple(faq) for faq in doc.faqs]
        and (not doc.comparisons or _tables_of(last) == _tables_of_document(doc))
    )


def _tables_of_document(doc: ParsedDocument) -> list[tuple]:
    """The content of `doc`'s tables, in the order of its body's markers, as `_comparison` writes it."""
    parsed = {table.slug: table for table in doc.comparisons}
    return [
        (
            parsed[slug].caption[:500],
            parsed[slug].footnotes,
            list(parsed[slug].subjects),
            [(label, list(cells)) for label, cells in zip(parsed[slug].attributes, parsed[slug].cells, strict=True)],
        )
        for slug in EMBED_PATTERN.findall(doc.body)
        if slug in parsed
    ]


def _tables_of(revision: Revision) -> list[tuple]:
    """The content of `revision`'s tables, as `_tables_of_document` gives a document's (four queries): a
    file a cell refers to found this time (--assets) changes the cell, not the body."""
    by_slug = {}
    for comparison in revision.comparisons.prefetch_related("attributes", "subjects__cells"):
        rows = [
            (attribute.label, [cell.text if cell is not None else "" for cell in cells])
            for attribute, cells in comparison.rows()
        ]
        subjects = [subject.label for subject in comparison.subjects.all()]
        by_slug[comparison.slug] = (comparison.caption, comparison.footnotes, subjects, rows)
    return [by_slug[slug] for slug in EMBED_PATTERN.findall(revision.body) if slug in by_slug]


class Refused(SourceError):
    """A document refused before anything of it was written: there is nothing to roll back or forget."""


def _refuse_conflict(doc: ParsedDocument, known: Known) -> None:
    """Refuse a changed document of a monograph whose live revision editors wrote in drugref, or that they
    took off the site: checked before anything is written (a refusal costs the batch no Known.reload)."""
    monograph = known.monograph(doc.source_key)
    if monograph is None:
        return
    live = monograph.revisions.live().first()
    if live is None:
        _taken_off(doc, monograph)
    elif not live.source_sha256:
        raise Refused(
            doc.path,
            f"monograph {monograph.slug} has a live revision (r{live.number}) written in drugref; "
            "re-importing would replace editorial work, so the import stops",
        )


def _taken_off(doc: ParsedDocument, monograph: Monograph) -> None:
    """Refuse to bring back a monograph that was unpublished in drugref (its own unpublish, or its drug
    retired): putting it back on the site is a publisher's decision, made in the admin."""
    off = monograph.revisions.filter(status=Revision.Status.UNPUBLISHED).order_by("-number").first()
    if off is None:
        return
    event = off.events.filter(to_status=Revision.Status.UNPUBLISHED).select_related("actor").last()
    why = f" by {event.actor}: “{event.comment}”" if event is not None and event.actor else ""
    raise Refused(
        doc.path,
        f"monograph {monograph.slug} was taken off the site in drugref (r{off.number} unpublished{why}); "
        "an import does not put it back on the site (that takes a revision reviewed and published in the "
        "admin); leave this document out, or import with --skip-invalid",
    )


def _write(doc: ParsedDocument, report: ImportReport, changed: set, known: Known, rows: list) -> None:
    """Write `doc`; the rows nothing in the batch reads back are added to `rows` (see _Later)."""
    # A document imported before and unchanged since writes nothing, not even its drug's names, classes,
    # ban and brands: what editors did in drugref since (a brand removed, a class renamed, the drug
    # renamed, a revision of their own published, the monograph unpublished: each signed off by a second
    # person) stands, and a batch of unchanged documents announces nothing, so no cached page goes stale.
    # (The same source gives another body or table cell when a file it refers to was found this time,
    # --assets: that is a change.)
    if _unchanged(doc, known):
        report.unchanged.append(doc.filename)
        return
    _refuse_conflict(doc, known)
    page = topic_page(doc)
    # Outside the medication section, a page is a topic unless its title names a known drug: its INN, an
    # alias or a brand, or one of them misspelt by a slip (as resolve_drug reads titles).
    if page is not None and known.find_drug(doc.title) is None and not known.near_misses(doc.title):
        monograph, drug = topic_monograph(doc, page, known), None
    else:
        monograph, drug = _drug_monograph(doc, known, rows)
    for path in doc.legacy_paths:
        owner = known.legacy.get(path)
        if owner is None:
            rows.append(LegacyPath(path=path, monograph=monograph))
            known.legacy[path] = monograph.pk
        elif owner != monograph.pk:
            other = Monograph.objects.get(pk=owner)
            raise SourceError(doc.path, f"uri {path} already belongs to monograph {other}")

    first = known.is_new(monograph)  # no revision before this one: none to find, supersede or number after
    live = None if first else monograph.revisions.live().first()

    changed_at = _changed_at(doc)
    # A monograph's first revision went live when its source published it (so a build of the same sources
    # is the same fixture); any later one goes live now, here: readers, the feed and the sitemap see the
    # change, and the source's date stays the revision's `updated_at` ("updated at source").
    went_live = changed_at if first or not monograph.revisions.exists() else now()
    tables = known.table_slugs(monograph, [parsed.slug for parsed in doc.comparisons])
    credits = [(Credit.Role.AUTHOR, known.author(name), None) for name in doc.authors] + [
        (Credit.Role.PROOF_READER, known.author(name), changed_at) for name in doc.proof_readers
    ]
    revision = workflow.publish_import(
        monograph,
        first=first,
        at=went_live,
        comment=f"Imported from {doc.filename} (format {FORMAT_LABELS[doc.format]})",
        supersede_comment=f"Superseded by a re-import of {doc.filename}",
        credits=credits,
        title=doc.title,
        summary=doc.summary,
        body=_with_table_slugs(doc.body, tables),
        change_note="Imported from the source site",  # readers see change notes; the file name is provenance
        created_at=doc.created_at or changed_at,
        updated_at=changed_at,
        reviewed_at=changed_at if doc.proof_readers else None,
        published_at=went_live,
        source_file=doc.filename,
        source_id=doc.source_key.split(":", 1)[1],
        source_format=FORMAT_LABELS[doc.format],
        source_sha256=doc.sha256,
        source_meta=doc.meta,
    )
    rows.extend(
        FAQ(revision=revision, position=position, question=q, answer=a)
        for position, (q, a) in enumerate(doc.faqs, start=1)
    )
    for parsed in doc.comparisons:
        _comparison(revision, parsed, known, tables[parsed.slug])
    if monograph.next_review is None or live is not None:
        monograph.next_review = add_months(changed_at.date(), monograph.review_interval_months)
        monograph.save(update_fields=["next_review"])
    (report.updated if live is not None else report.created).append(doc.filename)
    # The live revision changed: the drug's other monographs carry its names too (a brand or alias
    # this document added), so the whole drug is announced (a topic's page: the page), at the batch's end.
    changed.add(drug or monograph)


def _import_order(doc: ParsedDocument):
    # Reference documents first: they name substances authoritatively.
    return (doc.format != FORMAT_B, doc.filename)


def _file_name(path) -> str:
    return Path(path).name


def _no_progress(iterable, total: int, description: str):
    return iterable


class _KeepRecords(logging.Handler):
    records: list = []

    def emit(self, record):
        record.msg, record.args, record.exc_info = record.getMessage(), None, None  # plain, to send back
        self.records.append(record)


def _start_worker() -> None:
    # What the parser logs (each warning about a document) is sent back with the document and logged
    # again by the batch's process, where import_sources' handler prints it.
    logger = logging.getLogger("monographs.importers")
    logger.handlers, logger.propagate = [_KeepRecords()], False


def _read(path, assets: AssetLibrary | None) -> ParsedDocument | SourceError:
    try:
        return parse_document(path, assets=assets)
    except SourceError as exc:
        return exc


def _read_in_worker(path, assets: AssetLibrary | None) -> tuple[ParsedDocument | SourceError, list]:
    result = _read(path, assets)
    records, _KeepRecords.records = _KeepRecords.records, []
    return result, records


def _read_all(files: list, assets: AssetLibrary | None, pool):
    """Each file's document or SourceError, in the files' order."""
    if pool is None:
        yield from (_read(path, assets) for path in files)
        return
    for result, records in pool.imap(partial(_read_in_worker, assets=assets), files, chunksize=8):
        for record in records:
            logging.getLogger(record.name).handle(record)
        yield result


class _Later:
    """Rows of the documents written so far that nothing in the batch reads back — FAQs, legacy paths (the
    batch knows them: Known.legacy), a drug's links to its classes — inserted a few thousand at a time
    and before the batch's announcement: three inserts a document fewer, a tenth of the importing
    process at 20,000 documents.  A document's rows are added once it is written, so a document rolled
    back leaves none; they go in in the documents' order, so the same sources give the same rows."""

    SIZE = 5000

    def __init__(self):
        self.rows = []

    def add(self, rows: list) -> None:
        self.rows += rows
        if len(self.rows) >= self.SIZE:
            self.insert()

    def insert(self) -> None:
        by_model = {}
        for row in self.rows:
            by_model.setdefault(type(row), []).append(row)
        for model, rows in by_model.items():
            # A drug's link to a class it has already (another document of the drug names it too).
            model.objects.bulk_create(rows, ignore_conflicts=model is Drug.classes.through)
        self.rows = []


class _RenderAhead:
    """The bodies of the documents without tables (a table links its drugs, known once written), sent to
    the workers as their documents are written, fifty at a time; `results()` waits for the last."""

    SIZE = 50

    def __init__(self, pool):
        self.pool, self.batch, self.sent = pool, [], []

    def add(self, doc: ParsedDocument) -> None:
        if self.pool is None or doc.comparisons:
            return
        self.batch.append(doc.body)
        if len(self.batch) == self.SIZE:
            self._send()

    def _send(self) -> None:
        if self.batch:
            self.sent.append((self.batch, self.pool.map_async(workers.render_plain, self.batch)))
            self.batch = []

    def results(self) -> dict[str, rendering.Rendered]:
        self._send()
        return {body: page for bodies, done in self.sent for body, page in zip(bodies, done.get(), strict=True)}


def import_sources(
    paths,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress=_no_progress,
    assets: AssetLibrary | None = None,
) -> ImportReport:
    """Import every document under `paths` in one transaction.

    Without `skip_invalid`, any failing document aborts the whole batch (BatchError) and nothing is
    written.  With it, each failing document is skipped, listed in the report, and the rest import.
    With `assets`, the files the documents refer to are stored in media storage as they are read
    (a stored file stays when the batch fails: it is named by its content, and the next run reuses it).

    With `dry_run`, every document is read and written as it would be, failing ones are listed in the
    report (as with `skip_invalid`, so one run shows every problem), and the transaction is then rolled
    back: nothing is written.  Everything the import changes is in that transaction — rows, events, the
    search index and the content generation — so nothing escapes it.

    `progress(iterable, total, description)` wraps the loops over documents (reading, then writing), for a
    progress bar.
    """
    files = iter_source_paths(paths)
    if not files:
        raise BatchError([SourceError(", ".join(map(str, paths)) or "(no paths)", "no source files found")])
    # A large batch is read by worker processes, which then render its bodies while this one writes.
    storages = () if assets is None else (assets.storage,)
    with workers.pool(len(files), *storages, initializer=_start_worker) as pool:
        return _import(files, skip_invalid, dry_run, progress, assets, pool)


def _import(files, skip_invalid, dry_run, progress, assets, pool) -> ImportReport:
    report = ImportReport()
    errors, seen, others = [], {}, []
    refuse = not (skip_invalid or dry_run)  # a file that cannot be imported fails the batch
    unreadable = False
    with transaction.atomic():
        changed = set()  # drugs and topic monographs whose pages changed
        known = Known()
        ahead = _RenderAhead(pool)
        later = _Later()

        def write(doc: ParsedDocument) -> None:
            written, rows = set(), []
            try:
                with transaction.atomic():
                    _write(doc, report, written, known, rows)
            except Refused as exc:
                errors.append(exc)  # refused before anything was written: the batch knows what it knew
                return
            except SourceError as exc:
                errors.append(exc)
                later.insert()  # the other documents' rows, before Known reads the database again
                known.reload()  # the document's rows were rolled back: forget them too
                return
            later.add(rows)
            changed.update(written)  # a document that failed was rolled back: nothing of it to announce
            ahead.add(doc)

        # Reference documents (format B) are written first, then the others, each kind in the order of
        # the file names (_import_order).  Read in that order, a reference document is written as soon as
        # it is read, while the workers read on; the others wait for the end of the reading.
        for doc in progress(_read_all(sorted(files, key=_file_name), assets, pool), len(files), "reading"):
            if isinstance(doc, SourceError):
                errors.append(doc)
                unreadable = True
                continue
            if doc.source_key in seen:
                duplicate = f"duplicate source id {doc.source_key!r}: also in {seen[doc.source_key]}"
                errors.append(SourceError(doc.path, duplicate))
                unreadable = True
                continue
            seen[doc.source_key] = doc.path
            if unreadable and refuse:
                continue  # the batch fails: read on only to list every problem
            if doc.format == FORMAT_B:
                write(doc)
            else:
                others.append(doc)
        for doc in progress(others if not (unreadable and refuse) else [], len(others), "importing"):
            write(doc)
        later.insert()
        if errors and refuse:
            raise BatchError(errors)  # leaving the atomic block by an exception rolls everything back
        if changed:
            # One announcement for the whole batch: the search index, stored pages, link graph and
            # comparison reviews are brought up to date in a few queries per hundreds of monographs
            # (each receiver works in chunks) rather than a dozen per document; and every cached page of
            # every process is stale when this commits.
            with rendering.rendered_ahead(ahead.results()):
                announce(
                    drugs=[c for c in changed if isinstance(c, Drug)],
                    monographs=[c for c in changed if isinstance(c, Monograph)],
                )
        if dry_run:
            transaction.set_rollback(True)
    report.skipped = errors
    return report
