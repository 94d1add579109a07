"""Public pages answer conditional GETs with 304 and ask browsers to revalidate."""

import pytest
from django.utils.http import http_date

from monographs.models import Revision

from . import factories

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/drugs/",
    "/drugs/denosumab/",
    "/monographs/denosumab-patient-information/",
    "/drugs/denosumab.json",
    "/feeds/updates/",  # served from the cache without Django's Last-Modified: feed readers revalidate by ETag
    "/sitemap.xml",
]


@pytest.mark.parametrize("url", PAGES)
def test_a_matching_etag_answers_304(client, seeded, url):
    first = client.get(url)
    assert first.status_code == 200 and first.has_header("ETag")
    again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("url", PAGES)
def test_browsers_are_told_to_revalidate(client, seeded, url):
    assert "no-cache" in client.get(url)["Cache-Control"]


def test_a_monograph_page_is_last_modified_when_its_revision_was_published(client, seeded):
    response = client.get("/drugs/denosumab/")
    published = Revision.objects.live().get(monograph__slug="denosumab").published_at
    assert response["Last-Modified"] == http_date(published.timestamp())
    again = client.get("/drugs/denosumab/", headers={"if-modified-since": response["Last-Modified"]})
    assert again.status_code == 304


def test_publishing_a_new_revision_ends_the_304s(client, db):
    mono = factories.monograph(factories.drug("Alendronic acid"), body="Weekly.")
    first = client.get("/drugs/alendronic-acid/")
    factories.publish_new_revision(mono, body="Monthly.")
    etag = client.get("/drugs/alendronic-acid/", headers={"if-none-match": first["ETag"]})
    assert etag.status_code == 200
    since = client.get("/drugs/alendronic-acid/", headers={"if-modified-since": first["Last-Modified"]})
    assert since.status_code == 200


def test_an_old_if_modified_since_gets_the_page(client, seeded):
    response = client.get("/drugs/denosumab/", headers={"if-modified-since": http_date(0)})
    assert response.status_code == 200
