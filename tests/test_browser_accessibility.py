"""Every public template in chromium at phone and desktop width: screenshots, no sideways scroll, axe-core clean."""

import pytest

from .browser import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# One address per public template (and per state of a template a reader meets).
PAGES = {
    "home": "/",
    "drug-index": "/drugs/",
    "drug": "/drugs/denosumab/",
    "monograph": "/monographs/denosumab-patient-information/",
    "class": "/classes/antiresorptive-agents/",
    "comparison": "/compare/comparison-of-denusomab-and-bisphosphonates/",
    "search-empty": "/search/",
    "search-results": "/search/?q=prollia",
    "search-nothing": "/search/?q=zzzzqx",
    "not-found": "/drugs/xgiva-injection/",
}


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", PAGES)
def test_the_page_is_accessible_at_this_width(page_at, live_server, seeded, name, width):
    page = page_at(width)
    response = page.goto(live_server.url + PAGES[name])
    assert response.status == (404 if name == "not-found" else 200)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"{name}-{width}")
    assert axe_violations(page) == []


def test_the_skip_link_appears_on_focus_and_moves_to_main(page_at, live_server, seeded):
    page = page_at(390)
    page.goto(live_server.url + "/drugs/denosumab/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.bounding_box()["x"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_focus_is_visible_on_links(page_at, live_server, seeded):
    page = page_at(1280)
    page.goto(live_server.url + "/drugs/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_printing_opens_every_faq_and_hides_the_chrome(page_at, live_server, seeded):
    page = page_at(1280)
    page.goto(live_server.url + "/drugs/denosumab/")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details:not([open])").count() == 0


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("url", ["/drugs/", "/drugs/a-z/d/"])
def test_the_a_to_z_a_letter_a_page_is_accessible(page_at, live_server, seeded, monkeypatch, url, width):
    """The A–Z of a large site: the letters alone, then one letter (views.AZ_ONE_PAGE below the seed's 3 names)."""
    monkeypatch.setattr("monographs.views.AZ_ONE_PAGE", 2)
    page = page_at(width)
    assert page.goto(live_server.url + url).status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"drug-index-{'letters' if url == '/drugs/' else 'd'}-{width}")
    assert axe_violations(page) == []
