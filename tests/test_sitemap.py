"""/sitemap.xml lists every public page; a monograph's lastmod is its last publication."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from monographs.models import Revision
from monographs.pagecache import content_changed
from monographs.sitemaps import Section

from . import factories

pytestmark = pytest.mark.django_db
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def entries(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return {
        u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS) for u in root.findall("s:url", NS)
    }


def test_it_lists_every_public_page(client, seeded):
    urls = set(entries(client))
    assert {
        "http://testserver/",
        "http://testserver/drugs/",
        "http://testserver/drugs/denosumab/",
        "http://testserver/monographs/denosumab-patient-information/",
        "http://testserver/compare/comparison-of-denusomab-and-bisphosphonates/",
        "http://testserver/classes/antiresorptive-agents/",
    } <= urls


def test_lastmod_is_the_last_publication_and_drafts_are_left_out(client, db):
    mono = factories.monograph(factories.drug("Alendronic acid"), body="text")
    factories.publish_new_revision(mono, body="new", published_at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC))
    factories.monograph(factories.drug("Zoledronic acid"), status=Revision.Status.DRAFT)
    found = entries(client)
    assert found["http://testserver/drugs/alendronic-acid/"].startswith("2025-06-02")
    assert "http://testserver/drugs/zoledronic-acid/" not in found


def test_the_sitemap_is_cached_until_content_changes(client, seeded, django_assert_num_queries):
    """At 20,000 monographs it is 3.5 MB and took 3–4 s to build: not on every anonymous request."""
    first = client.get("/sitemap.xml")
    with django_assert_num_queries(1):
        again = client.get("/sitemap.xml")
    for response in (first, again):
        assert response["Content-Type"] == "application/xml"
        assert response["X-Robots-Tag"] == "noindex, noodp, noarchive"
    assert again.content == first.content
    factories.monograph(factories.drug("Othermab"), body="text")
    content_changed()  # what publish, import and approved changes call
    assert "http://testserver/drugs/othermab/" in entries(client)


def test_the_sitemap_has_one_page(client, seeded):
    assert client.get("/sitemap.xml?p=1").status_code == 200
    assert client.get("/sitemap.xml?p=2").status_code == 404  # not page 1 again from the cache
    assert client.get("/sitemap.xml?p=x").status_code == 404


def urls_of(client, address):
    """The addresses of a sitemap page given by its absolute URL in an index."""
    response = client.get(address.removeprefix("http://testserver"))
    assert response.status_code == 200, address
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return [u.findtext("s:loc", namespaces=NS) for u in root.findall("s:url", NS)]


def test_beyond_the_protocols_limit_the_sitemap_is_an_index_of_pages_that_list_every_address(
    client, seeded, monkeypatch
):
    """A file may list 50,000 addresses: a larger site's /sitemap.xml is a sitemap index (here with a
    limit of 2), and its pages list every address of the one-file sitemap, each once."""
    every = set(entries(client))
    monkeypatch.setattr(Section, "limit", 2)
    content_changed()  # as when the site grew past the limit
    response = client.get("/sitemap.xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    assert response["X-Robots-Tag"] == "noindex, noodp, noarchive"
    pages = [s.findtext("s:loc", namespaces=NS) for s in root.findall("s:sitemap", NS)]
    assert "http://testserver/sitemap-monographs.xml" in pages
    assert "http://testserver/sitemap-pages.xml?p=2" in pages
    listed = [url for page in pages for url in urls_of(client, page)]
    assert all(len(urls_of(client, page)) <= 2 for page in pages)
    assert sorted(listed) == sorted(every)


def test_each_sitemap_page_is_cached_as_itself(client, seeded, monkeypatch, django_assert_num_queries):
    """The page cache keys by path, never by query string: a section's second page must not be served
    the first page's copy, nor the first page the second's."""
    monkeypatch.setattr(Section, "limit", 2)
    first, second = client.get("/sitemap-pages.xml"), client.get("/sitemap-pages.xml?p=2")
    assert first.content != second.content
    with django_assert_num_queries(1):
        assert client.get("/sitemap-pages.xml?p=2").content == second.content
    with django_assert_num_queries(1):
        assert client.get("/sitemap-pages.xml?p=1").content == first.content


@pytest.mark.parametrize(
    "address",
    [
        "/sitemap-pages.xml?p=9",
        "/sitemap-pages.xml?p=0",
        "/sitemap-pages.xml?p=01",
        "/sitemap-pages.xml?p=x",
        "/sitemap-nothing.xml",
    ],
)
def test_a_sitemap_page_that_does_not_exist_is_not_found(client, seeded, address):
    assert client.get(address).status_code == 404
