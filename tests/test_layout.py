"""The base layout every public page shares: language, landmarks, skip link, focus and print styles."""

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

PAGES = ["/", "/drugs/", "/drugs/denosumab/", "/classes/antiresorptive-agents/"]


def soup_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


@pytest.mark.parametrize("url", PAGES)
def test_it_declares_the_language_and_the_viewport(client, seeded, url):
    soup = soup_of(client, url)
    assert soup.html["lang"] == "en-GB"
    assert "width=device-width" in soup.find("meta", attrs={"name": "viewport"})["content"]


@pytest.mark.parametrize("url", PAGES)
def test_the_skip_link_comes_first_and_targets_main(client, seeded, url):
    soup = soup_of(client, url)
    first_link = soup.body.find("a")
    assert first_link["href"] == "#main"
    assert soup.find(id="main").name == "main"


@pytest.mark.parametrize("url", PAGES)
def test_it_has_one_of_each_landmark(client, seeded, url):
    soup = soup_of(client, url)
    assert len(soup.find_all("main")) == 1
    assert len(soup.body.find_all("header", recursive=False)) == 1
    assert len(soup.body.find_all("footer", recursive=False)) == 1
    assert soup.find("nav", attrs={"aria-label": "Site"})


def test_it_links_a_print_stylesheet_that_hides_the_chrome(client, seeded):
    soup = soup_of(client, "/drugs/denosumab/")
    link = soup.find("link", attrs={"media": "print"})
    assert link["href"].endswith("css/print.css")
    css = Path(finders.find("css/print.css")).read_text()
    assert ".site-header" in css and ".toc" in css


def test_focus_is_always_visible():
    css = Path(finders.find("css/site.css")).read_text()
    assert ":focus-visible { outline: 3px solid" in css
    assert "outline: none" not in css.replace("main:focus, main:focus-visible { outline: none", "")
