"""The whole-page cache of monograph pages: one query on a hit, never stale after a change."""

import pytest

from monographs.models import Comparison, DrugClass, Monograph
from monographs.pagecache import content_changed

from . import factories
from .conftest import make_user
from .test_workflow import NEW_DOSE, publish_new_dose

pytestmark = pytest.mark.django_db


def test_a_cached_drug_page_costs_one_query(client, seeded, django_assert_num_queries):
    first = client.get("/drugs/denosumab/").content
    with django_assert_num_queries(1):
        again = client.get("/drugs/denosumab/")
    assert again.status_code == 200 and again.content == first


def test_publishing_through_the_workflow_shows_at_once(client, seeded):
    client.get("/drugs/denosumab/")
    publish_new_dose()
    assert NEW_DOSE.split("** ")[1] in client.get("/drugs/denosumab/").content.decode()


def test_a_change_elsewhere_refreshes_related_lists(client, seeded):
    assert "Othermab" not in client.get("/drugs/denosumab/").content.decode()
    other = factories.drug("Othermab", classes=["Antiresorptive agents"])
    factories.monograph(other)
    content_changed()  # what publish, import and drug edits call
    assert "Othermab" in client.get("/drugs/denosumab/").content.decode()


def test_unpublishing_removes_the_page_at_once(client, seeded):
    client.get("/monographs/denosumab-patient-information/")
    live = Monograph.objects.get(slug="denosumab-patient-information").revisions.live().get()
    live.unpublish(make_user("carol", "Publishers"), "Withdrawn")
    assert client.get("/monographs/denosumab-patient-information/").status_code == 404


def test_a_page_cached_for_one_host_is_not_served_to_another(client, seeded):
    """With two allowed hosts, each gets a page whose canonical link and JSON-LD name its own host."""
    first = client.get("/drugs/denosumab/", HTTP_HOST="localhost").content.decode()
    assert 'href="http://localhost/drugs/denosumab/"' in first
    other = client.get("/drugs/denosumab/", HTTP_HOST="127.0.0.1").content.decode()
    assert 'href="http://127.0.0.1/drugs/denosumab/"' in other
    assert "localhost" not in other
    again = client.get("/drugs/denosumab/", HTTP_HOST="localhost").content.decode()
    assert again == first


def list_pages() -> list[str]:
    """The pages that list content rather than show one revision: cached under the content generation."""
    comparison = Comparison.objects.live().order_by("slug").first()
    drug_class = DrugClass.objects.get(slug="antiresorptive-agents")
    return ["/", "/drugs/", "/topics/", drug_class.get_absolute_url(), comparison.get_absolute_url()]


def test_a_cached_list_page_costs_one_query(client, seeded, django_assert_num_queries):
    """Home, the A–Z indexes, a class and a comparison: uncached, the A–Z of drugs of a 20,000-monograph
    site took 3.9 s a request, for anyone who asked."""
    for url in list_pages():
        first = client.get(url)
        assert first.status_code == 200, url
        with django_assert_num_queries(1):
            again = client.get(url)
        assert again.content == first.content, url


def test_a_new_drug_shows_on_the_list_pages_once_announced(client, seeded):
    before = {url: client.get(url).content.decode() for url in list_pages()}
    assert not any("Othermab" in page for page in before.values())
    other = factories.drug("Othermab", classes=["Antiresorptive agents"])
    factories.monograph(other)
    content_changed()  # what publish, import and approved drug and class changes call
    for url in ("/", "/drugs/", DrugClass.objects.get(slug="antiresorptive-agents").get_absolute_url()):
        assert "Othermab" in client.get(url).content.decode(), url


def test_a_list_page_is_cached_per_host(client, seeded):
    first = client.get("/drugs/", HTTP_HOST="localhost").content.decode()
    other = client.get("/drugs/", HTTP_HOST="127.0.0.1").content.decode()
    assert 'href="http://localhost/drugs/"' in first and 'href="http://127.0.0.1/drugs/"' in other
