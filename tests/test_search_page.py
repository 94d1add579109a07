"""The search page /search/?q= and the search boxes that lead to it."""

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.django_db


def soup_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_it_lists_ranked_results_with_highlighted_snippets(client, seeded):
    soup = soup_of(client, "/search/?q=prolia")
    results = soup.find("ol", class_="results").find_all("li")
    assert results[0].find("a")["href"] == "/drugs/denosumab/"
    assert results[0].find("mark").get_text() == "Prolia"


def test_it_asks_did_you_mean_with_a_link(client, seeded):
    soup = soup_of(client, "/search/?q=prollia")
    link = soup.find(class_="did-you-mean").find("a")
    assert (link.get_text(), link["href"]) == ("Prolia", "?q=Prolia")
    assert soup.find("ol", class_="results").find("a")["href"] == "/drugs/denosumab/"


def test_the_query_is_escaped_everywhere(client, seeded):
    html = client.get("/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_says_when_nothing_matches(client, seeded):
    soup = soup_of(client, "/search/?q=zzzzqx")
    assert "0 results" in soup.find(attrs={"role": "status"}).get_text()
    assert soup.find("ol", class_="results") is None


def test_without_a_query_it_explains_what_to_type(client, seeded):
    soup = soup_of(client, "/search/")
    assert "brand name (Prolia)" in soup.get_text()
    assert soup.find(attrs={"role": "status"}) is None


def test_result_pages_are_not_indexed_by_robots(client, seeded):
    assert soup_of(client, "/search/?q=prolia").find("meta", attrs={"name": "robots"})["content"] == "noindex"


@pytest.mark.parametrize("url", ["/", "/drugs/", "/drugs/denosumab/"])
def test_every_page_has_one_search_box_that_goes_to_search(client, seeded, url):
    forms = soup_of(client, url).find_all("form", attrs={"role": "search"})
    assert len(forms) == 1
    assert forms[0]["action"] == "/search/"
    assert forms[0].find("input", attrs={"name": "q"})["id"] == forms[0].find("label")["for"]


def test_a_capped_list_says_so_and_explains_its_order(client, db):
    from monographs.search import LIMIT, reindex_monograph

    from . import factories

    for n in range(LIMIT + 2):
        reindex_monograph(factories.monograph(factories.drug(f"Quux{n:03d}ab"), body="Rarely angioedema."))
    html = client.get("/search/", {"q": "angioedema"}).content.decode()
    assert f"The first {LIMIT} results for “angioedema” — add a word to narrow them" in html
    assert "pages that only mention the words in their text follow, A–Z" in html
    reindex_monograph(factories.monograph(factories.drug("Zebrafishumab"), body="Weekly."))
    html = client.get("/search/", {"q": "zebrafishumab"}).content.decode()
    assert "1 result for “zebrafishumab”" in html and "only mention the words" not in html
