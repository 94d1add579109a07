"""The drug page stays cheap: a fixed number of queries, rendered HTML cached per revision, 304s."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monographs import rendering

from . import factories

pytestmark = pytest.mark.django_db
# Counted on the page as built: raise them only with a reason, never because content grew.
COLD_QUERIES = 17  # the rendered body is not cached yet: comparisons, their rows and FAQs are read
WARM_QUERIES = 11


def build_drug_page(n: int) -> str:
    """A drug with n brands, sections, FAQs, embedded comparisons and related drugs."""
    drug = factories.drug(f"Drug{n}mab", classes=["Test class"], brands=[f"Brand{n}x{i}" for i in range(n)])
    sections = "\n\n".join(f"## Section {i}\n\nText {i}.\n\n[[comparison:table-{n}-{i}]]" for i in range(n))
    mono = factories.monograph(drug, body=sections, faqs=n)
    others = [factories.drug(f"Other{n}x{i}", classes=["Test class"]) for i in range(n)]
    for i, other in enumerate(others):
        factories.monograph(other, body="text")
        factories.comparison(mono.revisions.get(), f"table-{n}-{i}", [drug, other], attributes=("Route", "Dose"))
    return drug.get_absolute_url()


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("n", [3, 30])
def test_the_drug_page_needs_a_fixed_number_of_queries(client, django_assert_max_num_queries, n):
    url = build_drug_page(n)
    with django_assert_max_num_queries(COLD_QUERIES):
        response = client.get(url)
    assert response.content.decode().count("<table") == n
    assert response.content.decode().count("<details") == n
    with django_assert_max_num_queries(WARM_QUERIES):
        client.get(url)


def test_the_query_count_does_not_grow_with_the_content(client):
    small, large = build_drug_page(3), build_drug_page(30)
    assert count_queries(client, small) == count_queries(client, large)


def test_the_rendered_body_of_a_live_revision_is_cached(client, monkeypatch):
    mono = factories.monograph(factories.drug("Alendronic acid"), body="## Uses\n\nWeekly.")
    assert "Weekly." in client.get("/drugs/alendronic-acid/").content.decode()

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered again although the revision is cached")

    monkeypatch.setattr(rendering, "render_document", no_rendering)
    assert "Weekly." in client.get("/drugs/alendronic-acid/").content.decode()
    assert cache.get(rendering.page_cache_key(mono.revisions.live().get())) is not None


def test_publishing_a_new_revision_changes_the_cached_page(client):
    mono = factories.monograph(factories.drug("Alendronic acid"), body="## Uses\n\nTake it weekly.")
    assert "Take it weekly." in client.get("/drugs/alendronic-acid/").content.decode()
    factories.publish_new_revision(mono, body="## Uses\n\nTake it monthly.")
    html = client.get("/drugs/alendronic-acid/").content.decode()
    assert "Take it monthly." in html and "Take it weekly." not in html


def test_the_cache_key_names_the_revision_and_the_renderer_version(db):
    mono = factories.monograph(factories.drug("Alendronic acid"), body="text")
    revision = mono.revisions.get()
    key = rendering.page_cache_key(revision)
    assert f":v{rendering.RENDERER_VERSION}:" in key and f":{revision.pk}:" in key
