"""/feeds/updates/: Atom, newest first, published revisions with their change notes."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from monographs.models import Revision
from monographs.pagecache import content_changed

from . import factories

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def feed_entries(client):
    response = client.get("/feeds/updates/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def test_it_lists_published_revisions_newest_first_with_change_notes(client, db):
    mono = factories.monograph(factories.drug("Alendronic acid"), body="text")
    factories.publish_new_revision(mono, body="new", published_at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC))
    Revision.objects.filter(monograph=mono, number=2).update(change_note="Dose for <b>men</b> added & checked")
    factories.revision(mono, status=Revision.Status.DRAFT)
    entries = feed_entries(client)
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Alendronic acid — Drug reference, revision 2",
        "Alendronic acid — Drug reference, revision 1",
    ]
    assert entries[0].findtext(f"{ATOM}summary") == "<p>Dose for &lt;b&gt;men&lt;/b&gt; added &amp; checked</p>"
    assert entries[0].find(f"{ATOM}link").get("href") == "http://testserver/drugs/alendronic-acid/"
    assert entries[0].findtext(f"{ATOM}author/{ATOM}name") == "Ada Author"
    assert entries[0].findtext(f"{ATOM}id") != entries[1].findtext(f"{ATOM}id")


def test_unpublished_monographs_leave_the_feed(client, db):
    mono = factories.monograph(factories.drug("Alendronic acid"), body="text")
    mono.revisions.update(status=Revision.Status.UNPUBLISHED)
    assert feed_entries(client) == []


def test_every_page_advertises_the_feed(client, seeded):
    html = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/atom+xml"' in html


@pytest.mark.django_db
def test_control_characters_in_content_do_not_break_the_feed(client):
    from . import factories

    factories.monograph(factories.drug("Controlamab"), title="Bad\x01title", summary="x\x0by")
    response = client.get("/feeds/updates/")
    assert response.status_code == 200
    assert "Badtitle" in response.content.decode()


def test_readers_never_see_an_import_file_name(client, seeded):
    """The file an imported revision came from is provenance for editors (the admin), not for readers."""
    files = list(Revision.objects.exclude(source_file="").values_list("source_file", flat=True))
    assert files
    pages = ["/feeds/updates/", "/drugs/denosumab/", "/drugs/denosumab.json", "/"]
    pages += [revision.monograph.get_absolute_url() for revision in Revision.objects.live().select_related("monograph")]
    for url in pages:
        text = client.get(url).content.decode()
        for name in files:
            assert name not in text, (url, name)


def test_the_feed_is_cached_until_content_changes(client, seeded, django_assert_num_queries):
    """Feed readers poll it; at 20,000 monographs it cost 0.1 s a request."""
    before = feed_entries(client)
    with django_assert_num_queries(1):
        feed_entries(client)
    factories.monograph(factories.drug("Othermab"), body="text")
    content_changed()  # what publish, import and approved changes call
    assert len(feed_entries(client)) == len(before) + 1
