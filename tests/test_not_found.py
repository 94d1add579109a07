"""The 404 page: it says what happened, offers search prefilled from the address, and close matches."""

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.django_db


def test_it_answers_404_with_a_search_box_prefilled_from_the_address(client, seeded):
    response = client.get("/drugs/prollia-injection/")
    assert response.status_code == 404
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("h1").get_text() == "Page not found"
    form = soup.find("form", attrs={"role": "search"})
    assert form["action"] == "/search/"
    assert form.find("input", attrs={"name": "q"})["value"] == "prollia injection"


def test_it_offers_close_matches_and_did_you_mean(client, seeded):
    soup = BeautifulSoup(client.get("/drugs/xgiva/").content, "html.parser")
    matches = soup.find("section", attrs={"aria-labelledby": "close-matches"})
    assert "/drugs/denosumab/" in [a["href"] for a in matches.find_all("a")]
    assert soup.find(class_="did-you-mean").find("a").get_text() == "Xgeva"


def test_an_address_with_nothing_like_it_still_offers_search(client, seeded):
    response = client.get("/nothing/zzzzqx")
    assert response.status_code == 404
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("section", attrs={"aria-labelledby": "close-matches"}) is None
    assert soup.find("input", attrs={"name": "q"}) is not None


def test_legacy_addresses_still_redirect(client, seeded):
    response = client.get("/treatment/other/medication/miscellaneous/denusomab")
    assert response.status_code == 301


def test_close_matches_come_from_any_word_of_the_address(client, seeded):
    soup = BeautifulSoup(client.get("/drugs/xgiva-injection/").content, "html.parser")
    matches = soup.find("section", attrs={"aria-labelledby": "close-matches"})
    assert "/drugs/denosumab/" in [a["href"] for a in matches.find_all("a")]


def test_an_unrelated_address_offers_no_page_that_merely_mentions_its_words(client, seeded):
    """Search finds "exist" in a monograph's text, but no page is named anything like it."""
    from monographs.search import search

    assert search("exist").hits
    soup = BeautifulSoup(client.get("/this/does/not/exist/").content, "html.parser")
    assert soup.find("section", attrs={"aria-labelledby": "close-matches"}) is None
