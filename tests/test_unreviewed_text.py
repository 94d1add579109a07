"""Only proof-read text reaches readers.

Brand names are edited on their drug, outside any revision, so nobody proof-reads a brand's note
("60 mg dose for osteoporosis").  The note is an editors' note: no page or export shows it, and an
author who changes it changes nothing a reader sees.  Doses reach readers through the monograph text.
"""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from monographs import workflow
from monographs.models import BrandName, Drug, ProposedChange

from .conftest import admin_form_data

WRONG_DOSE = "600 mg dose for osteoporosis"
READERS_SEE = [
    "/drugs/denosumab/",
    "/drugs/denosumab.json",
    "/drugs/denosumab/fhir.json",
    "/monographs/denosumab-patient-information/",
    "/drugs/",
    "/search/?q=prolia",
    "/feeds/updates/",
    "/sitemap.xml",
]

pytestmark = pytest.mark.django_db


def test_an_authors_unreviewed_brand_note_reaches_no_reader(client, seeded, alice, bob):
    before = {url: client.get(url).content for url in READERS_SEE}
    drug = Drug.objects.get(slug="denosumab")
    url = reverse("admin:monographs_drug_change", args=[drug.pk])
    client.force_login(alice)  # an author: the Authors group may change a drug's brand names
    data = admin_form_data(client, url)
    note = next(key for key, value in data.items() if key.endswith("-notes") and value == "60 mg dose for osteoporosis")
    response = client.post(url, {**data, note: WRONG_DOSE})
    assert response.status_code == 302, response.content[:2000]
    # A drug edit is a proposed change (tests/test_proposals.py); once approved the note is recorded.
    workflow.approve_change(ProposedChange.objects.get(), bob)
    assert BrandName.objects.get(slug="prolia").notes == WRONG_DOSE  # recorded for the editors
    client.logout()

    after = {url: client.get(url).content for url in READERS_SEE}
    assert after == before
    assert not any(WRONG_DOSE.encode() in content for content in after.values())


def test_the_proof_read_dose_is_what_the_drug_page_and_fhir_show(client, seeded):
    page = client.get("/drugs/denosumab/").content.decode()
    fhir = client.get("/drugs/denosumab/fhir.json").json()
    doses = fhir["indicationGuideline"][0]["dosingGuideline"][0]["dosage"][0]["dosage"]
    assert "Osteoporosis (Prolia®): 60 mg subcutaneously every 6 months." in doses[0]["text"]
    assert "Osteoporosis (Prolia®):</strong> 60 mg subcutaneously every 6 months." in page
    brand_list = BeautifulSoup(page, "html.parser").find("dt", string="Brand names").find_next_sibling("dd")
    assert [item.get_text() for item in brand_list.find_all("li")] == ["Prolia®", "Xgeva®"]  # names, no notes
