"""While the shared cache is down, each process serves its own copies of pages, never a stale one.

An outage used to render every page (two thirds of the throughput lost with Redis stopped, issue 14).
monographs/pagecache.py keeps a bounded copy of each page a process serves, tagged with the page's stamp
(live revision and content generation, read from the database on every request), and serves it only
when the shared cache fails.  DownCache (tests/broken_cache.py) is the cache of a stopped Redis.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monographs import pagecache
from monographs.models import Monograph
from monographs.pagecache import KEPT, KeptPages, content_changed

from . import factories
from .conftest import make_user
from .test_workflow import NEW_DOSE, publish_new_dose

pytestmark = pytest.mark.django_db
DOWN_CACHE = {"default": {"BACKEND": "tests.broken_cache.DownCache"}}
PAGES = ("/drugs/denosumab/", "/monographs/denosumab-patient-information/")


def served(client) -> dict[str, bytes]:
    answers = {url: client.get(url) for url in PAGES}
    assert [response.status_code for response in answers.values()] == [200] * len(PAGES)
    return {url: response.content for url, response in answers.items()}


def test_while_the_cache_is_down_pages_served_before_cost_one_query(
    client, seeded, settings, django_assert_num_queries
):
    expected = served(client)  # rendered with the cache up, and kept
    settings.CACHES = DOWN_CACHE  # Django's setting_changed handler swaps the cache backend
    with django_assert_num_queries(len(PAGES)):  # each page's stamp only: nothing rendered
        assert served(client) == expected


def test_a_page_first_asked_during_the_outage_is_rendered_once_then_kept(
    client, seeded, settings, django_assert_num_queries
):
    settings.CACHES = DOWN_CACHE
    first = client.get(PAGES[0])
    assert first.status_code == 200
    with django_assert_num_queries(1):
        assert client.get(PAGES[0]).content == first.content


def test_a_publish_shows_at_once_during_the_outage(client, seeded, settings):
    served(client)
    settings.CACHES = DOWN_CACHE
    served(client)
    publish_new_dose()
    assert NEW_DOSE.split("** ")[1] in client.get(PAGES[0]).content.decode()


def test_a_change_elsewhere_refreshes_the_kept_pages_during_the_outage(client, seeded, settings):
    """Another drug going live changes no revision of this page, only the content generation."""
    assert "Othermab" not in client.get(PAGES[0]).content.decode()
    settings.CACHES = DOWN_CACHE
    assert "Othermab" not in client.get(PAGES[0]).content.decode()
    factories.monograph(factories.drug("Othermab", classes=["Antiresorptive agents"]))
    content_changed()  # what publish, import and drug edits call, in another process as well as this one
    assert "Othermab" in client.get(PAGES[0]).content.decode()


def test_an_unpublished_page_is_not_served_from_a_copy(client, seeded, settings):
    served(client)
    settings.CACHES = DOWN_CACHE
    live = Monograph.objects.get(slug="denosumab-patient-information").revisions.live().get()
    live.unpublish(make_user("carol", "Publishers"), "Withdrawn")
    assert client.get(PAGES[1]).status_code == 404


def test_with_the_cache_up_the_copies_are_not_consulted(client, seeded):
    """A cleared cache means an uncached page (what `make bench` measures), whatever this process kept."""
    client.get(PAGES[0])
    assert len(KEPT) == 1
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        client.get(PAGES[0])
    assert len(queries) > 1  # rendered: more than the stamp was read


def test_copies_expire_like_the_shared_cache(client, seeded, settings, monkeypatch):
    settings.CACHES = DOWN_CACHE
    monkeypatch.setattr(pagecache, "PAGE_SECONDS", -1)  # every copy kept from now on is out of date at once
    client.get(PAGES[0])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGES[0]).status_code == 200
    assert len(queries) > 1  # rendered again: more than the stamp was read


def test_the_copies_are_bounded_by_size_least_recently_served_first(settings):
    settings.KEPT_PAGES_BYTES = 3 * (KeptPages.OVERHEAD + 10 + 1000)
    kept = KeptPages()
    for n in range(5):
        kept.keep(f"key-{n:05}", (n,), b"x" * 1000)
        assert kept.size <= settings.KEPT_PAGES_BYTES
    assert len(kept) == 3
    assert [kept.get(f"key-{n:05}", (n,)) is not None for n in range(5)] == [False, False, True, True, True]
    kept.get("key-00002", (2,))  # served again: now the most recent
    kept.keep("key-00005", (5,), b"y" * 1000)
    assert kept.get("key-00002", (2,)) is not None and kept.get("key-00003", (3,)) is None
    kept.keep("key-00006", (6,), b"z" * 10**6)  # larger than the whole budget: not kept, nothing dropped
    assert len(kept) == 3 and kept.get("key-00006", (6,)) is None
    assert kept.get("key-00002", (1,)) is None  # another stamp: not this page any more
    settings.KEPT_PAGES_BYTES = 0
    kept.keep("key-00002", (2,), b"x")
    assert kept.get("key-00002", (2,)) is None


def test_pages_kept_during_an_outage_stay_within_the_budget(client, seeded, settings):
    settings.CACHES = DOWN_CACHE
    one_page = len(client.get(PAGES[0]).content)
    settings.KEPT_PAGES_BYTES = one_page + KeptPages.OVERHEAD + 100  # room for one page
    KEPT.clear()
    for url in PAGES * 3:
        assert client.get(url).status_code == 200
        assert KEPT.size <= settings.KEPT_PAGES_BYTES and len(KEPT) <= 1
