"""A reader finds Denosumab with the search box, spelled right, by brand, or misspelt."""

import pytest

from .browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("typed", ["prolia", "denusomab"])
@pytest.mark.parametrize(("start", "box"), [("/", "#home-search-q"), ("/drugs/", "#site-search-q")])
def test_the_search_box_finds_denosumab(page_at, live_server, seeded, typed, start, box):
    page = page_at(390)
    page.goto(live_server.url + start)
    page.locator(box).fill(typed)
    page.locator(box).press("Enter")
    page.wait_for_url("**/search/?q=*")
    first = page.locator("ol.results li h2 a").first
    assert first.inner_text() in ("Denosumab", "Denusomab")
    screenshot(page, f"search-{typed}-{start.strip('/') or 'home'}")
    first.click()
    assert page.locator("h1").inner_text() in ("Denosumab", "Denusomab")


def test_a_misspelling_is_offered_its_correction(page_at, live_server, seeded):
    page = page_at(1280)
    page.goto(live_server.url + "/search/?q=denusomab")
    page.get_by_role("link", name="Denosumab").first.click()
    assert page.url.endswith("/search/?q=Denosumab")
    assert page.locator("ol.results li h2 a").first.inner_text() == "Denosumab"
