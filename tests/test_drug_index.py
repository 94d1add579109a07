"""The drugs' A–Z: one page while it is short, a page per letter beyond AZ_ONE_PAGE entries (at 20,000
monographs the single page was 5 MB of HTML and took 4 s to build)."""

import pytest
from bs4 import BeautifulSoup

from . import factories

pytestmark = pytest.mark.django_db


def soup(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.content, "html.parser")


def letter_links(page) -> dict[str, str]:
    return {a.get_text(): a["href"] for a in page.find("main").select(".az-letters a")}


def entries(page) -> list[str]:
    return [" ".join(li.get_text().split()) for li in page.find("main").select("section li")]


def test_a_short_a_to_z_is_one_page_with_anchors(client, seeded):
    page = soup(client, "/drugs/")
    assert letter_links(page)["D"] == "/drugs/#letter-D"
    assert "Prolia® (brand) → Denosumab" in entries(page)
    assert client.get("/drugs/a-z/d/").status_code == 404  # no letter pages while it fits on one
    assert letter_links(soup(client, "/"))["D"] == "/drugs/#letter-D"


def test_a_long_a_to_z_has_a_page_per_letter(client, seeded, monkeypatch):
    monkeypatch.setattr("monographs.views.AZ_ONE_PAGE", 3)
    factories.monograph(factories.drug("5-Fluorouracil"), body="text")
    index = soup(client, "/drugs/")
    links = letter_links(index)
    assert links["D"] == "/drugs/a-z/d/" and links["P"] == "/drugs/a-z/p/" and links["#"] == "/drugs/a-z/other/"
    assert list(links)[-1] == "#"  # names that start with no letter come last
    assert entries(index) == []  # the letters only
    assert letter_links(soup(client, "/"))["D"] == "/drugs/a-z/d/"

    d = soup(client, "/drugs/a-z/d/")
    assert d.find("h1").get_text() == "Drugs A–Z: D"
    assert d.select_one('.az-letters a[aria-current="page"]').get_text() == "D"
    assert "Denosumab" in entries(d)
    assert all(entry[0] == "D" for entry in entries(d))
    assert not any("Denusomab" in entry for entry in entries(d))  # misspellings stay out, page by page too
    assert "Prolia® (brand) → Denosumab" in entries(soup(client, "/drugs/a-z/p/"))
    assert entries(soup(client, "/drugs/a-z/other/")) == ["5-Fluorouracil"]
    empty = soup(client, "/drugs/a-z/q/")  # a letter without names: a page of its own too, so it is cached
    assert entries(empty) == [] and "No drug, brand name or synonym starts with Q" in empty.get_text()


def test_a_letter_address_is_refused_before_the_a_to_z_is_read(client, seeded, monkeypatch):
    """The address space is anyone's: /drugs/a-z/<anything>/ must not cost an A–Z build (0.2 s at 20,000
    monographs) unless it is one of the 27 letter pages, which are cached.  (It costs what any 404 does.)"""
    monkeypatch.setattr("monographs.views.AZ_ONE_PAGE", 2)

    def read():
        raise AssertionError("the A–Z was read for an address that is no letter")

    monkeypatch.setattr("monographs.views._az_names", read)
    for missing in ("/drugs/a-z/dd/", "/drugs/a-z/%23/", "/drugs/a-z/Q/", "/drugs/a-z/%C3%A9/", "/drugs/a-z/zzzzzz/"):
        assert client.get(missing).status_code == 404, missing


def test_accented_names_go_under_their_letter(client, seeded, monkeypatch):
    monkeypatch.setattr("monographs.views.AZ_ONE_PAGE", 2)
    factories.monograph(factories.drug("Ésomeprazole"), body="text")
    factories.monograph(factories.drug("β-Lactamase"), body="text")
    assert "Ésomeprazole" in entries(soup(client, "/drugs/a-z/e/"))
    assert "β-Lactamase" in entries(soup(client, "/drugs/a-z/other/"))
