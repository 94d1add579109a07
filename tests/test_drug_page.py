"""The drug page: contents, banned notice, byline, related drugs and the comparisons a drug appears in."""

import pytest
from bs4 import BeautifulSoup

from monographs.models import Drug, Monograph

from . import factories

pytestmark = pytest.mark.django_db


def soup_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_the_contents_list_links_every_section(client):
    drug = factories.drug("Alendronic acid")
    factories.monograph(drug, body="## Uses\n\ntext\n\n### In men & women\n\ntext\n\n## Dose\n\ntext", faqs=1)
    soup = soup_of(client, "/drugs/alendronic-acid/")
    toc = soup.find("nav", attrs={"aria-label": "Contents"})
    links = [(a.get_text(), a["href"]) for a in toc.find_all("a")]
    assert links == [("Uses", "#uses"), ("Dose", "#dose"), ("Frequently asked questions", "#faqs")]
    for _, href in links:
        assert soup.find(id=href[1:]) is not None
    assert soup.find(id="in-men-women").get_text() == "In men & women"  # subsections: in the text, not listed


def test_a_banned_drug_carries_a_notice(client):
    factories.monograph(factories.drug("Rofecoxib", banned=True), body="## Uses\n\nNone.")
    notice = soup_of(client, "/drugs/rofecoxib/").find(id="banned")
    assert "Rofecoxib is banned or withdrawn" in notice.get_text()


def test_a_drug_in_use_has_no_banned_notice(client):
    factories.monograph(factories.drug("Alendronic acid"), body="## Uses\n\ntext")
    assert soup_of(client, "/drugs/alendronic-acid/").find(id="banned") is None


def test_the_byline_names_author_proof_reader_and_next_review(client):
    factories.monograph(factories.drug("Alendronic acid"), body="text")
    text = " ".join(soup_of(client, "/drugs/alendronic-acid/").find(class_="byline").get_text().split())
    assert "Authored by Ada Author · Proof-read by Pat Proof" in text
    assert "Next review March 2027" in text


def test_it_lists_related_drugs_of_the_same_class_with_live_content(client):
    alendronate = factories.drug("Alendronic acid", classes=["Bisphosphonates"])
    factories.monograph(alendronate, body="text")
    factories.monograph(factories.drug("Zoledronic acid", classes=["Bisphosphonates"]), body="text")
    unpublished = factories.drug("Risedronic acid", classes=["Bisphosphonates"])
    factories.monograph(unpublished, status="draft", body="text")
    factories.monograph(factories.drug("Denosumab", classes=["RANKL inhibitors"]), body="text")
    section = soup_of(client, "/drugs/alendronic-acid/").find("section", attrs={"aria-labelledby": "related-drugs"})
    assert [a.get_text() for a in section.find_all("a")] == ["Zoledronic acid"]
    assert "More drugs" not in section.get_text()


def test_a_large_class_lists_the_first_related_drugs_and_sends_readers_to_the_class_pages(client, monkeypatch):
    monkeypatch.setattr("monographs.views.RELATED_SHOWN", 3)
    monkeypatch.setattr("monographs.models.RELATED_SHOWN", 3)
    statin = factories.drug("Atorvastatin", classes=["Statins", "Lipid-lowering agents"])
    factories.monograph(statin, body="text")
    for name in ("Simvastatin", "Fluvastatin", "Rosuvastatin", "Pravastatin", "Lovastatin"):
        factories.monograph(factories.drug(name, classes=["Statins"]), body="text")
    # The query itself stops after one more than it shows (LIMIT), not the page after reading them all.
    around = Drug.objects.surroundings(statin, statin.monographs.get())
    assert [drug.name for drug in around.related_drugs] == ["Fluvastatin", "Lovastatin", "Pravastatin", "Rosuvastatin"]
    section = soup_of(client, "/drugs/atorvastatin/").find("section", attrs={"aria-labelledby": "related-drugs"})
    links = [(a.get_text(), a["href"]) for a in section.find_all("a")]
    assert links == [
        ("Fluvastatin", "/drugs/fluvastatin/"),
        ("Lovastatin", "/drugs/lovastatin/"),
        ("Pravastatin", "/drugs/pravastatin/"),
        ("all Lipid-lowering agents", "/classes/lipid-lowering-agents/"),
        ("all Statins", "/classes/statins/"),
    ]
    assert "More drugs of the same class" in section.get_text()


def test_it_lists_live_comparisons_the_drug_appears_in(client):
    alendronate = factories.drug("Alendronic acid")
    denosumab = factories.drug("Denosumab")
    factories.monograph(alendronate, body="text")
    other = factories.monograph(denosumab, body="text")
    factories.comparison(other.revisions.get(), "denosumab-vs-alendronate", [denosumab, alendronate])
    draft = factories.revision(other, status="draft")
    factories.comparison(draft, "draft-table", [denosumab, alendronate])
    section = soup_of(client, "/drugs/alendronic-acid/").find("section", attrs={"aria-labelledby": "comparisons"})
    assert [a["href"] for a in section.find_all("a")] == ["/compare/denosumab-vs-alendronate/"]


def test_it_lists_the_other_live_monographs_about_the_drug(client):
    drug = factories.drug("Denosumab")
    factories.monograph(drug, body="text")
    factories.monograph(
        drug, primary=False, kind=Monograph.Kind.PATIENT, slug="denosumab-patients", title="Denosumab for patients"
    )
    factories.monograph(drug, primary=False, slug="denosumab-draft", status="draft", title="Draft")
    section = soup_of(client, "/drugs/denosumab/").find("section", attrs={"aria-labelledby": "other-monographs"})
    assert [a.get_text() for a in section.find_all("a")] == ["Denosumab for patients"]


def test_faq_answers_are_collapsible_and_rendered(client):
    factories.monograph(factories.drug("Alendronic acid"), body="text", faqs=2)
    details = soup_of(client, "/drugs/alendronic-acid/").find_all("details")
    assert [d.summary.get_text() for d in details] == ["Question 1?", "Question 2?"]
    assert details[0].find("strong").get_text() == "1"
