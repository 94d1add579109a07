"""An uncached public page reads what it shows in four plain queries, the same rows the ORM querysets give.

The drug page's stamp, its revision with everything around it, the credits, and the lists beside it
(`Drug.objects.surroundings`) are plain SQL because the ORM spent most of an uncached page building
and loading ten querysets (issue 14: an uncached page at most 10× the flatpage floor).  These tests
hold the plain SQL to what the querysets it replaced return, on SQLite and PostgreSQL.
"""

import pytest
from django.core.cache import cache
from django.db import connection

from monographs.models import Alias, BrandName, Comparison, Drug, Monograph, RenderedRevision, Revision, Topic

from . import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/drugs/denosumab/", "/monographs/denosumab-patient-information/"])
def test_an_uncached_page_costs_four_queries(client, seeded, django_assert_num_queries, url):
    """The stamp, the revision with its monograph, drug and stored page, its credits, the lists beside it."""
    first = client.get(url)
    cache.clear()
    with django_assert_num_queries(4):
        again = client.get(url)
    assert again.status_code == 200 and again.content == first.content


def around_a_drug():
    """A drug with every kind of neighbour, and things that must not be listed."""
    drug = factories.drug(
        "Alendronic acid", classes=["Bisphosphonates", "Antiresorptive agents"], brands=["Zeta", "Alfa"]
    )
    for name, kind in (("alendronate", "synonym"), ("Alendronat", "former"), ("alendronik", "misspelling")):
        Alias.objects.create(drug=drug, name=name, slug=name.lower(), kind=kind)
    primary = factories.monograph(drug, body="## Uses\n\nWeekly.")
    factories.monograph(drug, primary=False, kind=Monograph.Kind.PATIENT, slug="alendronic-acid-patients")
    factories.monograph(drug, primary=False, slug="a-note-on-alendronic-acid")
    draft_only = Monograph.objects.create(slug="alendronic-acid-draft", drug=drug, kind="reference")
    factories.revision(draft_only, status=Revision.Status.DRAFT)
    live_neighbours = [factories.drug(name, classes=["Bisphosphonates"]) for name in ("Risedronate", "Etidronate")]
    for other in live_neighbours:
        factories.monograph(other, body="text")
    far = factories.drug("Denosumab", classes=["Antiresorptive agents"])  # through the other class
    factories.monograph(far, body="text")
    factories.drug("Clodronate", classes=["Bisphosphonates"])  # nothing live: not related
    factories.comparison(primary.revisions.get(), "own-table", [drug])
    factories.comparison(
        Monograph.objects.get(slug="risedronate").revisions.get(), "b-with-us", [live_neighbours[0], drug]
    )
    factories.comparison(Monograph.objects.get(slug="etidronate").revisions.get(), "not-about-us", live_neighbours)
    unpublished = Monograph.objects.create(slug="old-comparisons", drug=far, kind="reference")
    old = factories.revision(unpublished, status=Revision.Status.SUPERSEDED)
    factories.comparison(old, "old-table", [drug])
    return drug


def rows(items, *fields):
    return [tuple(getattr(item, field) for field in fields) for item in items]


@pytest.mark.parametrize("slug", ["alendronic-acid", "alendronic-acid-patients"])
def test_the_surroundings_are_the_querysets_rows_in_their_order(slug):
    drug = around_a_drug()
    monograph = Monograph.objects.get(slug=slug)
    around = Drug.objects.surroundings(drug, monograph)
    assert (
        rows(around.brands, "pk", "name")
        == rows(drug.brands.all(), "pk", "name")
        == [
            (BrandName.objects.get(name="Alfa").pk, "Alfa"),
            (BrandName.objects.get(name="Zeta").pk, "Zeta"),
        ]
    )
    assert rows(around.classes, "pk", "name", "slug") == rows(drug.classes.all(), "pk", "name", "slug")
    assert len(around.classes) == 2
    assert rows(around.aliases, "pk", "name") == rows(drug.aliases.all(), "pk", "name")
    assert len(around.aliases) == 3
    expected = Monograph.objects.live_about(drug).exclude(pk=monograph.pk)
    assert [
        (m.pk, m.slug, m.kind, m.is_primary, m.live[0].title, m.get_absolute_url()) for m in around.other_monographs
    ] == [(m.pk, m.slug, m.kind, m.is_primary, m.live[0].title, m.get_absolute_url()) for m in expected]
    assert len(around.other_monographs) == 2
    if slug != "alendronic-acid":  # the primary is listed first on another monograph's page
        assert around.other_monographs[0].is_primary
    assert rows(around.related_drugs, "pk", "name", "slug") == rows(Drug.objects.related_to(drug), "pk", "name", "slug")
    assert [related.name for related in around.related_drugs] == ["Denosumab", "Etidronate", "Risedronate"]
    assert rows(around.comparisons, "pk", "caption", "slug") == rows(
        Comparison.objects.mentioning(drug), "pk", "caption", "slug"
    )
    assert [table.slug for table in around.comparisons] == ["b-with-us", "own-table"]


def test_the_surroundings_of_a_drug_with_nothing_around_it_are_empty():
    drug = factories.drug("Lonelymab")
    around = Drug.objects.surroundings(drug, factories.monograph(drug))
    assert around == ([], [], [], [], [], [])


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="reads SQLite's query plan; PostgreSQL's planner picks by table sizes, so its plan for a test's "
    "few rows says nothing about a site's (the bench measures the page there)",
)
def test_the_surroundings_reach_every_table_through_an_index():
    """No branch reads a whole table or the whole list of live revisions.  As `IN (every live drug)` and
    `live AND (subject OR own monograph)`, the related-drug and comparison branches read every live
    revision of the site on each page (8 ms at 1,500 monographs, 65 ms at 20,000); this plan fails on
    both.  (Whether the live status is written into the SQL or bound does not show here: SQLite finds
    an index either way; written in, it saved 0.2 ms a page on the bench's corpus.)"""
    drug = around_a_drug()
    params = {"drug": drug.pk, "monograph": drug.monographs.first().pk, "related": 25}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + Drug.objects.surroundings_sql(), params)
        plan = [row[-1] for row in cursor.fetchall()]
    reads = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert len(reads) >= 12, plan
    # `shown`: the first related drugs (at most RELATED_SHOWN + 1 rows), read back from their subquery.
    assert [step for step in reads if not step.startswith("SEARCH") and step != "SCAN shown"] == [], plan


def loaded(revision):
    """What a page reads of a revision as loaded, without a query."""
    monograph = revision.monograph
    try:
        page = revision.prerendered
        stored = (page.renderer_version, page.html, page.toc, page.faqs, page.rendered_at)
    except RenderedRevision.DoesNotExist:
        stored = None
    return (
        [(field.attname, getattr(revision, field.attname)) for field in Revision._meta.concrete_fields],
        [(field.attname, getattr(monograph, field.attname)) for field in Monograph._meta.concrete_fields],
        [(field.attname, getattr(monograph.drug, field.attname)) for field in Drug._meta.concrete_fields]
        if monograph.drug_id
        else None,
        (monograph.topic.name, monograph.topic.slug) if monograph.topic_id else None,
        stored,
        [
            (credit.pk, credit.role, credit.position, credit.at, credit.name, credit.author.slug)
            for credit in revision.credits.all()
        ],
    )


def test_the_public_page_revision_is_what_the_orm_loads(seeded, django_assert_num_queries):
    """For every live revision of the seed (pages stored by load_seed), one with its stored page removed,
    and a topic's level (its monograph has a topic, not a drug)."""
    topic = Topic.objects.create(name="Bone health", slug="bone-health")
    level = Monograph.objects.create(slug="bone-health-basics", topic=topic, level=1, kind=Monograph.Kind.PATIENT)
    factories.revision(level, title="Bone health", body="text", proof_reader=None)
    live = list(Revision.objects.live().values_list("pk", flat=True))
    assert len(live) == 3
    unstored = Revision.objects.live().filter(monograph__drug__isnull=False).first()
    RenderedRevision.objects.filter(revision=unstored).delete()
    for pk in live:
        fast = Revision.objects.for_public_page(pk)
        with django_assert_num_queries(0):
            seen = loaded(fast)
        assert seen == loaded(Revision.objects.live().for_page().get(pk=pk))
        assert (seen[4] is None) == (pk in (unstored.pk, level.revisions.get().pk))


def test_a_revision_that_is_not_live_is_not_loaded_for_a_public_page(seeded):
    live = Revision.objects.live().first()
    assert Revision.objects.for_public_page(live.pk) is not None
    Revision.objects.filter(pk=live.pk).update(status=Revision.Status.SUPERSEDED)
    assert Revision.objects.for_public_page(live.pk) is None
    assert Revision.objects.for_public_page(10**9) is None
