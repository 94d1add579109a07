"""schema.org JSON-LD and canonical links on every monograph page."""

import json

import pytest
from bs4 import BeautifulSoup

from monographs.models import Revision

from . import factories

pytestmark = pytest.mark.django_db

PATIENT_PAGE = "/monographs/denosumab-patient-information/"


def graph_of(client, url):
    soup = BeautifulSoup(client.get(url).content, "html.parser")
    scripts = soup.find_all("script", attrs={"type": "application/ld+json"})
    assert len(scripts) == 1
    data = json.loads(scripts[0].string)
    assert data["@context"] == "https://schema.org"
    return {node["@type"]: node for node in data["@graph"]}


def test_the_drug_is_described_with_its_names_and_classes(client, seeded):
    drug = graph_of(client, "/drugs/denosumab/")["Drug"]
    assert drug["nonProprietaryName"] == "Denosumab"
    assert drug["proprietaryName"] == ["Prolia®", "Xgeva®"]
    assert [c["name"] for c in drug["drugClass"]] == ["Antiresorptive agents", "RANK ligand (RANKL) inhibitor"]


def test_the_page_carries_the_byline_from_the_sign_off_records(client, seeded):
    page = graph_of(client, PATIENT_PAGE)["MedicalWebPage"]
    assert page["author"] == [{"@type": "Person", "name": "Angelika Sebald"}]
    assert page["reviewedBy"] == [{"@type": "Person", "name": "David A. Mitchell"}]
    assert page["lastReviewed"].startswith("2018-11-11")
    assert page["dateModified"].startswith("2018-11-11")
    assert page["url"] == "http://testserver" + PATIENT_PAGE
    assert page["about"] == {"@id": "http://testserver/monographs/denosumab-patient-information/#drug"}


def test_the_faqs_are_a_faq_page(client, seeded):
    faq = graph_of(client, "/drugs/denosumab/")["FAQPage"]
    assert len(faq["mainEntity"]) == 10
    first = faq["mainEntity"][0]
    assert first["name"] == "What is the recommended dosage for Denosumab?"
    assert "60mg SC every 6 months" in first["acceptedAnswer"]["text"]
    assert "<" not in first["acceptedAnswer"]["text"]


def test_content_cannot_break_out_of_the_script(client, db):
    hostile = 'Dose </script><script>alert("x")</script> <!-- & more'
    factories.monograph(factories.drug("Alendronic acid"), summary=hostile, body="text")
    html = client.get("/drugs/alendronic-acid/").content.decode()
    script = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script and ">" not in script
    page = next(node for node in json.loads(script)["@graph"] if node["@type"] == "MedicalWebPage")
    assert page["description"] == hostile


def test_a_page_without_a_proof_reader_claims_no_review(client, db):
    factories.monograph(factories.drug("Alendronic acid"), body="text", proof_reader=None)
    page = graph_of(client, "/drugs/alendronic-acid/")["MedicalWebPage"]
    assert "reviewedBy" not in page and "lastReviewed" not in page


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("/drugs/denosumab/", "http://testserver/drugs/denosumab/"),
        (PATIENT_PAGE, "http://testserver" + PATIENT_PAGE),
        ("/drugs/", "http://testserver/drugs/"),
    ],
)
def test_pages_name_their_canonical_address(client, seeded, url, canonical):
    soup = BeautifulSoup(client.get(url + "?utm_source=x").content, "html.parser")
    assert soup.find("link", rel="canonical")["href"] == canonical


def test_only_the_live_revision_is_described(client, db):
    mono = factories.monograph(factories.drug("Alendronic acid"), summary="Live summary.", body="text")
    factories.revision(mono, status=Revision.Status.DRAFT, summary="Draft summary.")
    assert graph_of(client, "/drugs/alendronic-acid/")["MedicalWebPage"]["description"] == "Live summary."
