"""The drugref domain: drugs and what names them, monographs and their immutable revisions.

Every model a fixture carries has a natural key, so `loaddata` can run twice without duplicating rows
and fixtures never depend on primary keys.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from markdownx.models import MarkdownxField
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .addresses import address

_NAME_WORD = re.compile(r"[^\W\d_]+")


def _known_names() -> list[str]:
    """Drug names, brand names and synonyms: what a title is checked against (misspellings are not names)."""
    return [
        *Drug.objects.values_list("name", flat=True),
        *BrandName.objects.values_list("name", flat=True),
        *Alias.objects.exclude(kind=Alias.Kind.MISSPELLING).values_list("name", flat=True),
    ]


def now() -> dt.datetime:
    """The current time to the second: JSON backups keep only milliseconds, so a restore stays exact."""
    return timezone.now().replace(microsecond=0)


# Natural keys already read, by (model, primary key), while a fixture is written or read.
_known_keys: ContextVar[dict | None] = ContextVar("known_natural_keys", default=None)


@contextmanager
def known_natural_keys():
    """Remember, for the block, each natural key read or resolved (see monographs/serializers.py).

    Only for dumpdata and loaddata: inside one of them no keyed row is deleted or re-keyed (a row a
    fixture updates is found by its key), so what was read stays true until the block ends.
    """
    token = _known_keys.set({})
    try:
        yield _known_keys.get()
    finally:
        _known_keys.reset(token)


def related_key(instance: models.Model, name: str) -> tuple:
    """The natural key of the row `instance.<name>` points at.

    `dumpdata` and `loaddata` ask every revision part for its key; following the chain of related
    objects (cell → subject → comparison → revision → monograph) fetched each whole row, revision
    bodies included, one query per step.  Unless the related object is already loaded (or its key
    known, see known_natural_keys), this reads just the key's columns, through joins, in one query.
    Each keyed model lists those columns in `NATURAL_KEY`, in `natural_key()` order.
    """
    field = instance._meta.get_field(name)
    if field.is_cached(instance):
        return getattr(instance, name).natural_key()
    model, pk = field.related_model, getattr(instance, field.attname)
    known = _known_keys.get()
    if known is not None and (model, pk) in known:
        return known[model, pk]
    key = tuple(model._base_manager.filter(pk=pk).values_list(*model.NATURAL_KEY).get())
    if known is not None:
        known[model, pk] = key
    return key


class SlugManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class DrugClassQuerySet(models.QuerySet):
    def with_live_drugs(self):
        """Classes with a drug that has live content: what readers are shown."""
        return self.filter(drugs__in=Drug.objects.with_live_content()).distinct()

    def public_ids(self) -> set[int]:
        """Classes readers may see: those with a live drug, and their ancestors.  A class created in the
        admin (directly: creation is not proof-read) stays out of sight until a live drug is in it."""
        ids = set()
        for drug_class in self.with_live_drugs().select_related("parent"):
            ids.add(drug_class.pk)
            ids.update(ancestor.pk for ancestor in drug_class.ancestors())
        return ids


class DrugClassManager(models.Manager.from_queryset(DrugClassQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class DrugClass(models.Model):
    """A pharmacological class; classes nest (Antiresorptive agents ⊃ Bisphosphonates)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)

    objects = DrugClassManager()
    NATURAL_KEY = ("slug",)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "drug classes"
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="drugclass_not_own_parent"),
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        return address("monographs:class", self.slug)

    def ancestors(self) -> list[DrugClass]:
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain[::-1]


class DrugQuerySet(models.QuerySet):
    def with_live_content(self):
        return self.filter(monographs__revisions__status=Revision.Status.PUBLISHED).distinct()

    def related_to(self, drug: Drug):
        """Other drugs with live content that share a class with `drug`."""
        return self.with_live_content().filter(classes__drugs=drug).exclude(pk=drug.pk).order_by("name")


# A drug page lists this many related drugs of its classes, A–Z, and sends readers to the class pages for
# the rest: a class of a thousand drugs made a page of a thousand links, rendered on each uncached view.
RELATED_SHOWN = 24


class Surroundings(NamedTuple):
    """What a drug's monograph page lists beside its revision: the drug's names and classes, and the live
    content around it.  Each list in the order its queryset gives (`Drug.objects.surroundings`)."""

    brands: list[BrandName]  # drug.brands.all()
    classes: list[DrugClass]  # drug.classes.all()
    aliases: list[Alias]  # drug.aliases.all()
    other_monographs: list[Monograph]  # Monograph.objects.live_about(drug), the page's own left out
    related_drugs: list[Drug]  # Drug.objects.related_to(drug)[:RELATED_SHOWN + 1]: one more tells there are more
    comparisons: list[Comparison]  # Comparison.objects.mentioning(drug)


class _Columns:
    """All of a model's columns under a table alias in a plain-SQL select list, and the instance made from
    them as the ORM makes it: each field's converters applied (SQLite answers dates as text, JSON as
    strings), loaded from the database (not "adding").  Made once per process and database vendor
    (`_columns`): quoting fifty column names and finding their converters per page cost 0.5 ms."""

    def __init__(self, model: type[models.Model], alias: str) -> None:
        self.model, fields = model, model._meta.concrete_fields
        self.names = [field.attname for field in fields]
        self.sql = ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in fields)
        self.converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if found:
                self.converters.append((index, column, found))

    def __len__(self) -> int:
        return len(self.names)

    def load(self, values) -> models.Model:
        values = list(values)
        for index, column, converters in self.converters:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(connection.alias, self.names, values)


@functools.cache
def _columns_for(vendor: str, model: type[models.Model], alias: str) -> _Columns:
    return _Columns(model, alias)


def _columns(model: type[models.Model], alias: str) -> _Columns:
    return _columns_for(connection.vendor, model, alias)


def _loaded(model: type[models.Model], **values) -> models.Model:
    """An instance of `model` as the ORM would load it with only these columns: the others are deferred,
    so reading one costs a query, never a wrong value."""
    ordered = [values.get(field.attname, models.DEFERRED) for field in model._meta.concrete_fields]
    return model.from_db(connection.alias, None, ordered)


class DrugManager(SlugManager.from_queryset(DrugQuerySet)):
    @staticmethod
    @functools.cache
    def surroundings_sql() -> str:
        """The query of `surroundings`, with %(drug)s, %(monograph)s and %(related)s (how many related drugs)
        to bind.  Every table in it is reached through an index from the drug (tests/test_uncached_page.py
        reads SQLite's plan), so its cost does not grow with the site."""
        m, r, d = Monograph._meta.db_table, Revision._meta.db_table, Drug._meta.db_table
        classes, subjects = Drug.classes.through._meta.db_table, ComparisonSubject._meta.db_table
        # Related drugs are checked for a live monograph one by one (EXISTS), and comparisons found from the
        # drug's subjects and monographs: as `IN (every live drug)` and `live AND (… OR …)` both branches read
        # every live revision of the site on each page (8 ms of an uncached page at 1,500 monographs; now
        # 0.8 ms).  The live status is written into the SQL rather than bound, so SQLite can use the partial
        # index of live revisions (one_live_revision_per_monograph); bound, it reads a monograph's every
        # revision (1.0 ms).
        live = Revision.Status.PUBLISHED
        # Columns: part, id, name, slug, monograph kind, is primary, order within the part, live revision id.
        # The first branch types the NULL columns (PostgreSQL resolves a UNION's types branch by branch).
        return f"""
            SELECT 0, b.id, b.name, b.slug, CAST(NULL AS VARCHAR(20)), 0, b.name, CAST(NULL AS INTEGER)
              FROM {BrandName._meta.db_table} b WHERE b.drug_id = %(drug)s
            UNION ALL
            SELECT 1, c.id, c.name, c.slug, NULL, 0, c.name, NULL FROM {DrugClass._meta.db_table} c
              JOIN {classes} x ON x.drugclass_id = c.id WHERE x.drug_id = %(drug)s
            UNION ALL
            SELECT 2, a.id, a.name, a.slug, NULL, 0, a.name, NULL FROM {Alias._meta.db_table} a
             WHERE a.drug_id = %(drug)s
            UNION ALL
            SELECT 3, m.id, r.title, m.slug, m.kind, CASE WHEN m.is_primary THEN 1 ELSE 0 END, m.slug, r.id
              FROM {m} m JOIN {r} r ON r.monograph_id = m.id
             WHERE m.drug_id = %(drug)s AND m.id <> %(monograph)s AND r.status = '{live}'
            UNION ALL
            SELECT 4, shown.id, shown.name, shown.slug, NULL, 0, shown.name, NULL FROM (
              SELECT o.id, o.name, o.slug FROM {d} o
               WHERE o.id <> %(drug)s
                 AND o.id IN (SELECT y.drug_id FROM {classes} y JOIN {classes} x ON x.drugclass_id = y.drugclass_id
                               WHERE x.drug_id = %(drug)s)
                 AND EXISTS (SELECT 1 FROM {m} m JOIN {r} r ON r.monograph_id = m.id
                              WHERE m.drug_id = o.id AND r.status = '{live}')
               ORDER BY o.name, o.id LIMIT %(related)s) shown
            UNION ALL
            SELECT 5, c.id, c.caption, c.slug, NULL, 0, c.caption, NULL FROM {Comparison._meta.db_table} c
              JOIN {r} r ON r.id = c.revision_id
             WHERE r.status = '{live}'
               AND c.id IN (SELECT s.comparison_id FROM {subjects} s WHERE s.drug_id = %(drug)s
                            UNION
                            SELECT t.id FROM {Comparison._meta.db_table} t JOIN {r} v ON v.id = t.revision_id
                              JOIN {m} m ON m.id = v.monograph_id WHERE m.drug_id = %(drug)s)
            ORDER BY 1, 6 DESC, 7, 2
        """  # noqa: S608 - table names from the models, values as parameters

    def surroundings(self, drug: Drug, monograph: Monograph) -> Surroundings:
        """Everything a page of `drug`'s `monograph` lists beside the revision, in one query.

        Plain SQL, one UNION ALL: every public drug page that is not cached asks it, and building and
        loading the six ORM querysets it stands for (named in `Surroundings`) took 5–9 ms of such a page
        on the bench's corpus, this query under 1 ms.  The same rows in the same order
        (tests/test_uncached_page.py holds it to the querysets); each row becomes an instance with only
        the columns the page reads (`_loaded`).
        """
        live = Revision.Status.PUBLISHED
        with connection.cursor() as cursor:
            cursor.execute(
                self.surroundings_sql(), {"drug": drug.pk, "monograph": monograph.pk, "related": RELATED_SHOWN + 1}
            )
            rows = cursor.fetchall()
        parts: list[list] = [[] for _ in Surroundings._fields]
        for part, pk, name, slug, kind, primary, _, revision_id in rows:
            if part == 0:
                item = _loaded(BrandName, id=pk, drug_id=drug.pk, name=name, slug=slug)
            elif part == 1:
                item = _loaded(DrugClass, id=pk, name=name, slug=slug)
            elif part == 2:
                item = _loaded(Alias, id=pk, drug_id=drug.pk, name=name, slug=slug)
            elif part == 3:
                item = _loaded(
                    Monograph, id=pk, slug=slug, drug_id=drug.pk, topic_id=None, kind=kind, is_primary=bool(primary)
                )
                item.drug = drug
                item.live = [_loaded(Revision, id=revision_id, monograph_id=pk, title=name, status=live)]
            elif part == 4:
                item = _loaded(Drug, id=pk, name=name, slug=slug)
            else:
                item = _loaded(Comparison, id=pk, caption=name, slug=slug)
            parts[part].append(item)
        return Surroundings(*parts)


class Drug(models.Model):
    """The substance, named by its international non-proprietary name (INN)."""

    name = models.CharField("INN", max_length=200, unique=True, help_text="International non-proprietary name")
    slug = models.SlugField(max_length=200, unique=True)
    classes = models.ManyToManyField(DrugClass, blank=True, related_name="drugs")
    is_banned = models.BooleanField(default=False)

    objects = DrugManager()
    NATURAL_KEY = ("slug",)

    class Meta:
        ordering = ["name"]
        # The importer looks names up case-insensitively, once or more per document (find_drug).
        indexes = [models.Index(Lower("name"), name="drug_name_lower")]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        return address("monographs:drug", self.slug)


class Alias(models.Model):
    """Another name for a drug: a synonym, a former name or a common misspelling."""

    class Kind(models.TextChoices):
        SYNONYM = "synonym", "synonym"
        FORMER = "former", "former name"
        MISSPELLING = "misspelling", "misspelling"

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SYNONYM)

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "aliases"
        indexes = [models.Index(Lower("name"), name="alias_name_lower")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["synonym", "former", "misspelling"]), name="alias_kind_valid"),
        ]

    def __str__(self):
        return f"{self.name} → {self.drug}"

    def natural_key(self):
        return (self.slug,)


class BrandName(models.Model):
    """A proprietary name under which a drug is marketed (Prolia®, Xgeva®)."""

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="brands")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    # Not published: a brand is edited on its drug, outside any revision, so no proof-reader signs a
    # note off.  Doses and indications reach readers only through the monograph text.
    notes = models.CharField(
        "editors' note (not published)",
        max_length=500,
        blank=True,
        help_text="Editors' note (strength, indication), never published: doses belong in the monograph text, "
        "where a proof-reader signs them off.",
    )

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="brandname_name_lower")]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)


class Author(models.Model):
    """A credited person; may have no login.  A user account may be linked to one author."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="author"
    )

    objects = SlugManager()
    NATURAL_KEY = ("slug",)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)


class TopicQuerySet(models.QuerySet):
    def with_live_content(self):
        return self.filter(monographs__revisions__status=Revision.Status.PUBLISHED).distinct()


class TopicManager(SlugManager.from_queryset(TopicQuerySet)):
    pass


class Topic(models.Model):
    """What a monograph that belongs to no drug is about: a condition, a procedure or a test.

    A topic is written for readers at up to three reading levels, one monograph each (Monograph.level).
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    source_key = models.CharField(
        max_length=300,
        unique=True,
        null=True,
        blank=True,
        help_text="Identity of the source pages this topic is imported from (their uri without the level)",
    )

    objects = TopicManager()
    NATURAL_KEY = ("slug",)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        return address("monographs:topic", self.slug)


class MonographQuerySet(models.QuerySet):
    def live_about(self, drug: Drug):
        """The drug's monographs that have a live revision, each with it as `live` (a one-item list)."""
        # Ordered within the drug: the default ordering starts with the drug's name, the same for every row,
        # and a monograph has one live revision (the revisions' default ordering would join two tables).
        return (
            self.filter(drug=drug, revisions__status=Revision.Status.PUBLISHED)
            .select_related("drug")
            .order_by("-is_primary", "slug")
            .prefetch_related(models.Prefetch("revisions", queryset=Revision.objects.live().order_by(), to_attr="live"))
        )


class MonographManager(SlugManager.from_queryset(MonographQuerySet)):
    pass


class Monograph(models.Model):
    """One editorial document about a drug.  Identity only: the content lives in its revisions.

    The live revision is the one whose status is "published"; a conditional unique constraint on
    Revision guarantees there is at most one, so no pointer needs keeping in step with it.
    """

    class Kind(models.TextChoices):
        REFERENCE = "reference", "Drug reference"
        PATIENT = "patient", "Patient information"

    class Level(models.IntegerChoices):
        """A topic's reading levels; each has its address under the topic's (`path`, see level_path)."""

        BASIC = 1, "Introduction"
        MORE = 2, "More information"
        DETAILED = 3, "Detailed"

    # The address of each level under its topic's, and the end of a source uri naming that level.
    LEVEL_PATHS = {Level.BASIC: "", Level.MORE: "more-info", Level.DETAILED: "detailed"}

    slug = models.SlugField(max_length=200, unique=True)
    drug = models.ForeignKey(Drug, null=True, blank=True, on_delete=models.PROTECT, related_name="monographs")
    topic = models.ForeignKey(
        Topic,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="monographs",
        help_text="For a monograph about no drug: the topic it is a reading level of",
    )
    level = models.PositiveSmallIntegerField(
        choices=Level.choices, null=True, blank=True, help_text="A topic's reading level (topics only)"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REFERENCE)
    is_primary = models.BooleanField(default=False, help_text="Shown on the drug's own page")
    source_key = models.CharField(
        max_length=300,
        unique=True,
        null=True,
        blank=True,
        help_text="Identity of the source document this monograph is imported from",
    )
    review_interval_months = models.PositiveSmallIntegerField(default=24)
    next_review = models.DateField(null=True, blank=True)

    objects = MonographManager()
    NATURAL_KEY = ("slug",)

    class Meta:
        ordering = ["drug__name", "-is_primary", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["drug"], condition=Q(is_primary=True), name="one_primary_monograph_per_drug"
            ),
            models.CheckConstraint(condition=Q(kind__in=["reference", "patient"]), name="monograph_kind_valid"),
            models.CheckConstraint(
                condition=Q(drug__isnull=True) ^ Q(topic__isnull=True),
                name="monograph_of_drug_or_topic",
                violation_error_message="A monograph is about a drug or a topic: choose exactly one.",
            ),
            models.CheckConstraint(
                condition=Q(topic__isnull=True, level__isnull=True)
                | Q(topic__isnull=False, level__isnull=False, level__in=[1, 2, 3], is_primary=False),
                name="topic_monograph_has_level",
                violation_error_message="A topic's monograph needs a reading level and is never a drug's primary "
                "monograph; a drug's monograph has no reading level.",
            ),
            models.UniqueConstraint(fields=["topic", "level"], name="one_monograph_per_topic_level"),
        ]

    def __str__(self):
        return self.slug

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        if self.topic_id is not None:
            return self.topic_level_url(self.topic.slug, self.level)
        if self.is_primary:
            return address("monographs:drug", self.drug.slug)
        return address("monographs:monograph", self.slug)

    @classmethod
    def topic_level_url(cls, topic_slug: str, level: int) -> str:
        path = cls.LEVEL_PATHS[level]
        if not path:
            return address("monographs:topic", topic_slug)
        return address("monographs:topic_level", topic_slug, path)

    def kind_label(self) -> str:
        """What readers are told the page is: its kind, or for a topic its reading level."""
        if self.topic_id is not None:
            return f"Topic, {self.get_level_display().lower()}"
        return self.get_kind_display()

    @property
    def about(self) -> Drug | Topic:
        """The drug or the topic this monograph is about."""
        return self.drug if self.drug_id is not None else self.topic

    @property
    def live_revision(self) -> Revision | None:
        return self.revisions.live().first()

    def start_draft(self, user) -> Revision:
        """Open (or create, from the live revision) this monograph's one draft."""
        from . import workflow

        return workflow.start_draft(self, user)


class LegacyPath(models.Model):
    """A path on a source site (its `uri`) that now answers with a 301 to the monograph."""

    path = models.CharField(max_length=500, unique=True, help_text="Normalised: leading slash, no trailing slash")
    monograph = models.ForeignKey(Monograph, on_delete=models.CASCADE, related_name="legacy_paths")

    class Manager(models.Manager):
        def get_by_natural_key(self, path):
            return self.get(path=path)

    objects = Manager()

    class Meta:
        ordering = ["path"]

    def __str__(self):
        return self.path

    def natural_key(self):
        return (self.path,)

    @staticmethod
    def normalise(path: str) -> str:
        return "/" + path.strip().strip("/")

    def save(self, *args, **kwargs):
        self.path = self.normalise(self.path)
        super().save(*args, **kwargs)


class RevisionQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status=Revision.Status.PUBLISHED)

    def open(self):
        return self.filter(status__in=[Revision.Status.DRAFT, Revision.Status.IN_REVIEW, Revision.Status.APPROVED])

    def with_content(self):
        """Everything a page shows, in a fixed number of queries whatever the revision holds."""
        return self.select_related("monograph__drug", "monograph__topic").prefetch_related(
            "credits__author",
            "faqs",
            "comparisons__attributes",
            "comparisons__subjects__cells",
            "comparisons__subjects__drug",
        )

    def for_page(self):
        """What a public page shows beside the rendered body: the monograph, its drug or topic, the credits
        and the stored rendering.  In a revision's own order: the models' default orderings follow their
        foreign keys (a credit's → its revision's → its monograph's → its drug's name), which cost every
        page view a join to order by a column that is the same in every row."""
        credits = Credit.objects.select_related("author").order_by("role", "position")
        return (
            self.select_related("monograph__drug", "monograph__topic", "prerendered")
            .prefetch_related(models.Prefetch("credits", queryset=credits))
            .order_by()
        )


class LiveStamp(NamedTuple):
    """What identifies a public page's content: its live revision and the content generation (the lists
    of other drugs and monographs beside it).  `published_at` answers conditional GETs."""

    revision_id: int
    published_at: dt.datetime
    generation: int


class RevisionManager(models.Manager.from_queryset(RevisionQuerySet)):
    def live_stamp(
        self,
        *,
        drug_slug: str | None = None,
        monograph_slug: str | None = None,
        topic_slug: str | None = None,
        level: int | None = None,
    ) -> LiveStamp | None:
        """Which revision of a drug's primary monograph, of a monograph, or of a topic's reading level is
        live, when it was published, and the content generation (None when nothing is live).

        Plain SQL: every public page view asks it, cached or not (it stamps the cached page and answers
        conditional GETs), and building this three-table query through the ORM cost ten times what the
        database then spends answering it.  The generation is one more column of the same query.
        """
        revision, monograph, drug = Revision._meta.db_table, Monograph._meta.db_table, Drug._meta.db_table
        generation = ContentGeneration.table
        if drug_slug is not None:
            where, value = "d.slug = %s AND m.is_primary = %s", [drug_slug, True]
            join = f" JOIN {drug} d ON d.id = m.drug_id"
        elif topic_slug is not None:
            where, value = "t.slug = %s AND m.level = %s", [topic_slug, level]
            join = f" JOIN {Topic._meta.db_table} t ON t.id = m.topic_id"
        else:
            where, value, join = "m.slug = %s", [monograph_slug], ""  # a topic's monograph has no drug
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT r.id, r.published_at, (SELECT g.value FROM {generation} g WHERE g.id = 1)"  # noqa: S608
                f" FROM {revision} r"  # table names from the models
                f" JOIN {monograph} m ON m.id = r.monograph_id{join}"
                f" WHERE {where} AND r.status = %s LIMIT 1",
                [*value, Revision.Status.PUBLISHED],
            )
            row = cursor.fetchone()
        if row is None or row[1] is None:
            return None
        revision_id, published, generation_value = row
        if isinstance(published, str):  # SQLite without declared-type parsing
            published = dt.datetime.fromisoformat(published)
        if settings.USE_TZ and timezone.is_naive(published):
            published = timezone.make_aware(published, dt.UTC)  # SQLite keeps UTC, without the zone
        return LiveStamp(revision_id, published, generation_value or 0)

    def for_public_page(self, revision_id: int) -> Revision | None:
        """Revision `revision_id` if it is live, as `live().for_page()` loads it — its monograph, the
        monograph's drug or topic, its stored page (`prerendered`) and its credits with their authors —
        in two queries; None if it is not live (any more).

        Plain SQL, for the reason `live_stamp` is: every public page that is not cached asks it, and the
        ORM spent 3–5 ms building and loading the two querysets, this 0.6 ms."""
        r, m, d, t, p = (
            _columns(Revision, "r"),
            _columns(Monograph, "m"),
            _columns(Drug, "d"),
            _columns(Topic, "t"),
            _columns(RenderedRevision, "p"),
        )
        c, a = _columns(Credit, "c"), _columns(Author, "a")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {r.sql}, {m.sql}, {d.sql}, {t.sql}, {p.sql} FROM {Revision._meta.db_table} r"  # noqa: S608
                f" JOIN {Monograph._meta.db_table} m ON m.id = r.monograph_id"
                f" LEFT JOIN {Drug._meta.db_table} d ON d.id = m.drug_id"
                f" LEFT JOIN {Topic._meta.db_table} t ON t.id = m.topic_id"
                f" LEFT JOIN {RenderedRevision._meta.db_table} p ON p.revision_id = r.id"
                " WHERE r.id = %s AND r.status = %s",
                [revision_id, Revision.Status.PUBLISHED],
            )
            row = cursor.fetchone()
            if row is None:
                return None
            cursor.execute(
                f"SELECT {c.sql}, {a.sql} FROM {Credit._meta.db_table} c"  # noqa: S608
                f" JOIN {Author._meta.db_table} a ON a.id = c.author_id"
                " WHERE c.revision_id = %s ORDER BY c.role, c.position",
                [revision_id],
            )
            credit_rows = cursor.fetchall()
        parts, start = [], 0
        for columns in (r, m, d, t, p):
            parts.append(row[start : start + len(columns)])
            start += len(columns)
        revision, monograph = r.load(parts[0]), m.load(parts[1])
        drug_values, topic_values, page_values = parts[2:]
        revision.monograph = monograph
        if monograph.drug_id is not None:
            monograph.drug = d.load(drug_values)
        if monograph.topic_id is not None:
            monograph.topic = t.load(topic_values)
        page = p.load(page_values) if page_values[0] is not None else None
        Revision.prerendered.related.set_cached_value(revision, page)  # None: reading it raises DoesNotExist
        credits = []
        for credit_row in credit_rows:
            credit = c.load(credit_row[: len(c)])
            credit.author = a.load(credit_row[len(c) :])
            credits.append(credit)
        # Where prefetch_related("credits") keeps them, so `revision.credits.all()` reads no more.
        prefetched = revision.credits.all()
        prefetched._result_cache, prefetched._prefetch_done = credits, True
        revision._prefetched_objects_cache = {Revision.credits.rel.cache_name: prefetched}
        return revision

    def get_by_natural_key(self, monograph_slug, number):
        # Callers (the deserializers) want the primary key: leave the content columns unread.
        return self.only("monograph", "number").get(monograph__slug=monograph_slug, number=number)


class Revision(models.Model):
    """The content of a monograph at one moment.  Once submitted it never changes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        IN_REVIEW = "in_review", "in review"
        APPROVED = "approved", "approved"
        PUBLISHED = "published", "published"
        SUPERSEDED = "superseded", "superseded"
        UNPUBLISHED = "unpublished", "unpublished"

    monograph = models.ForeignKey(Monograph, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    body = MarkdownxField(blank=True)
    change_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now, help_text="When the content last changed")
    reviewed_at = models.DateTimeField(null=True, blank=True, help_text="When the content was last proof-read")
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False, help_text="Optimistic-concurrency counter")
    editors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="edited_revisions")
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The revision this one was started from",
    )
    publish_at = models.DateTimeField(null=True, blank=True, help_text="Scheduled go-live time")
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Provenance of imported content.
    source_file = models.CharField(max_length=300, blank=True)
    source_id = models.CharField(max_length=300, blank=True)
    source_format = models.CharField(max_length=100, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    source_meta = models.JSONField(
        default=dict, blank=True, help_text="Front matter as imported, unknown keys included"
    )

    objects = RevisionManager()
    NATURAL_KEY = ("monograph__slug", "number")

    class Meta:
        ordering = ["monograph", "-number"]
        permissions = [
            ("review_revision", "Can approve a revision or request changes"),
            ("publish_revision", "Can publish, schedule, unpublish and revert revisions"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["monograph", "number"], name="revision_number_unique"),
            models.UniqueConstraint(
                fields=["monograph"], condition=Q(status="published"), name="one_live_revision_per_monograph"
            ),
            models.UniqueConstraint(
                fields=["monograph"],
                condition=Q(status__in=["draft", "in_review", "approved"]),
                name="one_open_revision_per_monograph",
            ),
            models.CheckConstraint(
                condition=Q(publish_at__isnull=True) | Q(status="approved"), name="only_approved_is_scheduled"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "in_review", "approved", "published", "superseded", "unpublished"]),
                name="revision_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False), name="published_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.monograph.slug} r{self.number} ({self.get_status_display()})"

    def natural_key(self):
        return related_key(self, "monograph") + (self.number,)

    natural_key.dependencies = ["monographs.monograph"]

    def get_absolute_url(self):
        return self.monograph.get_absolute_url()

    # Workflow transitions: each is atomic, locks its rows, checks one table of allowed moves and
    # writes a WorkflowEvent (the bodies live in monographs/workflow.py).
    def submit(self, user, change_note: str = "") -> None:
        from . import workflow

        workflow.submit(self, user, change_note)

    def withdraw(self, user, comment: str = "") -> None:
        from . import workflow

        workflow.withdraw(self, user, comment)

    def withdraw_approval(self, user, comment: str) -> None:
        from . import workflow

        workflow.withdraw_approval(self, user, comment)

    def cancel_schedule(self, user, comment: str = "") -> None:
        from . import workflow

        workflow.cancel_schedule(self, user, comment)

    def request_changes(self, user, comment: str) -> None:
        from . import workflow

        workflow.request_changes(self, user, comment)

    def approve(self, user, comment: str = "") -> None:
        from . import workflow

        workflow.approve(self, user, comment)

    def publish(self, user, confirm_broken_links: bool = False, comment: str = "") -> None:
        from . import workflow

        workflow.publish(self, user, confirm_broken_links=confirm_broken_links, comment=comment)

    def schedule(self, user, at, confirm_broken_links: bool = False) -> None:
        from . import workflow

        workflow.schedule(self, user, at, confirm_broken_links=confirm_broken_links)

    def unpublish(self, user, comment: str) -> None:
        from . import workflow

        workflow.unpublish(self, user, comment)

    def revert(self, user) -> Revision:
        from . import workflow

        return workflow.revert(self, user)

    def save_draft(self, user, expected_version: int, parts_changed=()) -> None:
        from . import workflow

        workflow.save_draft(self, user, expected_version, parts_changed)

    def editorial_warnings(self) -> list[str]:
        """What looks like a slip to an editor: advice shown on the revision page, never a refusal."""
        warnings = []
        summary = self.summary.strip()
        if summary.endswith(("...", "…")):
            warnings.append("The summary ends in “…”: it may have been cut off.")
        elif summary and summary[-1].isalnum():
            warnings.append("The summary ends mid-sentence, without a full stop: it may have been cut off.")
        known = {word.casefold() for name in _known_names() for word in _NAME_WORD.findall(name)}
        for word in dict.fromkeys(_NAME_WORD.findall(self.title)):
            if len(word) < 4 or word.casefold() in known:
                continue
            allowed = 1 if len(word) < 8 else 2
            match = process.extractOne(word.casefold(), known, scorer=OSA.distance, score_cutoff=allowed)
            if match:
                warnings.append(f"The title’s “{word}” is one slip from the known name “{match[0]}”: is it misspelt?")
        return warnings

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    def credited(self, role: str) -> list[Credit]:
        """The credits in one role, in order; each has the `name` a byline shows (see Credit.name)."""
        return [credit for credit in self.credits.all() if credit.role == role]

    @property
    def authors(self) -> list[Credit]:
        return self.credited(Credit.Role.AUTHOR)

    @property
    def proof_readers(self) -> list[Credit]:
        return self.credited(Credit.Role.PROOF_READER)


class RevisionPartManager(models.Manager):
    """Natural key of a row owned by a revision: the revision's key plus the row's own."""

    key_field = "position"

    def get_by_natural_key(self, monograph_slug, number, key):
        return self.get(revision__monograph__slug=monograph_slug, revision__number=number, **{self.key_field: key})


class Credit(models.Model):
    """A person credited on a revision as an author or as a proof-reader (the sign-off record)."""

    class Role(models.TextChoices):
        AUTHOR = "author", "author"
        PROOF_READER = "proof_reader", "proof-reader"

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="credits")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="credits")
    role = models.CharField(max_length=20, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField(null=True, blank=True, help_text="For a proof-reader: when they signed off")
    signed_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="The name as it stood when the revision was signed off (empty while it is a draft)",
    )

    class Manager(models.Manager):
        def get_by_natural_key(self, monograph_slug, number, role, author_slug):
            return self.get(
                revision__monograph__slug=monograph_slug, revision__number=number, role=role, author__slug=author_slug
            )

    objects = Manager()

    class Meta:
        ordering = ["revision", "role", "position"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "role", "author"], name="credit_unique"),
            models.CheckConstraint(condition=Q(role__in=["author", "proof_reader"]), name="credit_role_valid"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"

    @property
    def name(self) -> str:
        """What a byline shows: the name as signed off, so renaming an Author never rewrites a signed
        byline; an unsigned draft shows the Author's current name."""
        return self.signed_name or self.author.name

    def natural_key(self):
        return related_key(self, "revision") + (self.role, *related_key(self, "author"))

    natural_key.dependencies = ["monographs.revision", "monographs.author"]


class FAQ(models.Model):
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="faqs")
    position = models.PositiveSmallIntegerField()
    question = models.TextField()
    answer = models.TextField(help_text="Markdown")

    objects = RevisionPartManager()

    class Meta:
        ordering = ["revision", "position"]
        verbose_name = "FAQ"
        constraints = [models.UniqueConstraint(fields=["revision", "position"], name="faq_position_unique")]

    def __str__(self):
        return self.question

    def natural_key(self):
        return related_key(self, "revision") + (self.position,)

    natural_key.dependencies = ["monographs.revision"]


class ComparisonQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revision__status=Revision.Status.PUBLISHED)

    def mentioning(self, drug: Drug):
        """Live comparisons with `drug` as a column, or that belong to one of its monographs."""
        return (
            self.live()
            .filter(Q(subjects__drug=drug) | Q(revision__monograph__drug=drug))
            .select_related("revision__monograph__drug")
            .distinct()
            .order_by("caption")
        )


class ComparisonManager(RevisionPartManager.from_queryset(ComparisonQuerySet)):
    key_field = "slug"


class Comparison(models.Model):
    """A comparison table that belongs to a revision's proof-read content.

    The body embeds it with a line `[[comparison:<slug>]]`; it also has a page of its own.
    """

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="comparisons")
    slug = models.SlugField(max_length=200)
    caption = models.CharField(max_length=500)
    footnotes = models.TextField(blank=True, help_text="Markdown")

    objects = ComparisonManager()
    NATURAL_KEY = ("revision__monograph__slug", "revision__number", "slug")

    class Meta:
        ordering = ["revision", "slug"]
        constraints = [models.UniqueConstraint(fields=["revision", "slug"], name="comparison_slug_unique")]

    def __str__(self):
        return self.caption

    def natural_key(self):
        return related_key(self, "revision") + (self.slug,)

    natural_key.dependencies = ["monographs.revision"]

    def get_absolute_url(self):
        return address("monographs:comparison", self.slug)

    def rows(self) -> list[tuple[ComparisonAttribute, list[ComparisonCell | None]]]:
        """Attributes with their cells in subject order (uses prefetched rows when present)."""
        subjects = list(self.subjects.all())
        cells = {(cell.subject_id, cell.attribute_id): cell for subject in subjects for cell in subject.cells.all()}
        return [
            (attribute, [cells.get((subject.pk, attribute.pk)) for subject in subjects])
            for attribute in self.attributes.all()
        ]


COMPARISON_PART_KEY = (
    "comparison__revision__monograph__slug",
    "comparison__revision__number",
    "comparison__slug",
    "position",
)


class ComparisonPartManager(models.Manager):
    def get_by_natural_key(self, monograph_slug, number, comparison_slug, position):
        return self.get(
            comparison__revision__monograph__slug=monograph_slug,
            comparison__revision__number=number,
            comparison__slug=comparison_slug,
            position=position,
        )


class ComparisonSubject(models.Model):
    """A column: a drug, a class, or free text such as “Bisphosphonates*”."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="subjects")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    drug = models.ForeignKey(Drug, null=True, blank=True, on_delete=models.SET_NULL, related_name="comparison_subjects")
    drug_class = models.ForeignKey(
        DrugClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="comparison_subjects"
    )

    objects = ComparisonPartManager()
    NATURAL_KEY = COMPARISON_PART_KEY

    class Meta:
        ordering = ["comparison", "position"]
        constraints = [
            models.UniqueConstraint(fields=["comparison", "position"], name="subject_position_unique"),
            models.CheckConstraint(
                condition=Q(drug__isnull=True) | Q(drug_class__isnull=True), name="subject_is_drug_or_class"
            ),
        ]

    def __str__(self):
        return self.label

    def natural_key(self):
        return related_key(self, "comparison") + (self.position,)

    natural_key.dependencies = ["monographs.comparison"]


class ComparisonAttribute(models.Model):
    """A row of a comparison (“Mechanism of action”)."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="attributes")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=300)

    objects = ComparisonPartManager()
    NATURAL_KEY = COMPARISON_PART_KEY

    class Meta:
        ordering = ["comparison", "position"]
        constraints = [models.UniqueConstraint(fields=["comparison", "position"], name="attribute_position_unique")]

    def __str__(self):
        return self.label

    def natural_key(self):
        return related_key(self, "comparison") + (self.position,)

    natural_key.dependencies = ["monographs.comparison"]


class ComparisonCell(models.Model):
    subject = models.ForeignKey(ComparisonSubject, on_delete=models.CASCADE, related_name="cells")
    attribute = models.ForeignKey(ComparisonAttribute, on_delete=models.CASCADE, related_name="cells")
    text = models.TextField(blank=True, help_text="Markdown")

    class Manager(models.Manager):
        def get_by_natural_key(self, monograph_slug, number, comparison_slug, subject_position, attribute_position):
            return self.get(
                subject__comparison__revision__monograph__slug=monograph_slug,
                subject__comparison__revision__number=number,
                subject__comparison__slug=comparison_slug,
                subject__position=subject_position,
                attribute__position=attribute_position,
            )

    objects = Manager()

    class Meta:
        ordering = ["attribute__position", "subject__position"]
        constraints = [models.UniqueConstraint(fields=["subject", "attribute"], name="cell_unique")]

    def __str__(self):
        return f"{self.attribute} × {self.subject}"

    def natural_key(self):
        return related_key(self, "subject") + related_key(self, "attribute")[-1:]

    natural_key.dependencies = ["monographs.comparisonsubject", "monographs.comparisonattribute"]

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.subject_id and self.attribute_id and self.subject.comparison_id != self.attribute.comparison_id:
            raise ValidationError("A cell's subject and attribute must belong to the same comparison.")


class ProposedChange(models.Model):
    """A change to what readers see of a drug, a class or a monograph's identity, waiting for a second person.

    Modelled like a revision of a snippet: `after` is a JSON snapshot of the object as it would be
    (monographs/proposals.py writes and applies snapshots), `before` the snapshot it was proposed
    against.  Approving applies it (monographs/workflow.py); the proposal and its before/after stay.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "awaiting approval"
        APPLIED = "applied", "approved and applied"
        REJECTED = "rejected", "rejected"
        WITHDRAWN = "withdrawn", "withdrawn"

    class Target(models.TextChoices):
        DRUG = "drug", "drug"
        DRUG_CLASS = "drugclass", "drug class"
        MONOGRAPH = "monograph", "monograph"
        TOPIC = "topic", "topic"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    target = models.CharField(max_length=20, choices=Target.choices)
    object_id = models.PositiveBigIntegerField()
    object_name = models.CharField(max_length=300, help_text="What the object was called when this was proposed")
    before = models.JSONField(help_text="The object as it was when the change was proposed")
    after = models.JSONField(help_text="The object as it will be once the change is applied")
    note = models.TextField(blank=True, help_text="Why the change is needed")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED, editable=False)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Manager(models.Manager):
        def get_by_natural_key(self, key):
            return self.get(uuid=key)

        def awaiting(self):
            return self.filter(status=ProposedChange.Status.PROPOSED)

    objects = Manager()
    NATURAL_KEY = ("uuid",)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        permissions = [("propose_change", "Can propose a change to a drug, class or monograph")]
        indexes = [models.Index(fields=["target", "object_id"], name="proposal_target")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "applied", "rejected", "withdrawn"]), name="proposal_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(target__in=["drug", "drugclass", "monograph", "topic"]), name="proposal_target_valid"
            ),
        ]

    def __str__(self):
        return f"Change to {self.get_target_display()} {self.object_name} ({self.get_status_display()})"

    def natural_key(self):
        return (str(self.uuid),)

    @property
    def target_model(self):
        return {"drug": Drug, "drugclass": DrugClass, "monograph": Monograph, "topic": Topic}[self.target]

    def target_object(self):
        return self.target_model.objects.filter(pk=self.object_id).first()


# The first element of a proposal event's natural key: no revision's monograph slug can contain "#".
PROPOSAL_EVENT_KEY = "#proposal"


class WorkflowEventManager(RevisionPartManager):
    key_field = "sequence"

    def get_by_natural_key(self, monograph_slug, number, key):
        if monograph_slug == PROPOSAL_EVENT_KEY:
            return self.get(proposal__uuid=number, sequence=key)
        return super().get_by_natural_key(monograph_slug, number, key)


class WorkflowEvent(models.Model):
    """Who moved which revision or proposed change from which state to which, when, with what comment."""

    revision = models.ForeignKey(Revision, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    proposal = models.ForeignKey(ProposedChange, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    sequence = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    comment = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="e.g. broken links the publisher confirmed")
    at = models.DateTimeField(default=now)

    objects = WorkflowEventManager()

    class Meta:
        ordering = ["revision", "proposal", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "sequence"], name="event_sequence_unique"),
            models.UniqueConstraint(fields=["proposal", "sequence"], name="proposal_event_sequence_unique"),
            models.CheckConstraint(
                condition=Q(revision__isnull=True) ^ Q(proposal__isnull=True), name="event_of_revision_or_proposal"
            ),
        ]

    def __str__(self):
        return f"{self.revision or self.proposal}: {self.from_status or '∅'} → {self.to_status}"

    def natural_key(self):
        if self.revision_id is None:
            return (PROPOSAL_EVENT_KEY, *related_key(self, "proposal"), self.sequence)
        return related_key(self, "revision") + (self.sequence,)

    natural_key.dependencies = ["monographs.revision", "monographs.proposedchange"]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 month → 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class SearchEntry(models.Model):
    """The search index: one row per monograph that has a live revision (kept by monographs/search.py).

    A separate table rather than fields on Revision: the index is derived data, rebuilt at will
    (`manage.py reindex_search`), and never part of fixtures or of the editorial record.
    """

    monograph = models.OneToOneField(Monograph, on_delete=models.CASCADE, related_name="search_entry")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=300, db_index=True, help_text="The live revision's title (sort order)")
    names = models.TextField(help_text="INN, title, aliases and brand names, one per line")
    misspellings = models.TextField(blank=True, help_text="Aliases recorded as misspellings, one per line")
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True, help_text="Plain text of the rendered body, tables and FAQs")
    # PostgreSQL only, each GIN-indexed; they stay empty on SQLite, where FTS5 tables kept by triggers
    # do the same work (migration 0006).  `vector` holds everything (names A, summary B, body C); the
    # two small ones let a query sort names and summaries without reading any body.
    vector = SearchVectorField(null=True, editable=False)
    name_vector = SearchVectorField(null=True, editable=False)
    summary_vector = SearchVectorField(null=True, editable=False)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "search entries"

    def __str__(self):
        return f"search entry for {self.monograph}"


class SearchWord(models.Model):
    """Every word of the indexed names, once: where PostgreSQL looks for the name a misspelt query
    word was meant to be (a pg_trgm GIN index on one short word per row answers in a few
    milliseconds; the same over whole lists of names took a hundred).  Derived data, like
    SearchEntry: `reindex_search` rebuilds it and drops words no longer in any name."""

    word = models.CharField(max_length=300, unique=True, help_text="Lower case")
    written = models.CharField(max_length=300, help_text="As a name writes it")
    correction = models.CharField(
        max_length=300, blank=True, help_text="For a recorded misspelling: the name of its drug"
    )

    def __str__(self):
        return self.written


class ContentGeneration:
    """One number that moves on with every change readers can see, in the transaction that makes it.

    Whole-page caches are tagged with it (monographs/pagecache.py), so a publish, an import or a drug
    edit made by any process — another app server, `publish_scheduled` from cron, `import_sources` —
    makes every cached page of every server stale as soon as it commits, even with a cache of one
    process's memory.  It is read in the same query as the page's stamp (`Revision.objects.live_stamp`),
    so it costs nothing more.

    A table of one row that migration 0014 makes, and not a Django model: a process-wide counter, not
    content, so `dumpdata` never writes it into a fixture or a backup, `loaddata` never takes it back,
    and a test's `flush` leaves its row in place.
    """

    table = "monographs_content_generation"

    @classmethod
    def move_on(cls) -> None:
        """Every cached page becomes stale when the caller's transaction commits (and stays fresh if it
        rolls back).  The UPDATE locks the row until then: call it at the end of a transaction."""
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {cls.table} SET value = value + 1 WHERE id = 1")  # noqa: S608

    @classmethod
    def value(cls) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {cls.table} WHERE id = 1")  # noqa: S608
            return cursor.fetchone()[0]


def free_slug(text: str, taken) -> str:
    """The slug of `text`, suffixed -2, -3, … until `taken(candidate)` is false."""
    base = slugify(text)[:190] or "item"
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def unique_slug(model, text: str, field: str = "slug", exclude_pk=None, **scope) -> str:
    """A slug for `text` not yet used in `model` (within `scope`), suffixing -2, -3, … when taken."""

    def taken(candidate: str) -> bool:
        qs = model.objects.filter(**{field: candidate}, **scope)
        return (qs.exclude(pk=exclude_pk) if exclude_pk is not None else qs).exists()

    return free_slug(text, taken)


class Notification(models.Model):
    """A move on a revision, told to one person who needs to know: listed in their inbox and e-mailed."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "submitted for review"
        APPROVED = "approved", "approved"
        CHANGES_REQUESTED = "changes_requested", "changes requested"
        PUBLISHED = "published", "published"
        UNPUBLISHED = "unpublished", "unpublished"
        SCHEDULED = "scheduled", "scheduled"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    event = models.ForeignKey(WorkflowEvent, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=300)
    text = models.TextField()
    created_at = models.DateTimeField(default=now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox")]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event"], name="one_notification_per_event_and_person"),
        ]

    def __str__(self):
        return f"to {self.recipient}: {self.subject}"


class NotificationOptOut(models.Model):
    """A kind of notification one person has turned off for themselves (everything is on by default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_opt_outs")
    kind = models.CharField(max_length=20, choices=Notification.Kind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_opt_out_per_kind")]

    def __str__(self):
        return f"{self.user}: no “{self.get_kind_display()}”"


class InternalLink(models.Model):
    """One internal link in a monograph's live revision (kept by monographs/linkgraph.py).

    Derived data, like SearchEntry: rebuilt for one monograph when its live revision changes, for all
    by `manage.py rebuild_links`, and never part of fixtures.  The target is kept as written — a kind
    and a slug or path — so a link whose target disappears is still known, and "what links here" finds
    it by the target's current slugs (monographs/linkgraph.py: `linking_to`).
    """

    class Kind(models.TextChoices):
        DRUG = "drug", "drug page"
        MONOGRAPH = "monograph", "monograph"
        CLASS = "class", "drug class"
        COMPARISON = "comparison", "comparison"
        TOPIC = "topic", "topic"
        PATH = "path", "other path (legacy or unknown)"

    source = models.ForeignKey(Monograph, on_delete=models.CASCADE, related_name="links_out")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    href = models.CharField(max_length=1000)
    text = models.CharField(max_length=500, blank=True)
    target_kind = models.CharField(max_length=20, choices=Kind.choices)
    target_key = models.CharField(max_length=500, help_text="The target's slug, or the normalised path")

    class Meta:
        ordering = ["source", "position"]
        indexes = [models.Index(fields=["target_kind", "target_key"], name="internal_link_target")]

    def __str__(self):
        return f"{self.source} → {self.href}"


class ConsistencyDismissal(models.Model):
    """A consistency finding a proof-reader or publisher has judged not to need fixing, and why.

    It matches the finding's fingerprint, a hash of its evidence (monographs/consistency.py): when the
    evidence changes the finding is reported again.
    """

    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=500, help_text="What the finding is about")
    fingerprint = models.CharField(max_length=64, unique=True)
    evidence = models.JSONField(default=list, help_text="The evidence as it was when dismissed")
    reason = models.TextField()
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dismissed_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-dismissed_at", "-pk"]
        indexes = [models.Index(fields=["kind", "key"], name="dismissal_finding")]

    def __str__(self):
        return f"{self.kind} {self.key}: dismissed ({self.reason[:60]})"


class ComparisonReview(models.Model):
    """The live revision of a drug's primary monograph that a comparison naming the drug (as a column or
    in its cells' text) was last checked against: set when the comparison's revision goes live, moved on
    when a proof-reader confirms the comparison after the drug's monograph changed
    (monographs/consistency.py)."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="reviews")
    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="+")
    against = models.ForeignKey(Revision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comparison", "drug"], name="one_review_per_comparison_drug")]

    def __str__(self):
        return f"{self.comparison} checked against {self.against}"


class ConsistencyRun(models.Model):
    """When the stored run of the consistency checks was made, and with which content generation: the
    report and the dashboard read it while no change readers can see has been made since (and for at most
    consistency.RUN_SECONDS, for changes that announce nothing).  At most one row."""

    ran_at = models.DateTimeField(default=now)
    generation = models.BigIntegerField(help_text="ContentGeneration when the run began")
    findings = models.PositiveIntegerField()
    version = models.PositiveIntegerField(default=0, help_text="consistency.CHECKS_VERSION that made the run")

    def __str__(self):
        return f"consistency run of {self.ran_at:%Y-%m-%d %H:%M}: {self.findings} findings"


class ConsistencyFinding(models.Model):
    """One finding of the stored run (monographs/consistency.py), in the report's order: derived data,
    replaced by each run and never in fixtures, so that a page of the report reads its own findings
    from the database instead of the whole run.  A publish replaces only the findings about the drugs it
    changed (`drug_a`, `drug_b`, or the key), so each row carries its place in the report (`sort`) rather
    than a position that every insertion would renumber."""

    sort = models.TextField(
        default="", help_text="The report's order: the kind's rank, then its names and ids, hex-encoded"
    )
    drug_a = models.BigIntegerField(null=True, blank=True, help_text="A drug whose change recomputes it")
    drug_b = models.BigIntegerField(null=True, blank=True, help_text="Another drug whose change recomputes it")
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, db_index=True)
    message = models.TextField()
    evidence = models.JSONField(default=list)
    fixes = models.JSONField(default=list, help_text="[label, admin model name, pk] of each place to fix it")
    review = models.IntegerField(null=True, blank=True, help_text="A stale comparison's ComparisonReview")

    class Meta:
        ordering = ["sort"]
        indexes = [
            models.Index(fields=["sort"], name="finding_sort"),
            models.Index(fields=["kind", "key"], name="finding_kind_key"),
            models.Index(fields=["drug_a"], name="finding_drug_a"),
            models.Index(fields=["drug_b"], name="finding_drug_b"),
        ]

    def __str__(self):
        return f"{self.kind} {self.key}"


class ConsistencyDrug(models.Model):
    """What the consistency checks read of one drug, as of its last announced change: its live primary
    monograph's Interactions and Contraindications sections and its classes.  Derived data (rebuilt by a
    full run, and for the drugs a publish announces), so that a publish finds the unchanged drugs whose
    sections name a changed drug without reading every live body (monographs/consistency.py)."""

    drug_id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    monograph_id = models.BigIntegerField(null=True, blank=True, help_text="The live primary monograph")
    interactions = models.TextField(null=True, blank=True)
    contraindications = models.TextField(null=True, blank=True)
    interaction_words = models.TextField(
        default="", help_text="Each sentence of the Interactions section as search words, “ | ” between sentences"
    )
    contraindication_stems = models.TextField(
        default="", help_text="Each sentence of the Contraindications section as word stems, “ | ” between"
    )
    classes = models.JSONField(default=list, help_text="The ids of the drug's classes")
    around = models.JSONField(
        default=list, help_text="Its classes and the classes they were nested in: the classes a change may empty"
    )

    def __str__(self):
        return f"consistency facts of {self.name}"


class ConsistencyName(models.Model):
    """One name of a drug (INN, brand or alias) as the consistency checks match it: derived data, kept
    with ConsistencyDrug, indexed by its case-folded form and by its search words."""

    drug_id = models.BigIntegerField(db_index=True)
    kind = models.CharField(max_length=20, help_text="inn, brand, or the alias's kind")
    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=200, blank=True, help_text="The alias's slug")
    folded = models.CharField(max_length=600, db_index=True)
    words = models.CharField(max_length=1200, db_index=True)
    size = models.PositiveSmallIntegerField(db_index=True, help_text="How many search words the name has")

    def __str__(self):
        return f"{self.kind} {self.name}"


class RenderedRevision(models.Model):
    """A published revision's page as the renderer made it: body, contents and FAQ answers.

    Derived data, like SearchEntry: written when the revision goes live (monographs/prerender.py, a
    receiver of monographs.signals.content_changed) and by the project's `loaddata`, rebuilt by
    `manage.py rerender` when `rendering.RENDERER_VERSION` changes, left out of every `dumpdata`.  A
    page whose row is missing or from another renderer version is rendered live instead.
    """

    revision = models.OneToOneField(Revision, on_delete=models.CASCADE, primary_key=True, related_name="prerendered")
    renderer_version = models.PositiveIntegerField()
    html = models.TextField(help_text="The body, comparison tables in place, sanitised")
    toc = models.JSONField(default=list, help_text="Contents entries, as rendering.Rendered.toc")
    faqs = models.JSONField(default=list, help_text="[question, answer as HTML, answer as plain text] per FAQ")
    rendered_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.revision} rendered by v{self.renderer_version}"
