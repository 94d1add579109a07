"""The seed content on the public pages: every sentence, every table cell, no debris, working redirects."""

import re

import pytest
from bs4 import BeautifulSoup

from monographs.importers.cleaning import repair_mojibake
from monographs.importers.sources import split_front_matter

from .conftest import SEED_A, SEED_B

pytestmark = pytest.mark.django_db

PAGE_A = "/monographs/denosumab-patient-information/"
PAGE_B = "/drugs/denosumab/"
COMPARISON = "/compare/comparison-of-denusomab-and-bisphosphonates/"


def words(text: str) -> str:
    """Whitespace-normalised text; `get_text(" ")` puts spaces before punctuation that follows a tag."""
    text = " ".join(text.split())
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([.,;:!?)])", r"\1", text))


def page_text(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return words(BeautifulSoup(response.content, "html.parser").get_text(" "))


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", words(text)) if len(s) > 3]


def markdown_sentences(text: str) -> list[str]:
    """Sentences of a Markdown text, block by block (a heading or list item is a block of its own)."""
    found = []
    for line in text.splitlines():
        line = re.sub(r"^#{1,6}\s+|^\s*[*-]\s+", "", line).replace("**", "")
        found += sentences(line)
    return found


def test_every_sentence_of_seed_a_is_on_its_pages(client, seeded):
    front, body = split_front_matter(SEED_A, SEED_A.read_text(encoding="utf-8"))
    source = words(BeautifulSoup(body, "html.parser").get_text(" "))
    shown = page_text(client, PAGE_A) + " " + page_text(client, COMPARISON)
    missing = [s for s in sentences(source) if s not in shown]
    assert missing == []
    assert front["title"] in shown


def test_every_sentence_of_seed_b_is_on_its_page(client, seeded):
    front, body = split_front_matter(SEED_B, repair_mojibake(SEED_B.read_text(encoding="utf-8")))
    body = body.split("## **FAQs (Frequently Asked Questions)**")[0]  # the FAQs come from the front matter
    shown = page_text(client, PAGE_B)
    expected = markdown_sentences(body) + sentences(front["description"])
    for faq in front["faqs"]:
        expected += sentences(faq["a"].removeprefix("A:**"))
        expected.append(words(faq["q"].split("**")[0]))
    missing = [s for s in expected if s not in shown]
    assert missing == []


def test_all_23_cells_of_the_seed_table_are_in_a_rendered_table(client, seeded):
    _, body = split_front_matter(SEED_A, SEED_A.read_text(encoding="utf-8"))
    source_cells = [words(c.get_text(" ")) for c in BeautifulSoup(body, "html.parser").find_all(["th", "td"])]
    source_cells = [c for c in source_cells if c]
    assert len(source_cells) == 23
    for url in (PAGE_A, COMPARISON):
        table = BeautifulSoup(client.get(url).content, "html.parser").find("table")
        shown = [words(c.get_text(" ")) for c in table.find_all(["th", "td"])]
        assert [c for c in shown if c] == source_cells


def test_the_comparison_table_is_accessible(client, seeded):
    table = BeautifulSoup(client.get(PAGE_A).content, "html.parser").find("table")
    assert table.find("caption").get_text() == "Table 1 Comparison of denusomab and bisphosphonates"
    assert [th["scope"] for th in table.find("thead").find_all("th")] == ["col", "col"]
    assert all(row.find("th")["scope"] == "row" for row in table.find("tbody").find_all("tr"))


@pytest.mark.parametrize("url", [PAGE_A, PAGE_B, COMPARISON])
def test_no_debris_or_mojibake_reaches_a_page(client, seeded, url):
    html = client.get(url).content.decode()
    text = page_text(client, url)
    assert "速" not in html
    assert "**" not in text
    assert "A:**" not in html


def test_registered_mark_follows_the_brand_names(client, seeded):
    text = page_text(client, PAGE_B)
    assert "Prolia®" in text and "Xgeva®" in text
    assert (
        re.search(r"(Prolia|Xgeva)(?!®)\b", text.replace("Prolia (osteoporosis)", "").replace("Xgeva (cancer)", ""))
        is None
    )


def test_the_drug_page_shows_brands_class_faqs_byline_and_other_monographs(client, seeded):
    soup = BeautifulSoup(client.get(PAGE_B).content, "html.parser")
    text = words(soup.get_text(" "))
    assert soup.find("h1").get_text() == "Denosumab"
    assert "Brand names Prolia® Xgeva®" in text  # names only: a brand's note is not proof-read
    assert "RANK ligand (RANKL) inhibitor" in text
    assert len(soup.find_all("details")) == 10
    assert soup.find("a", href=PAGE_A).get_text() == "Denusomab"
    assert "Last updated 22 September 2025" in text


def test_the_byline_credits_the_sources_people_and_dates(client, seeded):
    text = page_text(client, PAGE_A)
    assert "Authored by Angelika Sebald · Proof-read by David A. Mitchell · Last reviewed 11 November 2018" in text


def test_a_source_uri_redirects_to_its_content(client, seeded):
    for path in (
        "/treatment/other/medication/miscellaneous/denusomab",
        "/treatment/other/medication/miscellaneous/denusomab/",
    ):
        response = client.get(path)
        assert response.status_code == 301
        assert response["Location"] == PAGE_A
        assert client.get(response["Location"]).status_code == 200


def test_an_alias_slug_redirects_to_the_drug(client, seeded):
    response = client.get("/drugs/denusomab/")
    assert response.status_code == 301
    assert response["Location"] == "/drugs/denosumab/"


def test_a_brand_slug_redirects_to_the_drug(client, seeded):
    response = client.get("/drugs/prolia/")
    assert (response.status_code, response["Location"]) == (301, "/drugs/denosumab/")


def test_the_primary_monograph_has_one_address(client, seeded):
    response = client.get("/monographs/denosumab/")
    assert (response.status_code, response["Location"]) == (301, "/drugs/denosumab/")


def test_unknown_pages_are_404(client, seeded):
    assert client.get("/drugs/nothing-here/").status_code == 404
    assert client.get("/treatment/other/unknown").status_code == 404
    assert client.get("/compare/nothing/").status_code == 404


def test_the_a_to_z_points_brands_to_their_drug_and_keeps_misspellings_out(client, seeded):
    text = page_text(client, "/drugs/")
    assert "Prolia® (brand) → Denosumab" in text
    assert "Denusomab (misspelling)" not in text  # a reader must not learn a misspelling as a name
    response = client.get("/drugs/denusomab/")  # ...which still redirects
    assert (response.status_code, response["Location"]) == (301, "/drugs/denosumab/")


def test_class_page_lists_its_drugs(client, seeded):
    assert "Denosumab" in page_text(client, "/classes/antiresorptive-agents/")


def test_home_lists_recent_monographs(client, seeded):
    text = page_text(client, "/")
    assert "Denosumab" in text and "Denusomab" in text
